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

    /// Requests whose body is an upload, spooled to disk rather than held in memory.
    static let uploadPaths: Set<String> = ["/images/load", "/images/create"]

    private let router: Router
    private let logger: Logger
    private let spoolDirectory: String
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false
    private var spool: (path: String, fd: Int32)?
    private var spoolFailed = false

    init(router: Router, logger: Logger, spoolDirectory: String) {
        self.router = router
        self.logger = logger
        self.spoolDirectory = spoolDirectory
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if let spool {
            close(spool.fd)
            unlink(spool.path)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = []
            tooLarge = false
            spoolFailed = false
            let path = Self.parse(requestHead.uri).1
            if requestHead.method == .POST && Self.uploadPaths.contains(path) {
                let file = spoolDirectory + "/upload-" + UUID().uuidString
                let fd = open(file, O_CREAT | O_WRONLY | O_EXCL | O_CLOEXEC, 0o600)
                if fd >= 0 { spool = (file, fd) } else { spoolFailed = true }
            }
        case .body(var buffer):
            if let spool {
                let written = buffer.withUnsafeReadableBytes { Glibc.write(spool.fd, $0.baseAddress, $0.count) }
                if written != buffer.readableBytes { spoolFailed = true }
            } else if body.count + buffer.readableBytes > Self.maximumBodySize {
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
        var request = APIRequest(method: head.method, path: path, apiVersion: version, query: query,
                                 headers: head.headers, body: body)
        if let spool {
            close(spool.fd)
            request.bodyFile = spool.path
            self.spool = nil
        }
        let spoolFailed = self.spoolFailed
        let finishedRequest = request
        let router = self.router
        let keepAlive = head.isKeepAlive
        let loop = context.eventLoop
        let tooLarge = self.tooLarge
        let promise = loop.makePromise(of: APIResponse.self)
        promise.completeWithTask {
            defer { if let file = finishedRequest.bodyFile { unlink(file) } }
            if tooLarge { return .error("request body is larger than \(HTTPHandler.maximumBodySize) bytes", status: .payloadTooLarge) }
            if spoolFailed { return .error("cannot store the uploaded body: \(String(cString: strerror(errno)))", status: .internalServerError) }
            return await router.handle(finishedRequest)
        }
        let logger = self.logger
        let boundContext = NIOLoopBound(context, eventLoop: loop)
        promise.futureResult.whenSuccess { response in
            let context = boundContext.value
            var headers = response.headers
            var file: (handle: NIOFileHandle, size: Int)?
            if let path = response.bodyFile {
                var info = stat()
                if stat(path, &info) == 0, let handle = try? NIOFileHandle(_deprecatedPath: path) {
                    file = (handle, Int(info.st_size))
                }
                unlink(path)  // the open handle keeps the data until it is sent
            }
            headers.replaceOrAdd(name: "Content-Length", value: String(file?.size ?? response.body.count))
            headers.replaceOrAdd(name: "Server", value: "Berth/\(SystemInfo.version) (linux)")
            headers.replaceOrAdd(name: "Api-Version", value: SystemInfo.apiVersion)
            headers.replaceOrAdd(name: "Connection", value: keepAlive ? "keep-alive" : "close")
            let responseHead = HTTPResponseHead(version: head.version, status: response.status, headers: headers)
            context.write(NIOAny(HTTPServerResponsePart.head(responseHead)), promise: nil)
            if let file, head.method != .HEAD {
                let region = FileRegion(fileHandle: file.handle, readerIndex: 0, endIndex: file.size)
                context.write(NIOAny(HTTPServerResponsePart.body(.fileRegion(region)))).whenComplete { _ in
                    try? file.handle.close()
                }
            } else if head.method != .HEAD && !response.body.isEmpty {
                var buffer = context.channel.allocator.buffer(capacity: response.body.count)
                buffer.writeBytes(response.body)
                context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer))), promise: nil)
            } else if let file {
                try? file.handle.close()
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

