import NIOCore
import NIOHTTP1

/// A hijacked connection (attach, exec start; DESIGN rule 3): the route has answered, the
/// HTTP codecs are taken off the connection, and `run` gets the raw bytes both ways.
public struct HijackedSession: Sendable {
    /// Docker's raw stream (TTY) or multiplexed stdcopy frames (no TTY).
    public var multiplexed: Bool
    public var run: @Sendable (HijackedConnection) async throws -> Void

    public init(multiplexed: Bool, run: @escaping @Sendable (HijackedConnection) async throws -> Void) {
        self.multiplexed = multiplexed
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
    static func hijack(_ context: ChannelHandlerContext, request: HTTPRequestHead, session: HijackedSession,
                       finished: @escaping @Sendable () -> Void) {
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
        channel.read()
        finished()
        Task {
            try? await asyncChannel.executeThenClose { input, output in
                try await output.write(ByteBuffer(string: head))
                try await session.run(HijackedConnection(input: input, output: output, closed: channel.closeFuture))
            }
        }
    }

    /// Everything configureHTTPServerPipeline added, and the request handler itself.
    private static func httpHandlers(_ pipeline: ChannelPipeline.SynchronousOperations) throws -> [ChannelHandlerContext] {
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
