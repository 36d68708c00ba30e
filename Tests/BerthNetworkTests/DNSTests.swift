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
        table.set(network: "n", entries: [(["blog1", "abc123", "web"], IPv4Address("172.18.0.2")!)])
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
        table.setMemberships([front: ["front", "back"], back: ["front", "back"]])
        #expect(table.networks(answering: front, at: "front") == ["front", "back"])
        #expect(table.networks(answering: back, at: "back") == ["back", "front"])
        #expect(table.networks(answering: IPv4Address("10.9.0.9")!, at: "front") == ["front"])
        #expect(table.networks(answering: nil, at: "front") == ["front"])
    }
}
