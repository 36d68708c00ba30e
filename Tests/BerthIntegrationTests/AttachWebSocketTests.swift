import Foundation
import Glibc
import Testing

/// `GET /containers/{id}/attach/ws` as dockerd 20.10 serves it (observed on the reference
/// daemon): JSON errors before the handshake, a bare 400 for a request that is not a websocket
/// one, then one binary frame per write, raw even without a TTY; the client's data frames are
/// stdin; pings are answered; the end of the attachment sends a close frame (1000).
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct AttachWebSocketTests {
    /// RFC 6455's sample key and its answer.
    static let sampleKey = "dGhlIHNhbXBsZSBub25jZQ=="
    static let upgradeHead = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
    static let normalClosure: [UInt8] = [0x03, 0xE8]

    static func connect(_ daemon: TestDaemon, _ path: String) throws -> WebSocketTestClient {
        try WebSocketTestClient(socket: daemon.socket, request: WebSocketTestClient.upgradeRequest(path, key: sampleKey))
    }

    @Test func outputOfARunningContainerArrivesRawInBinaryFrames() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let script = "while true; do echo out; echo err >&2; sleep 0.1; done"
            #expect(daemon.docker(["run", "-d", "--name", "talk", "busybox", "sh", "-c", script]).status == 0)
            let both = try Self.connect(daemon, "/v1.50/containers/talk/attach/ws?stream=1&stdout=1&stderr=1")
            #expect(both.readHead() == Self.upgradeHead)
            let frames = both.frames(seconds: 0.8)
            #expect(frames.allSatisfy { $0.opcode == 2 }, "a text or control frame: \(frames)")
            // No stdcopy header: the frames keep the writes apart.
            #expect(frames.contains { $0.text == "out\n" } && frames.contains { $0.text == "err\n" }, "\(frames)")
            #expect(Set(frames.flatMap { $0.text.split(separator: "\n") }) == ["out", "err"], "\(frames)")
            both.close()

            // Since API 1.42 the query chooses the streams; before, all three were attached.
            let stdoutOnly = try Self.connect(daemon, "/v1.50/containers/talk/attach/ws?stream=1&stdout=1&stderr=0")
            #expect(stdoutOnly.readHead() == Self.upgradeHead)
            #expect(Set(stdoutOnly.frames(seconds: 0.8).flatMap { $0.text.split(separator: "\n") }) == ["out"])
            stdoutOnly.close()
            let old = try Self.connect(daemon, "/v1.41/containers/talk/attach/ws?stream=1&stdout=1&stderr=0")
            #expect(old.readHead() == Self.upgradeHead)
            #expect(Set(old.frames(seconds: 0.8).flatMap { $0.text.split(separator: "\n") }) == ["out", "err"])
            old.close()

            // The client's close frame ends only an input that reaches the container's stdin;
            // talk has none open, so its output goes on, as with dockerd.
            let closing = try Self.connect(daemon, "/v1.50/containers/talk/attach/ws?stream=1&stdin=1&stdout=1")
            #expect(closing.readHead() == Self.upgradeHead)
            closing.send(opcode: 8, Self.normalClosure)
            #expect(closing.frames(seconds: 0.8).filter { $0.text == "out\n" }.count >= 3)
            closing.close()

            // A subprotocol offered alone is taken.
            let chat = try WebSocketTestClient(socket: daemon.socket, request: WebSocketTestClient.upgradeRequest(
                "/containers/talk/attach/ws?stream=1&stdout=1", key: Self.sampleKey, extra: ["Sec-WebSocket-Protocol: chat "]))
            #expect(chat.readHead() == Self.upgradeHead.replacingOccurrences(of: "\r\n\r\n", with: "\r\nSec-WebSocket-Protocol: chat\r\n\r\n"))
            chat.close()
            #expect(daemon.docker(["rm", "-f", "talk"]).status == 0)
        }
    }

    @Test func inputFramesReachCatAndTheClientsCloseEndsTheAttachment() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["run", "-d", "-i", "--name", "cat", "busybox", "cat"]).status == 0)
            let client = try Self.connect(daemon, "/containers/cat/attach/ws?stream=1&stdin=1&stdout=1&stderr=1")
            #expect(client.readHead() == Self.upgradeHead)
            client.send(opcode: 1, Array("typed\n".utf8))
            #expect(client.nextFrame()?.text == "typed\n")
            client.send(opcode: 2, Array("binary too\n".utf8))
            #expect(client.nextFrame()?.text == "binary too\n")
            client.send(opcode: 9, Array("knock".utf8))
            let pong = client.nextFrame()
            #expect(pong?.opcode == 10 && pong?.text == "knock", "\(String(describing: pong))")
            client.send(opcode: 8, Self.normalClosure)
            let close = client.nextFrame()
            #expect(close?.opcode == 8 && close?.payload == Self.normalClosure, "\(String(describing: close))")
            #expect(client.atEnd())
            client.close()
            #expect(ContainerBehaviourTests.inspect(daemon, "{{.State.Running}}", "cat") == "true\n")

            // A frame the client did not mask is a protocol error (1002); the attachment then ends (1000).
            let careless = try Self.connect(daemon, "/containers/cat/attach/ws?stream=1&stdin=1&stdout=1")
            #expect(careless.readHead() == Self.upgradeHead)
            careless.send(opcode: 1, Array("plain\n".utf8), masked: false)
            #expect(careless.nextFrame()?.payload == [0x03, 0xEA])
            #expect(careless.nextFrame()?.payload == Self.normalClosure)
            #expect(careless.atEnd())
            careless.close()
            #expect(daemon.docker(["rm", "-f", "cat"]).status == 0)
        }
    }

    @Test func aTTYContainerEchoesAndDetachesWithItsKeys() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["run", "-d", "-it", "--name", "term", "busybox", "sh"]).status == 0)
            let client = try Self.connect(daemon, "/containers/term/attach/ws?stream=1&stdin=1&stdout=1&stderr=1&detachKeys=ctrl-x")
            #expect(client.readHead() == Self.upgradeHead)
            client.send(opcode: 1, Array("echo $((6*7))\n".utf8))
            var output = ""
            for _ in 0..<20 where !output.contains("42\r\n") {
                guard let frame = client.nextFrame() else { break }
                output += frame.text
            }
            #expect(output.contains("echo $((6*7))\r\n42\r\n"), "\(output)")
            client.send(opcode: 1, [0x18])  // ctrl-x
            var frame = client.nextFrame()
            while let data = frame, data.opcode != 8 { frame = client.nextFrame() }  // a prompt still on its way
            #expect(frame?.payload == Self.normalClosure)
            #expect(client.atEnd())
            client.close()
            #expect(ContainerBehaviourTests.inspect(daemon, "{{.State.Running}}", "term") == "true\n")
            #expect(daemon.docker(["rm", "-f", "term"]).status == 0)
        }
    }

    @Test func logsReplayPastOutputOneFramePerLineAndTheExitCloses() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["run", "--name", "past", "busybox", "sh", "-c", "echo one; sleep 0.05; echo two >&2"]).status == 0)
            let replay = try Self.connect(daemon, "/containers/past/attach/ws?logs=1&stdout=1&stderr=1")
            #expect(replay.readHead() == Self.upgradeHead)
            #expect(replay.nextFrame()?.text == "one\n")
            #expect(replay.nextFrame()?.text == "two\n")
            // Without `stream` the attachment ends after the replay.
            #expect(replay.nextFrame()?.payload == Self.normalClosure)
            #expect(replay.atEnd())
            replay.close()

            // The container's exit ends a live attachment with a close frame.
            #expect(daemon.docker(["run", "-d", "-i", "--name", "once", "busybox", "sh", "-c", "read x; echo got $x"]).status == 0)
            let live = try Self.connect(daemon, "/containers/once/attach/ws?stream=1&stdin=1&stdout=1")
            #expect(live.readHead() == Self.upgradeHead)
            live.send(opcode: 1, Array("it\n".utf8))
            #expect(live.nextFrame()?.text == "got it\n")
            let close = live.nextFrame()
            #expect(close?.opcode == 8 && close?.payload == Self.normalClosure, "\(String(describing: close))")
            #expect(live.atEnd())
            live.close()

            // Made before the start, the attachment waits for it and sees the first output.
            #expect(daemon.docker(["create", "--name", "later", "busybox", "echo", "started"]).status == 0)
            let early = try Self.connect(daemon, "/containers/later/attach/ws?stream=1&stdout=1")
            #expect(early.readHead() == Self.upgradeHead)
            #expect(early.frames(seconds: 0.3).isEmpty)
            #expect(daemon.docker(["start", "later"]).status == 0)
            #expect(early.nextFrame()?.text == "started\n")
            #expect(early.nextFrame()?.payload == Self.normalClosure)
            #expect(early.atEnd())
            early.close()
            #expect(daemon.docker(["rm", "-f", "past", "once", "later"]).status == 0)
        }
    }

    /// A reader slower than the container gets all of the output, then the close frame: the
    /// end of the attachment waits for what is still queued for the socket.
    @Test func aSlowReaderGetsTheWholeOutputBeforeTheClose() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["create", "--name", "big", "busybox", "dd", "if=/dev/zero", "bs=1000", "count=4000"]).status == 0)
            let client = try Self.connect(daemon, "/containers/big/attach/ws?stream=1&stdout=1")
            #expect(client.readHead() == Self.upgradeHead)
            #expect(daemon.docker(["start", "big"]).status == 0)
            var bytes = 0
            var last: WebSocketTestClient.Frame?
            while let frame = client.nextFrame(seconds: 10, pausing: 0.005) {
                last = frame
                if frame.opcode == 2 { bytes += frame.payload.count }
                if frame.opcode == 8 { break }
            }
            #expect(bytes == 4_000_000)
            #expect(last?.opcode == 8 && last?.payload == Self.normalClosure, "\(String(describing: last))")
            client.close()
            #expect(daemon.docker(["rm", "-f", "big"]).status == 0)
        }
    }

    @Test func refusalsBeforeAndDuringTheHandshake() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let missing = try Self.connect(daemon, "/containers/nope/attach/ws?stream=1&stdout=1")
            let notFound = missing.readResponse()
            #expect(notFound.hasPrefix("HTTP/1.1 404 Not Found\r\n") && notFound.hasSuffix("\r\n\r\n{\"message\":\"No such container: nope\"}\n"), "\(notFound)")
            missing.close()
            // The detach keys are checked before the container is looked up, in attach's words.
            let keys = try Self.connect(daemon, "/containers/nope/attach/ws?stream=1&detachKeys=ctrl-xx")
            let badKeys = keys.readResponse()
            #expect(badKeys.hasPrefix("HTTP/1.1 400 Bad Request\r\n") && badKeys.hasSuffix("{\"message\":\"Invalid detach keys (ctrl-xx) provided\"}\n"), "\(badKeys)")
            keys.close()

            #expect(daemon.docker(["run", "-d", "--name", "idle", "busybox", "sleep", "100"]).status == 0)
            let path = "/containers/idle/attach/ws?stream=1&stdout=1"
            let cases: [(headers: [String], answer: String)] = [
                ([], "HTTP/1.1 400 Bad Request\r\n\r\nnot websocket protocol"),
                (["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13"],
                 "HTTP/1.1 400 Bad Request\r\n\r\nmismatch challenge/response"),
                (["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: abc", "Sec-WebSocket-Version: 8"],
                 "HTTP/1.1 400 Bad Request\r\nSec-WebSocket-Version: 13\r\n\r\nmissing or bad WebSocket Version"),
                (["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: abc", "Sec-WebSocket-Version: 13",
                  "Sec-WebSocket-Protocol: a, b"], "HTTP/1.1 400 Bad Request\r\n\r\n"),
            ]
            for (headers, answer) in cases {
                let request = "GET \(path) HTTP/1.1\r\nHost: berth\r\n" + headers.map { $0 + "\r\n" }.joined() + "\r\n"
                let client = try WebSocketTestClient(socket: daemon.socket, request: request)
                // The refusal, then the connection is closed.
                #expect(client.readToEnd(seconds: 2) == answer, "\(headers)")
                client.close()
            }

            #expect(daemon.docker(["pause", "idle"]).status == 0)
            let paused = try Self.connect(daemon, path)
            let conflict = paused.readResponse()
            #expect(conflict.hasPrefix("HTTP/1.1 409 Conflict\r\n")
                && conflict.hasSuffix("{\"message\":\"container idle is paused, unpause the container before attach\"}\n"), "\(conflict)")
            paused.close()
            #expect(daemon.docker(["rm", "-f", "idle"]).status == 0)
        }
    }
}

