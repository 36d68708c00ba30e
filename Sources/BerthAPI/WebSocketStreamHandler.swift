import NIOCore
import NIOWebSocket

/// Sits between NIO's frame codecs and a hijacked stream, so that the attach machinery reads
/// and writes plain bytes over a websocket as dockerd's does: every write goes out as one
/// data frame, the payloads of the client's data frames are its input, pings are answered,
/// and the client's close frame ends its input. Closing the connection sends the close frame
/// (1000) first.
final class WebSocketStreamHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = WebSocketFrame

    private var inputEnded = false
    private var closeSent = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !inputEnded else { return }
        let frame = unwrapInboundIn(data)
        // RFC 6455 5.1: a client masks every frame; dockerd refuses one that is not.
        guard frame.maskKey != nil else {
            refuse(context, code: .protocolError)
            return
        }
        switch frame.opcode {
        case .text, .binary, .continuation:
            let payload = frame.unmaskedData
            if payload.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(payload)) }
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .pong:
            break
        case .connectionClose:
            endInput(context)
        default:
            refuse(context, code: .protocolError)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let error = error as? NIOWebSocketError else {
            context.fireErrorCaught(error)
            return
        }
        refuse(context, code: error == .invalidFrameLength ? .messageTooLarge : .protocolError)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !closeSent else {
            promise?.fail(ChannelError.outputClosed)
            return
        }
        // Binary: dockerd sends text frames only to clients older than API 1.28, which Berth
        // refuses (its minimum is 1.40).
        let frame = WebSocketFrame(fin: true, opcode: .binary, data: unwrapOutboundIn(data))
        context.write(wrapOutboundOut(frame), promise: promise)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode != .input && !closeSent && context.channel.isActive {
            sendClose(context, code: .normalClosure)
            closeSent = true
        }
        context.close(mode: mode, promise: promise)
    }

    /// A frame the protocol does not allow: dockerd's library answers with a close frame of
    /// its own and stops reading, so the attachment ends (and sends its 1000 after it).
    private func refuse(_ context: ChannelHandlerContext, code: WebSocketErrorCode) {
        guard !inputEnded else { return }
        sendClose(context, code: code)
        endInput(context)
    }

    private func sendClose(_ context: ChannelHandlerContext, code: WebSocketErrorCode) {
        var payload = context.channel.allocator.buffer(capacity: 2)
        payload.write(webSocketErrorCode: code)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: payload)), promise: nil)
    }

    /// The stream reading the client's input ends as it does when the client half-closes.
    private func endInput(_ context: ChannelHandlerContext) {
        inputEnded = true
        context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
    }
}
