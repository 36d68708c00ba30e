import BerthOCI
import Glibc
import NIOCore
import NIOPosix

/// One frame of a shim stream: Docker's stdcopy kinds 1 (stdout) and 2 (stderr), and the
/// shim's own exec records (see Request in BerthShimCore).
public struct ShimFrame: Sendable {
    public enum Kind: UInt8, Sendable {
        case stdout = 1, stderr = 2
        case execExit = 16, execFailed = 17, execStarted = 18
    }
    public var kind: Kind
    public var payload: ByteBuffer
}

/// Talks to a container's berth-shim over its unix socket: one request line per connection,
/// answered by a line; attach and exec connections then carry frames.
public struct ShimClient: Sendable {
    public let socketPath: String

    public init(socketPath: String) { self.socketPath = socketPath }

    /// Sends `request` and returns the shim's one-line answer ("ok", "exit 0 ...");
    /// an "error MSG" answer is thrown.
    @discardableResult
    public func call(_ request: String) async throws -> String {
        try await withConnection(request) { reply, _, _ in reply }
    }

    /// `call` for a request the shim answers at once (start, kill): plain blocking socket
    /// calls on a thread of their own. Two thread switches instead of the event loop's five
    /// or so (connect, channel set-up, write, read, close), which a start and a kill pay on
    /// the way of their answer. Not for `wait`, which holds its thread until the exit.
    @discardableResult
    public func quickCall(_ request: String, timeoutMilliseconds: Int32 = 10_000) async throws -> String {
        let socketPath = self.socketPath
        return try await BlockingWork.run { try Self.exchange(request, socketPath: socketPath, timeoutMilliseconds: timeoutMilliseconds) }
    }

    private static func exchange(_ request: String, socketPath: String, timeoutMilliseconds: Int32) throws -> String {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ShimGone(socketPath: socketPath, reason: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try connectUnix(fd, path: socketPath)
        let message = Array((request + "\n").utf8)
        var sent = 0
        while sent < message.count {
            let n = message[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw ShimGone(socketPath: socketPath, reason: "send: \(String(cString: strerror(errno)))") }
            sent += n
        }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 512)
        while !answer.contains(UInt8(ascii: "\n")) {
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let polled = poll(&ready, 1, timeoutMilliseconds)
            if polled < 0 && errno == EINTR { continue }
            guard polled > 0 else { throw ShimGone(socketPath: socketPath, reason: "no answer to \(request) within \(timeoutMilliseconds) ms") }
            let n = read(fd, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw ShimGone(socketPath: socketPath, reason: "it closed the connection without an answer") }
            answer += chunk[0..<n]
        }
        let reply = String(decoding: answer.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        if reply.hasPrefix("error ") { throw ShimRefused(message: String(reply.dropFirst(6))) }
        return reply
    }

    /// Connects `fd` to the shim's socket (a long path too, see ReachableSocketPath).
    private static func connectUnix(_ fd: Int32, path socketPath: String) throws {
        let reachable = ReachableSocketPath(socketPath)
        defer { reachable.release() }
        let path = reachable.path
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw ShimGone(socketPath: socketPath, reason: "the socket's path is too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else { throw ShimGone(socketPath: socketPath, reason: "connect: \(String(cString: strerror(errno)))") }
    }

    /// Opens a connection for `request` (and the `payload` that follows its line); `body`
    /// gets the answer line, the frames after it, and the writer for bytes to the process's
    /// stdin.
    public func withConnection<R: Sendable>(
        _ request: String, payload: [UInt8] = [],
        _ body: @Sendable (String, ShimFrames, NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws -> R
    ) async throws -> R {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        let reachable = ReachableSocketPath(socketPath)
        defer { reachable.release() }
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .connect(unixDomainSocketPath: reachable.path) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(isOutboundHalfClosureEnabled: true))
                    }
                }
        } catch {
            throw ShimGone(socketPath: socketPath, reason: "\(error)")
        }
        return try await channel.executeThenClose { inbound, outbound in
            var message = ByteBuffer(string: request + "\n")
            message.writeBytes(payload)
            try await outbound.write(message)
            let frames = ShimFrames(inbound.makeAsyncIterator())
            guard let reply = try await frames.readLine() else {
                throw ShimGone(socketPath: socketPath, reason: "it closed the connection without an answer")
            }
            if reply.hasPrefix("error ") { throw ShimRefused(message: String(reply.dropFirst(6))) }
            return try await body(reply, frames, outbound)
        }
    }
}

/// A path that reaches a unix socket: one past sun_path's 108 bytes goes through a
/// descriptor of its directory, open until `release`.
struct ReachableSocketPath {
    let path: String
    private let directoryFD: Int32

    init(_ socketPath: String) {
        if socketPath.utf8.count > 100, let slash = socketPath.lastIndex(of: "/") {
            directoryFD = open(String(socketPath[..<slash]), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            path = directoryFD >= 0 ? "/proc/self/fd/\(directoryFD)" + socketPath[slash...] : socketPath
        } else {
            directoryFD = -1
            path = socketPath
        }
    }

    func release() {
        if directoryFD >= 0 { close(directoryFD) }
    }
}

/// The shim's socket is gone or closed early: the shim has exited.
public struct ShimGone: Error, CustomStringConvertible {
    public let socketPath: String
    public var reason = ""
    public var description: String { "the container's shim is not running (\(socketPath)): \(reason)" }
}

/// The shim answered `error MSG`.
public struct ShimRefused: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Reads the answer line and then frames from a shim connection.
public final class ShimFrames: @unchecked Sendable {
    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private var buffer = ByteBuffer()

    init(_ iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) {
        self.iterator = iterator
    }

    /// More bytes into the buffer; false at the end of the stream.
    private func fill() async throws -> Bool {
        guard var more = try await iterator.next() else { return false }
        buffer.discardReadBytes()
        buffer.writeBuffer(&more)
        return true
    }

    func readLine() async throws -> String? {
        while true {
            if let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                let length = newline - buffer.readerIndex
                let line = buffer.readString(length: length)
                buffer.moveReaderIndex(forwardBy: 1)
                return line
            }
            guard try await fill() else { return nil }
        }
    }

    /// The next frame, or nil when the shim closed the stream.
    public func next() async throws -> ShimFrame? {
        while true {
            if buffer.readableBytes >= 8,
               let kind = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
               let length = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt32.self),
               buffer.readableBytes >= 8 + Int(length) {
                buffer.moveReaderIndex(forwardBy: 8)
                let payload = buffer.readSlice(length: Int(length))!
                guard let known = ShimFrame.Kind(rawValue: kind) else {
                    throw BerthError.internalError("the shim sent a frame of unknown kind \(kind)")
                }
                return ShimFrame(kind: known, payload: payload)
            }
            guard try await fill() else { return nil }
        }
    }
}
