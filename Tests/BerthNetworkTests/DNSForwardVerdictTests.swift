import Testing
@testable import BerthNetwork

/// How the forwarder reads an upstream's message, and the failure answers it makes itself.
struct DNSForwardVerdictTests {
    /// A response header with `flags` to query 0x1234 (no records).
    func reply(id: UInt16 = 0x1234, flags: UInt16) -> [UInt8] {
        [UInt8(id >> 8), UInt8(id & 0xff), UInt8(flags >> 8), UInt8(flags & 0xff), 0, 1, 0, 0, 0, 0, 0, 0]
    }

    @Test func serverFailureAndRefusalMoveOnEverythingElseIsTheAnswer() {
        #expect(DNSForward.verdict(reply(flags: 0x8180), id: 0x1234) == .final)
        #expect(DNSForward.verdict(reply(flags: 0x8183), id: 0x1234) == .final)  // NXDOMAIN
        #expect(DNSForward.verdict(reply(flags: 0x8380), id: 0x1234) == .final)  // truncated
        #expect(DNSForward.verdict(reply(flags: 0x8182), id: 0x1234) == .tryNext)  // SERVFAIL
        #expect(DNSForward.verdict(reply(flags: 0x8185), id: 0x1234) == .tryNext)  // REFUSED
        // Another query's answer, a query, a runt: not ours.
        #expect(DNSForward.verdict(reply(id: 0x4321, flags: 0x8180), id: 0x1234) == .notOurs)
        #expect(DNSForward.verdict(reply(flags: 0x0100), id: 0x1234) == .notOurs)
        #expect(DNSForward.verdict([0x12, 0x34, 0x81], id: 0x1234) == .notOurs)
    }

    @Test func failureAnswersEchoTheQuery() throws {
        var packet = DNSQuery.encode(id: 0xbeef, name: "ext.example", type: DNSQuestion.typeA)
        packet[3] |= 0x10  // CD
        let query = try #require(DNSQuery(packet))
        let answer = query.failure(DNSQuery.serverFailure)
        // The client's ID; QR, RD and CD, no RA; SERVFAIL; one question, no records.
        #expect(Array(answer[0..<12]) == [0xbe, 0xef, 0x81, 0x12, 0, 1, 0, 0, 0, 0, 0, 0])
        #expect(Array(answer[12...]) == Array(packet[12...]))
        #expect(query.failure(DNSQuery.refused)[3] == 0x15)
    }
}
