import Foundation
import Testing
@testable import BerthNetwork

struct DNSTests {
    @Test func queriesDecodeAndAnswersEncode() throws {
        let bytes = DNSQuery.encode(id: 0x1234, name: "blog1", type: DNSQuestion.typeA)
        let query = try #require(DNSQuery(bytes))
        #expect(query.id == 0x1234)
        #expect(query.question == DNSQuestion(name: "blog1", type: 1, qclass: 1))
        let answer = query.response(.addresses([IPv4Address("172.18.0.2")!]))
        #expect(Array(answer[0..<2]) == [0x12, 0x34])
        #expect(answer[2] & 0x80 != 0)      // a response
        #expect(answer[3] & 0x0f == 0)      // NOERROR
        #expect(Array(answer[6..<8]) == [0, 1])  // one answer
        #expect(Array(answer.suffix(4)) == [172, 18, 0, 2])
        let missing = query.response(nil)
        #expect(missing[3] & 0x0f == 3)     // NXDOMAIN
        let pointer = query.response(.pointer("blog1.net"))
        #expect(Array(pointer.suffix(11)) == [5] + Array("blog1".utf8) + [3] + Array("net".utf8) + [0])
        #expect(DNSQuery([1, 2, 3]) == nil)
    }

    @Test func reverseNamesAndTable() {
        #expect(reverseLookupAddress("2.0.18.172.in-addr.arpa")?.description == "172.18.0.2")
        #expect(reverseLookupAddress("example.com") == nil)
        let table = DNSTable()
        table.setContainer("c1", .init(entries: [.init(network: "n", names: ["blog1", "abc123", "web"], address: IPv4Address("172.18.0.2")!)],
                                       networks: ["n"]))
        #expect(table.lookup(network: "n", name: "BLOG1.")?.first?.description == "172.18.0.2")
        #expect(table.lookup(network: "n", name: "web")?.count == 1)
        #expect(table.lookup(network: "other", name: "blog1") == nil)
        #expect(table.reverseLookup(network: "n", address: IPv4Address("172.18.0.2")!) == "blog1")
    }

    /// A query to one network's server is answered from all the asking container's networks,
    /// its own first; a stranger gets that network's names only.
    @Test func aContainerIsAnsweredFromAllItsNetworks() {
        let table = DNSTable()
        let front = IPv4Address("10.1.0.5")!, back = IPv4Address("10.2.0.5")!
        table.setContainer("c1", .init(entries: [.init(network: "front", names: ["c1"], address: front),
                                                 .init(network: "back", names: ["c1"], address: back)],
                                       networks: ["front", "back"]))
        #expect(table.networks(answering: front, at: "front") == ["front", "back"])
        #expect(table.networks(answering: back, at: "back") == ["back", "front"])
        #expect(table.networks(answering: IPv4Address("10.9.0.9")!, at: "front") == ["front"])
        #expect(table.networks(answering: nil, at: "front") == ["front"])
    }

    /// The table is updated a container at a time: a name two containers share answers both
    /// addresses until one leaves, a container's update replaces only its own entries, and
    /// a removed one is gone from names, reverse names, memberships and link aliases at once.
    @Test func updatesAreOneContainerAtATime() {
        let table = DNSTable()
        let a = IPv4Address("10.5.0.2")!, b = IPv4Address("10.5.0.3")!, b2 = IPv4Address("10.6.0.3")!
        func entry(_ network: String, _ names: [String], _ address: IPv4Address) -> DNSContainerNames.Entry {
            .init(network: network, names: names, address: address)
        }
        table.setContainer("a", .init(entries: [entry("n", ["alpha", "Shared"], a)], networks: ["n"]))
        table.setContainer("b", .init(entries: [entry("n", ["beta", "shared"], b), entry("m", ["beta"], b2)], networks: ["n", "m"],
                                      linkAliases: ["n": ["al": "alpha"]], linkAddresses: [b, b2]))
        #expect(Set(table.lookup(network: "n", name: "SHARED") ?? []) == [a, b])
        #expect(table.lookup(network: "m", name: "beta") == [b2])
        #expect(table.networks(answering: b, at: "m") == ["m", "n"])
        #expect(table.linkTarget(client: b2, network: "n", name: "al") == "alpha")
        #expect(table.reverseLookup(network: "n", address: b) == "beta")
        // b leaves m and drops its alias: its n entries stay.
        table.setContainer("b", .init(entries: [entry("n", ["beta", "shared"], b)], networks: ["n"]))
        #expect(table.lookup(network: "m", name: "beta") == nil)
        #expect(table.lookup(network: "n", name: "beta") == [b])
        #expect(table.networks(answering: b, at: "n") == ["n"])
        #expect(table.linkTarget(client: b, network: "n", name: "al") == nil)
        // a stops.
        table.setContainer("a", nil)
        #expect(table.lookup(network: "n", name: "alpha") == nil)
        #expect(table.lookup(network: "n", name: "shared") == [b])
        #expect(table.reverseLookup(network: "n", address: a) == nil)
        #expect(table.networks(answering: a, at: "n") == ["n"])
        table.setContainer("b", nil)
        #expect(table.lookup(network: "n", name: "shared") == nil)
    }

