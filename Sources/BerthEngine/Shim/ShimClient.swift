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

    /// Opens a connection for `request` (and the `payload` that follows its line); `body`
    /// gets the answer line, the frames after it, and the writer for bytes to the process's
    /// stdin.
    public func withConnection<R: Sendable>(
        _ request: String, payload: [UInt8] = [],
        _ body: @Sendable (String, ShimFrames, NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws -> R
    ) async throws -> R {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        // A socket path past sun_path's 108 bytes is reached through a descriptor of its directory.
        var directoryFD: Int32 = -1
        var path = socketPath
        if socketPath.utf8.count > 100, let slash = socketPath.lastIndex(of: "/") {
            directoryFD = open(String(socketPath[..<slash]), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if directoryFD >= 0 { path = "/proc/self/fd/\(directoryFD)" + socketPath[slash...] }
        }
        defer { if directoryFD >= 0 { close(directoryFD) } }
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .connect(unixDomainSocketPath: path) { channel in
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
