import Glibc
import NIOCore
import NIOHTTP1

/// A hijacked connection (attach, exec start; DESIGN rule 3): the route has answered, the
/// HTTP codecs are taken off the connection, and `run` gets the raw bytes both ways.
public struct HijackedSession: Sendable {
    /// Docker's raw stream (TTY) or multiplexed stdcopy frames (no TTY).
    public var multiplexed: Bool
    public var run: @Sendable (HijackedConnection) async throws -> Void
    /// Set for `GET /containers/{id}/attach/ws`: the connection speaks websocket frames.
    var webSocket: WebSocketHandshake.Answer?

    public init(multiplexed: Bool, run: @escaping @Sendable (HijackedConnection) async throws -> Void) {
        self.multiplexed = multiplexed
        self.run = run
    }

    init(webSocket: WebSocketHandshake.Answer, run: @escaping @Sendable (HijackedConnection) async throws -> Void) {
        self.multiplexed = false
        self.webSocket = webSocket
        self.run = run
    }

    var contentType: String {
        multiplexed ? "application/vnd.docker.multiplexed-stream" : "application/vnd.docker.raw-stream"
    }
}

/// The client's side of a hijacked stream. `input` ends when the client half-closes (its
/// stdin reached EOF) or goes away; `output` takes what the process prints.
public struct HijackedConnection: Sendable {
    public let input: NIOAsyncChannelInboundStream<ByteBuffer>
    public let output: NIOAsyncChannelOutboundWriter<ByteBuffer>
    /// Completes when the connection is closed, also by the client going away while nothing
    /// is read or written (a half-close alone does not complete it).
    public let closed: EventLoopFuture<Void>
}

extension HTTPHandler {
    /// Takes the HTTP handlers off the connection, answers `101 UPGRADED` (or a plain 200 to a
    /// client that did not ask to upgrade, as dockerd does), and hands the connection to the session.
    /// A websocket session answers with its handshake instead (WebSocketHijack.swift).
    static func hijack(_ context: ChannelHandlerContext, request: HTTPRequestHead, session: HijackedSession,
                       finished: @escaping @Sendable () -> Void) {
        if let webSocket = session.webSocket {
            hijackWebSocket(context, answer: webSocket, session: session, finished: finished)
            return
        }
        let channel = context.channel
        let pipeline = channel.pipeline.syncOperations
        let asyncChannel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            for handler in try httpHandlers(pipeline) {
                pipeline.removeHandler(context: handler, promise: nil)
            }
            asyncChannel = try NIOAsyncChannel(wrappingChannelSynchronously: channel,
                                               configuration: .init(isOutboundHalfClosureEnabled: true))
        } catch {
            channel.close(promise: nil)
            finished()
            return
        }
        let upgrade = request.headers["Upgrade"].contains { $0.lowercased() == "tcp" }
        let head = upgrade
            ? "HTTP/1.1 101 UPGRADED\r\nContent-Type: \(session.contentType)\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
            : "HTTP/1.1 200 OK\r\nContent-Type: \(session.contentType)\r\n\r\n"
        let headFirst = readsHeadThenBareSocket(request)
        channel.read()
        finished()
        Task {
            try? await asyncChannel.executeThenClose { input, output in
                try await output.write(ByteBuffer(string: head))
                if headFirst { await waitUntilHeadRead(channel) }
                try await session.run(HijackedConnection(input: input, output: output, closed: channel.closeFuture))
                await flushed(channel)
            }
        }
    }

    /// Returns once every write queued on the channel has gone to the socket (or the client
    /// is gone). The close that ends a session (and the half-close, which NIO makes a close
    /// when the client has half-closed first) drops the writes still queued: a slow reader
    /// lost the end of the output. An empty write completes after all that came before it;
    /// dockerd's blocking writes wait the same way.
    static func flushed(_ channel: any Channel) async {
        try? await channel.writeAndFlush(ByteBuffer()).get()
    }

    /// docker-py reads the 101 head through a buffered reader and the stream after it from the
    /// bare socket, so output that arrives together with the head is lost (docker-py issues
    /// 2042 and 3332: `exec_run` answering b''). dockerd's slower exec start hides this;
    /// Berth's does not. docker-py says `docker-sdk-python/7.1.0`; docker-compose 1 on it
    /// `docker-compose/1.29.2 docker-py/5.0.3 …`.
    static func readsHeadThenBareSocket(_ request: HTTPRequestHead) -> Bool {
        request.headers["User-Agent"].contains { $0.hasPrefix("docker-sdk-python/") || $0.contains(" docker-py/") }
    }

    /// Returns once the client has read the head, or after 200 ms. Bytes the peer has not read
    /// yet stay charged to the sending socket (SO_MEMINFO's wmem_alloc; on TCP, until acked),
    /// so the head is read when that falls to zero. The option is read on the event loop,
    /// after the head's write that was queued there first.
    static func waitUntilHeadRead(_ channel: any Channel) async {
        guard let provider = channel as? any SocketOptionProvider else { return }
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(200)
        while clock.now < deadline {
            guard let info: SocketMemoryInfo = try? await provider.unsafeGetSocketOption(
                level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_MEMINFO)).get() else { return }
            if info.writeAllocated == 0 { return }
            try? await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Everything configureHTTPServerPipeline added, and the request handler itself.
    static func httpHandlers(_ pipeline: ChannelPipeline.SynchronousOperations) throws -> [ChannelHandlerContext] {
        var contexts: [ChannelHandlerContext] = []
        contexts.append(try pipeline.context(handlerType: HTTPResponseEncoder.self))
        contexts.append(try pipeline.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self))
        contexts.append(try pipeline.context(handlerType: HTTPServerPipelineHandler.self))
        if let errors = try? pipeline.context(handlerType: HTTPServerProtocolErrorHandler.self) { contexts.append(errors) }
        if let validator = try? pipeline.context(handlerType: NIOHTTPResponseHeadersValidator.self) { contexts.append(validator) }
        contexts.append(try pipeline.context(handlerType: HTTPHandler.self))
        return contexts
    }
}

/// getsockopt(SO_MEMINFO)'s nine counters (linux/sock_diag.h, SK_MEMINFO_*), in their order.
struct SocketMemoryInfo: Sendable {
    var receiveAllocated: UInt32 = 0
    var receiveBuffer: UInt32 = 0
    var writeAllocated: UInt32 = 0
    var sendBuffer: UInt32 = 0
    var forwardAllocated: UInt32 = 0
    var writeQueued: UInt32 = 0
    var optionMemory: UInt32 = 0
    var backlog: UInt32 = 0
    var drops: UInt32 = 0
}
