import NIOCore
import NIOWebSocket

extension HTTPHandler {
    /// NIO's decoder holds a whole frame before handing it on; dockerd's library has no limit
    /// of its own. Terminals send keystrokes and pastes, far below this.
    static let maximumWebSocketFrame = 16 << 20

    /// The websocket flavour of `hijack`: once the HTTP handlers are off the connection, it
    /// writes the handshake's answer, and on a 101 puts the frame codecs and the
    /// WebSocketStreamHandler in their place, so that the session reads and writes bytes.
    static func hijackWebSocket(_ context: ChannelHandlerContext, answer: WebSocketHandshake.Answer, session: HijackedSession,
                                finished: @escaping @Sendable () -> Void) {
        let channel = context.channel
        let pipeline = channel.pipeline.syncOperations
        var removals: [EventLoopFuture<Void>] = []
        do {
            for handler in try httpHandlers(pipeline) {
                let removed = channel.eventLoop.makePromise(of: Void.self)
                pipeline.removeHandler(context: handler, promise: removed)
                removals.append(removed.futureResult)
            }
        } catch {
            channel.close(promise: nil)
            finished()
            return
        }
        // The answer's bytes must not meet the HTTP encoder, nor a frame meet the HTTP decoder.
        EventLoopFuture.andAllSucceed(removals, on: channel.eventLoop).whenComplete { result in
            defer { finished() }
            guard case .success = result else {
                channel.close(promise: nil)
                return
            }
            startWebSocket(channel, answer: answer, session: session)
        }
    }

    private static func startWebSocket(_ channel: any Channel, answer: WebSocketHandshake.Answer, session: HijackedSession) {
        switch answer {
        case .reject(let response):
            // As dockerd's library: the refusal, then the connection is closed.
            channel.writeAndFlush(ByteBuffer(string: response)).whenComplete { _ in channel.close(promise: nil) }
            return
        case .accept(let head):
            channel.writeAndFlush(ByteBuffer(string: head), promise: nil)
        }
        let asyncChannel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maximumWebSocketFrame)))
            try pipeline.addHandler(WebSocketFrameEncoder())
            try pipeline.addHandler(WebSocketStreamHandler())
            asyncChannel = try NIOAsyncChannel(wrappingChannelSynchronously: channel,
                                               configuration: .init(isOutboundHalfClosureEnabled: true))
        } catch {
            channel.close(promise: nil)
            return
        }
        channel.read()
        Task {
            try? await asyncChannel.executeThenClose { input, output in
                try await session.run(HijackedConnection(input: input, output: output, closed: channel.closeFuture))
            }
        }
    }
}
