import BerthEngine
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// One HTTP/1.1 connection: collects each request (body bounded), routes it, writes the
/// response, keeps the connection alive as the client asks.
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// JSON request bodies are small; uploads (image load, build context) will stream instead.
    static let maximumBodySize = 10 << 20

    private let router: Router
    private let logger: Logger
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false

    init(router: Router, logger: Logger) {
        self.router = router
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = []
            tooLarge = false
        case .body(var buffer):
            if body.count + buffer.readableBytes > Self.maximumBodySize {
                tooLarge = true
            } else if let bytes = buffer.readBytes(length: buffer.readableBytes) {
                body += bytes
            }
        case .end:
            guard let head else { return }
            self.head = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let started = DispatchTime.now()
        let (version, path, query) = Self.parse(head.uri)
        let request = APIRequest(method: head.method, path: path, apiVersion: version, query: query,
                                 headers: head.headers, body: body)
        let router = self.router
        let keepAlive = head.isKeepAlive
        let loop = context.eventLoop
        let tooLarge = self.tooLarge
        let promise = loop.makePromise(of: APIResponse.self)
        promise.completeWithTask {
            if tooLarge { return .error("request body is larger than \(HTTPHandler.maximumBodySize) bytes", status: .payloadTooLarge) }
            return await router.handle(request)
        }
        let logger = self.logger
        let boundContext = NIOLoopBound(context, eventLoop: loop)
        promise.futureResult.whenSuccess { response in
            let context = boundContext.value
            var headers = response.headers
            headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
            headers.replaceOrAdd(name: "Server", value: "Berth/\(SystemInfo.version) (linux)")
            headers.replaceOrAdd(name: "Api-Version", value: SystemInfo.apiVersion)
            headers.replaceOrAdd(name: "Connection", value: keepAlive ? "keep-alive" : "close")
            let responseHead = HTTPResponseHead(version: head.version, status: response.status, headers: headers)
            context.write(NIOAny(HTTPServerResponsePart.head(responseHead)), promise: nil)
            if head.method != .HEAD && !response.body.isEmpty {
                var buffer = context.channel.allocator.buffer(capacity: response.body.count)
                buffer.writeBytes(response.body)
                context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer))), promise: nil)
            }
            let done = context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
            if !keepAlive {
                let channel = context.channel
                done.whenComplete { _ in channel.close(promise: nil) }
            }
            let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e6
            logger.debug("\(head.method) \(head.uri) \(response.status.code) \(String(format: "%.2f", milliseconds))ms")
        }
    }

    /// "/v1.50/images/json?all=1&filters=%7B%7D" → ("1.50", "/images/json", ["all": ["1"], ...]).
    static func parse(_ uri: String) -> (String?, String, [String: [String]]) {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let (version, path) = Router.splitVersion(String(parts[0]))
        var query: [String: [String]] = [:]
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let keyValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let decode = { (text: Substring) in
                    String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
                }
                query[decode(keyValue[0]), default: []].append(keyValue.count > 1 ? decode(keyValue[1]) : "")
            }
        }
        return (version, path, query)
    }
}

