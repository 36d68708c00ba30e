import BerthShimCore
import Testing

/// GELF messages byte for byte, as dockerd 20.10's gelf driver sends them, and their chunks.
struct GelfMessageTests {
    func message(_ line: String, stderr: Bool = false, milliseconds: Int64 = 1_796_036_746_198,
                 extra: [(name: String, value: String)] = [("_container_id", "abc"), ("_tag", "t")]) -> String {
        var out: [UInt8] = []
        Array(line.utf8).withUnsafeBufferPointer {
            GelfMessage.append(head: GelfMessage.head(hostname: Array("vm".utf8)), message: $0, milliseconds: milliseconds,
                               stderr: stderr, extra: GelfMessage.extraFields(extra), to: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }

    @Test func theObjectInDockerdsOrder() {
        #expect(message("hello") == #"{"version":"1.1","host":"vm","short_message":"hello","timestamp":1796036746.198,"level":6,"_container_id":"abc","_tag":"t"}"#)
        #expect(message("err", stderr: true, extra: []) == #"{"version":"1.1","host":"vm","short_message":"err","timestamp":1796036746.198,"level":3}"#)
    }

    @Test func textIsEscapedAsGoEscapesIt() {
        #expect(message("a \"q\" <b> & \\ \t", extra: [("_command", "sh -c echo >&2")])
                == #"{"version":"1.1","host":"vm","short_message":"a \"q\" \u003cb\u003e \u0026 \\ \t","timestamp":1796036746.198,"level":6,"_command":"sh -c echo \u003e\u00262"}"#)
    }

    @Test func timestampsAreGosShortestFloats() {
        func seconds(_ milliseconds: Int64) -> String {
            var out: [UInt8] = []
            GelfMessage.appendSeconds(milliseconds: milliseconds, to: &out)
            return String(decoding: out, as: UTF8.self)
        }
        #expect(seconds(1_796_036_746_198) == "1796036746.198")
        #expect(seconds(1_796_036_746_800) == "1796036746.8")
        #expect(seconds(1_796_036_746_050) == "1796036746.05")
        #expect(seconds(1_796_036_746_000) == "1796036746")
        #expect(seconds(1_796_036_746_007) == "1796036746.007")
    }

    @Test func emptyLinesAreNotSent() {
        let bytes = Array("\n".utf8)
        #expect(bytes.withUnsafeBufferPointer { GelfMessage.text(of: $0, partial: false) } == nil)
    }

    @Test func bigMessagesAreChunkedAsGoGelfDoes() throws {
        let small = [UInt8](repeating: 7, count: 1420)
        #expect(GelfMessage.datagrams(small, id: 1) == [small])
        let payload = (0..<3000).map { UInt8(truncatingIfNeeded: $0) }
        let chunks = try #require(GelfMessage.datagrams(payload, id: 0x0102_0304_0506_0708))
        #expect(chunks.count == 3)
        #expect(chunks.map(\.count) == [1420, 1420, 3000 - 2 * 1408 + 12])
        for (index, chunk) in chunks.enumerated() {
            #expect(Array(chunk.prefix(12)) == [0x1E, 0x0F, 1, 2, 3, 4, 5, 6, 7, 8, UInt8(index), 3])
        }
        #expect(chunks.flatMap { $0.dropFirst(12) } == payload)
        // go-gelf counts one chunk more when the parts fill exactly: the last is empty.
        let exact = try #require(GelfMessage.datagrams([UInt8](repeating: 1, count: 2 * 1408), id: 9))
        #expect(exact.map(\.count) == [1420, 1420, 12])
        #expect(GelfMessage.datagrams([UInt8](repeating: 0, count: 128 * 1408), id: 1) == nil)
        #expect(GelfMessage.datagrams([UInt8](repeating: 0, count: 128 * 1408 - 1), id: 1)?.count == 128)
    }
}