    /// A server answers a stranger from its network only, a member from all its networks, and
    /// a name it does not know with nil (forwarded), within its subnet's reverse names NXDOMAIN.
    @Test func answersComeFromTheIncrementalTable() throws {
        let table = DNSTable()
        let subnet = try #require(IPv4Subnet("10.7.0.0/16"))
        for index in 0..<200 {
            let address = IPv4Address(UInt32(0x0A07_0002) + UInt32(index))
            table.setContainer("c\(index)", .init(entries: [.init(network: "n", names: ["c\(index)", "alias\(index)"], address: address)],
                                                  networks: ["n"]))
        }
        table.setContainer("c5", nil)
        let server = DNSServer.Network(id: "n", name: "net", subnet: subnet)
        func ask(_ name: String, _ type: UInt16 = DNSQuestion.typeA) -> [UInt8]? {
            let query = DNSQuery(DNSQuery.encode(id: 1, name: name, type: type))!
            return DNSServer.answer(query, network: server, table: table, client: nil)
        }
        #expect(ask("alias199").map { Array($0.suffix(4)) } == [10, 7, 0, 201])
        #expect(ask("c5") == nil)
        #expect(ask("example.com") == nil)
        #expect(ask("3.0.7.10.in-addr.arpa", DNSQuestion.typePTR).map { $0[3] & 0x0f } == 0)
        #expect(ask("7.0.7.10.in-addr.arpa", DNSQuestion.typePTR).map { $0[3] & 0x0f } == 3)  // c5's address
    }

    /// "name.network" is the name on that network of the asker's, as dockerd resolves it
    /// ("a.b.net": "a.b" on network "net", then "a" on network "b.net"); a network the asker
    /// is not on, or an unknown one, leaves the name to the host's resolvers.
    @Test func namesQualifiedByTheirNetwork() throws {
        let table = DNSTable()
        let front = IPv4Address("10.1.0.5")!, back = IPv4Address("10.2.0.5")!, other = IPv4Address("10.2.0.9")!
        table.setContainer("c1", .init(entries: [.init(network: "f", names: ["c1"], address: front, networkName: "front"),
                                                 .init(network: "b", names: ["c1", "a.b"], address: back, networkName: "back.end")],
                                       networks: ["f", "b"]))
        table.setContainer("c2", .init(entries: [.init(network: "b", names: ["c2"], address: other, networkName: "back.end")],
                                       networks: ["b"]))
        let server = DNSServer.Network(id: "f", name: "front", subnet: try #require(IPv4Subnet("10.1.0.0/16")))
        func ask(_ name: String, from client: IPv4Address?) -> [UInt8]? {
            let query = DNSQuery(DNSQuery.encode(id: 1, name: name, type: DNSQuestion.typeA))!
            return DNSServer.answer(query, network: server, table: table, client: client)?.suffix(4).map { $0 }
        }
        #expect(ask("c1.front", from: nil) == [10, 1, 0, 5])
        #expect(ask("c1.front.", from: front) == [10, 1, 0, 5])
        #expect(ask("c1.back.end", from: front) == [10, 2, 0, 5])
        #expect(ask("c2.back.end", from: front) == [10, 2, 0, 9])
        #expect(ask("a.b.back.end", from: front) == [10, 2, 0, 5])
        #expect(ask("c2.back.end", from: nil) == nil)
        #expect(ask("c1.nosuchnet", from: front) == nil)
        #expect(ask("c1.back", from: front) == nil)
    }
}
