import BerthShimCore
import Testing

/// fluentd's forward messages byte for byte, as dockerd 20.10 sends them.
struct FluentdMessageTests {
    func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    func int(_ value: Int64) -> String {
        var out: [UInt8] = []
        MessagePack.appendInt(value, to: &out)
        return hex(out)
    }

    func string(_ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        MessagePack.appendString(Array(repeating: UInt8(ascii: "a"), count: count), to: &out)
        return out
    }

    @Test func integersTakeMsgpsSmallestSignedForm() {
        #expect(int(0) == "00")
        #expect(int(127) == "7f")
        #expect(int(128) == "d10080")
        #expect(int(32767) == "d17fff")
        #expect(int(32768) == "d200008000")
        #expect(int(1_795_950_789) == "d26b0c08c5")
        #expect(int(2_147_483_648) == "d30000000080000000")
        #expect(int(-1) == "ff")
        #expect(int(-32) == "e0")
        #expect(int(-33) == "d0df")
        #expect(int(-129) == "d1ff7f")
    }

    @Test func stringsAndHeaders() {
        #expect(Array(string(0)) == [0xA0])
        #expect(Array(string(31).prefix(1)) == [0xBF])
        #expect(Array(string(32).prefix(2)) == [0xD9, 32])
        #expect(Array(string(256).prefix(3)) == [0xDA, 1, 0])
        #expect(Array(string(65536).prefix(5)) == [0xDB, 0, 1, 0, 0])
        #expect(string(300).count == 303)
        var out: [UInt8] = []
        MessagePack.appendMapHeader(0, to: &out)
        MessagePack.appendMapHeader(15, to: &out)
        MessagePack.appendMapHeader(16, to: &out)
        MessagePack.appendArrayHeader(4, to: &out)
        MessagePack.appendArrayHeader(16, to: &out)
        #expect(hex(out) == "808fde001094dc0010")
    }

    @Test func eventTimeIsExtensionZero() {
        var out: [UInt8] = []
        MessagePack.appendEventTime(seconds: 0x6B0D_57C5, nanoseconds: 0x06DE_0E6C, to: &out)
        #expect(hex(out) == "d7006b0d57c506de0e6c")
    }

    func message(_ line: String, stderr: Bool = false, partial: FluentdMessage.Partial? = nil, subSecond: Bool = false,
                 extra: [(name: String, value: String)] = [], chunk: [UInt8]? = nil) -> [UInt8] {
        let container = FluentdMessage.Container(id: "cb6b3956050f5f2a", name: "/fl1", extra: extra)
        var out: [UInt8] = []
        Array(line.utf8).withUnsafeBufferPointer {
            FluentdMessage.append(tag: Array("cb6b3956050f".utf8), seconds: 0x6B0D_57AD, nanoseconds: 5, subSecond: subSecond,
                                  container: container, line: $0, stderr: stderr, partial: partial, chunk: chunk, to: &out)
        }
        return out
    }

    func str(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        MessagePack.appendString(text, to: &out)
        return out
    }

    @Test func aRecordAsDockerdSendsIt() {
        let expected: [UInt8] = [0x94] + str("cb6b3956050f") + [0xD2, 0x6B, 0x0D, 0x57, 0xAD] + [0x84]
            + str("container_id") + str("cb6b3956050f5f2a") + str("container_name") + str("/fl1")
            + str("source") + str("stdout") + str("log") + str("hello") + [0x80]
        #expect(message("hello\n") == expected)
        #expect(message("\n").contains(0xA0))  // an empty line is sent, with an empty log
        let err = message("oops\n", stderr: true, subSecond: true)
        #expect(Array(err[14..<24]) == [0xD7, 0x00, 0x6B, 0x0D, 0x57, 0xAD, 0, 0, 0, 5])
        #expect(err.count == message("oops\n", stderr: true).count + 5)
    }

    @Test func attributesComeAfterAndReplaceTheOwnFields() {
        let out = message("x\n", extra: [("team", "a"), ("source", "mine")])
        let tail: [UInt8] = str("log") + str("x") + str("team") + str("a") + str("source") + str("mine") + [0x80]
        #expect(Array(out.suffix(tail.count)) == tail)
        #expect(out[19] == 0x85)  // container_id, container_name, log and the two attributes
        #expect(!out.contains(subsequence: str("stdout")))
    }

    @Test func chunkIDsAndAcks() {
        let id = FluentdMessage.chunkID(random: (0x7556_0D6B_0000_0000, 0x49B5_48BC_65F0_9EBF))
        #expect(String(decoding: id, as: UTF8.self) == "dVYNawAAAABJtUi8ZfCevw==")
        let asked = message("x\n", chunk: id)
        #expect(Array(asked.suffix(32)) == [0x81] + str("chunk") + str("dVYNawAAAABJtUi8ZfCevw=="))
        #expect(FluentdMessage.ack(for: id) == [0x81] + str("ack") + str("dVYNawAAAABJtUi8ZfCevw=="))
    }

    @Test func piecesOfLongLinesAreMarked() {
        let first = message("abc", partial: .init(id: "p1", ordinal: 1, last: false))
        let tail: [UInt8] = str("log") + str("abc") + str("partial_message") + str("true") + str("partial_id") + str("p1")
            + str("partial_ordinal") + str("1") + str("partial_last") + str("false") + [0x80]
        #expect(Array(first.suffix(tail.count)) == tail)
        #expect(first[19] == 0x88)
        let last = message("def\n", partial: .init(id: "p1", ordinal: 12, last: true))
        #expect(last.contains(subsequence: str("log") + str("def") + str("partial_message")))
        #expect(last.contains(subsequence: str("partial_ordinal") + str("12") + str("partial_last") + str("true")))
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence: [UInt8]) -> Bool {
        guard subsequence.count <= count else { return false }
        return (0...(count - subsequence.count)).contains { Array(self[$0..<($0 + subsequence.count)]) == subsequence }
    }
}
