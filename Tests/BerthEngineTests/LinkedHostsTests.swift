import Testing
@testable import BerthEngine

struct LinkedHostsTests {
    static let file = "127.0.0.1\tlocalhost\n172.17.0.2\tdb 0123456789ab db1\n172.17.0.2\tdbx\n172.17.0.3\t4567\n"

    @Test func theAliasLineGetsTheNewAddress() {
        let updated = LinkedHosts.replacing(in: Self.file, alias: "db", address: "172.17.0.9")
        #expect(updated == "127.0.0.1\tlocalhost\n172.17.0.9\tdb 0123456789ab db1\n172.17.0.2\tdbx\n172.17.0.3\t4567\n")
    }

    /// `docker rm --link`: the alias's lines go, the others stay as they were.
    @Test func aRemovedLinkTakesItsLinesAway() {
        #expect(LinkedHosts.removing(from: Self.file, alias: "db") == "127.0.0.1\tlocalhost\n172.17.0.2\tdbx\n172.17.0.3\t4567\n")
        #expect(LinkedHosts.removing(from: Self.file, alias: "db1") == Self.file)
        #expect(LinkedHosts.removing(from: Self.file, alias: "dbx") == "127.0.0.1\tlocalhost\n172.17.0.2\tdb 0123456789ab db1\n172.17.0.3\t4567\n")
    }

    @Test func onlyWholeAliasesAtTheStartOfTheNamesMatch() {
        // "db" is not "dbx", and a name after the first is not the alias.
        #expect(LinkedHosts.replacing(in: Self.file, alias: "db1", address: "10.0.0.1") == Self.file)
        #expect(LinkedHosts.replacing(in: Self.file, alias: "d", address: "10.0.0.1") == Self.file)
        // A name alone on its line, and one followed by a domain.
        #expect(LinkedHosts.replacing(in: "1.2.3.4\tweb\n", alias: "web", address: "5.6.7.8") == "5.6.7.8\tweb\n")
        #expect(LinkedHosts.replacing(in: "1.2.3.4\tweb.local x\n", alias: "web", address: "5.6.7.8") == "5.6.7.8\tweb.local x\n")
    }
}