/// A small RFC 6455 client on a unix socket: the HTTP upgrade request, then frames, masked
/// as a client must mask them.
final class WebSocketTestClient {
    struct Frame: CustomStringConvertible {
        var opcode: UInt8
        var payload: [UInt8]
        var text: String { String(decoding: payload, as: UTF8.self) }
        var description: String { "opcode \(opcode) \(payload.count) bytes \(text.debugDescription)" }
    }

    private let fd: Int32
    private var received: [UInt8] = []
    private var ended = false

    static func upgradeRequest(_ path: String, key: String, extra: [String] = []) -> String {
        "GET \(path) HTTP/1.1\r\nHost: berth\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n" + extra.map { $0 + "\r\n" }.joined() + "\r\n"
    }

    init(socket path: String, request: String) throws {
        fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            throw TestFailure("connect \(path): \(errno)")
        }
        write(Array(request.utf8))
    }

    func close() { Glibc.close(fd) }

    func send(opcode: UInt8, _ payload: [UInt8], masked: Bool = true) {
        var frame: [UInt8] = [0x80 | opcode]
        let maskBit: UInt8 = masked ? 0x80 : 0
        if payload.count < 126 {
            frame.append(maskBit | UInt8(payload.count))
        } else {
            frame.append(maskBit | 126)
            frame += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        }
        if masked {
            let key: [UInt8] = (0..<4).map { _ in UInt8.random(in: 0...255) }
            frame += key
            frame += payload.enumerated().map { $0.element ^ key[$0.offset % 4] }
        } else {
            frame += payload
        }
        write(frame)
    }

    /// The response head, through its blank line.
    func readHead(seconds: Double = 5) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            if let end = headEnd() {
                let head = String(decoding: received[..<end], as: UTF8.self)
                received.removeFirst(end)
                return head
            }
            guard fill(until: deadline) else { return nil }
        }
    }

    /// The next frame, or nil at the end of the connection or after `seconds`; `pausing`
    /// (seconds) before each read from the socket makes a slow reader.
    func nextFrame(seconds: Double = 5, pausing pause: Double = 0) -> Frame? {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            if let frame = takeFrame() { return frame }
            if pause > 0 { usleep(UInt32(pause * 1_000_000)) }
            guard fill(until: deadline) else { return nil }
        }
    }

    /// A response with a Content-Length (the connection stays open for the next request).
    func readResponse(seconds: Double = 5) -> String {
        guard let head = readHead(seconds: seconds) else { return "" }
        let lengthLine = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
        let length = lengthLine.flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        let deadline = Date().addingTimeInterval(seconds)
        while received.count < length && fill(until: deadline) {}
        let body = String(decoding: received.prefix(length), as: UTF8.self)
        received.removeFirst(min(length, received.count))
        return head + body
    }

    /// The frames that arrive within `seconds`.
    func frames(seconds: Double) -> [Frame] {
        let deadline = Date().addingTimeInterval(seconds)
        var frames: [Frame] = []
        while true {
            if let frame = takeFrame() {
                frames.append(frame)
            } else if !fill(until: deadline) {
                return frames
            }
        }
    }

    /// Whether the server closed the connection (and sent nothing more) within `seconds`.
    func atEnd(seconds: Double = 5) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while fill(until: deadline) {}
        return ended && received.isEmpty
    }

    /// Everything until the server closes the connection (or `seconds` pass).
    func readToEnd(seconds: Double) -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while fill(until: deadline) {}
        return String(decoding: received, as: UTF8.self)
    }

    private func headEnd() -> Int? {
        guard received.count >= 4 else { return nil }
        for index in 0...(received.count - 4) where received[index..<index + 4].elementsEqual([13, 10, 13, 10]) {
            return index + 4
        }
        return nil
    }

    private func takeFrame() -> Frame? {
        guard received.count >= 2 else { return nil }
        var length = Int(received[1] & 0x7F)
        var offset = 2
        if length == 126 {
            guard received.count >= 4 else { return nil }
            length = Int(received[2]) << 8 | Int(received[3])
            offset = 4
        } else if length == 127 {
            guard received.count >= 10 else { return nil }
            length = received[2..<10].reduce(0) { $0 << 8 | Int($1) }
            offset = 10
        }
        // A server never masks its frames.
        guard received[1] & 0x80 == 0, received.count >= offset + length else { return nil }
        let frame = Frame(opcode: received[0] & 0x0F, payload: Array(received[offset..<offset + length]))
        received.removeFirst(offset + length)
        return frame
    }

    /// Reads what has arrived, waiting until `deadline`; false at the end of the connection or the deadline.
    private func fill(until deadline: Date) -> Bool {
        guard !ended else { return false }
        let milliseconds = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, milliseconds) > 0 else { return false }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = read(fd, &chunk, chunk.count)
        if count <= 0 {
            ended = true
            return false
        }
        received += chunk[..<count]
        return true
    }

    private func write(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            // No SIGPIPE for the test process when the server has already closed.
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { return }
            offset += written
        }
    }
}
