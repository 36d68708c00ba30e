import Testing
@testable import BerthEngine

/// The image store asks which containers use an image; the index answers from changes made
/// one container at a time (it is no longer rebuilt from every record at each change).
struct ImageUsersIndexTests {
    @Test func followsEachContainerAsItChanges() {
        let index = ImageUsersIndex()
        index.set("b", .init(images: ["sha256:app"], running: true))
        index.set("a", .init(images: ["sha256:app", "sha256:mounted"], running: false))
        index.set("c", .init(images: ["sha256:other"], running: true))
        #expect(index.users(of: "sha256:app").running == ["b"])
        #expect(index.users(of: "sha256:app").stopped == ["a"])
        #expect(index.users(of: "sha256:mounted").stopped == ["a"])
        #expect(index.users(of: "sha256:none").isEmpty)

        // b stops, a starts: each moves between the lists of every image it uses.
        index.set("b", .init(images: ["sha256:app"], running: false))
        index.set("a", .init(images: ["sha256:app", "sha256:mounted"], running: true))
        #expect(index.users(of: "sha256:app").running == ["a"])
        #expect(index.users(of: "sha256:app").stopped == ["b"])
        #expect(index.users(of: "sha256:mounted").running == ["a"])

        // A container whose images change drops the old ones.
        index.set("a", .init(images: ["sha256:app"], running: true))
        #expect(index.users(of: "sha256:mounted").isEmpty)

        // Removed containers hold nothing; the others are untouched.
        index.remove("a")
        index.remove("b")
        #expect(index.users(of: "sha256:app").isEmpty)
        #expect(index.users(of: "sha256:other").running == ["c"])
        index.remove("never-known")
        #expect(index.users(of: "sha256:other").running == ["c"])
    }
}
