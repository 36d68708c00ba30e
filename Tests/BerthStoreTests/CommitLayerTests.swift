import BerthOCI
import Foundation
import Glibc
import Testing
@testable import BerthStore

/// The store's pieces of `docker commit`: the reference from `repo` and `tag`, and the layer
/// written from an upper directory (only the selected entries; whiteouts as Docker's).
struct CommitLayerTests {
    @Test func repositoryAndTagAsDockerdReadsThem() throws {
        #expect(try ImageReference.repositoryTag(nil, "v1") == nil)
        #expect(try ImageReference.repositoryTag("", "v1") == nil)
        #expect(try ImageReference.repositoryTag("app", nil)?.familiar == "app:latest")
        #expect(try ImageReference.repositoryTag("app", "")?.familiar == "app:latest")
        #expect(try ImageReference.repositoryTag("user/app", "v2")?.familiar == "user/app:v2")
        #expect(try ImageReference.repositoryTag("localhost:5000/app", "v2")?.repository == "localhost:5000/app")
        #expect(throws: BerthError.invalidArgument("invalid tag format")) { try ImageReference.repositoryTag("app", "a:b") }
        #expect(throws: BerthError.invalidArgument("invalid reference format: repository name (library/App) must be lowercase")) {
            try ImageReference.repositoryTag("App", nil)
        }
    }

    /// An upper directory as overlayfs leaves it, written through the content store.
    @Test func theLayerHoldsTheSelectedEntriesAndWhiteouts() throws {
        let root = NSTemporaryDirectory() + "berth-commit-layer-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let upper = root + "/upper"
        try FileManager.default.createDirectory(atPath: upper + "/etc", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: upper + "/made/sub", withIntermediateDirectories: true)
        try "hi\n".write(toFile: upper + "/changed", atomically: false, encoding: .utf8)
        try "".write(toFile: upper + "/.dockerenv", atomically: false, encoding: .utf8)
        try "".write(toFile: upper + "/etc/hosts", atomically: false, encoding: .utf8)
        let canMakeWhiteouts = mknod(upper + "/etc/passwd", S_IFCHR | 0o000, 0) == 0
        let content = try ContentStore(root: root + "/store")
        let included: Set<String> = ["/changed", "/etc", "/etc/passwd", "/made", "/made/sub"]
        let blob = try content.write(intoFileDescriptor: { fd in
            try LayerDiff.write(upperDirectory: upper, to: fd, including: included)
        })
        let fd = open(content.path(blob.digest)!, O_RDONLY | O_CLOEXEC)
        defer { close(fd) }
        let reader = try ArchiveReader(fd: fd)
        var paths: [String] = []
        while let entry = try reader.next() { paths.append(entry.path) }
        let expected = canMakeWhiteouts ? ["changed", "etc", "etc/.wh.passwd", "made", "made/sub"] : ["changed", "etc", "made", "made/sub"]
        #expect(paths == expected)
        // The blob's name is the digest of its bytes (the layer's diff ID).
        let bytes = try Data(contentsOf: URL(fileURLWithPath: content.path(blob.digest)!))
        #expect(SHA256Hasher.digest(bytes) == blob.digest && Int64(bytes.count) == blob.size)
    }
}
