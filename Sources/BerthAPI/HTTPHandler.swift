import BerthOCI
import BerthEngine
import FoundationEssentials
import Dispatch
import Glibc
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
    static let uploadPaths: Set<String> = ["/images/load", "/images/create", "/build"]

    /// `docker cp` into a container: PUT /containers/{id}/archive carries a tar of any size.
    static func isArchiveUpload(_ method: HTTPMethod, _ path: String) -> Bool {
        method == .PUT && path.hasPrefix("/containers/") && path.hasSuffix("/archive")
    }

    private let router: Router
    private let logger: Logger
    private let spoolDirectory: String
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false
    private var spool: (path: String, fd: Int32)?
    /// Why the upload could not be written to disk, if it could not.
    private var spoolError: String?

    private let inFlight: InFlightRequests
    /// A request whose head came but whose end did not (yet).
    private var requestOpen = false
    /// The task writing a streamed body: cancelled when the client leaves, so that an
    /// endless stream (events) ends and frees what it holds without waiting for a write.
    private var streamTask: Task<Void, Never>?
    /// The client closed its side or left. A client can leave before its answer starts (a
    /// follow, an events or a wait request sent and the connection closed at once): the
    /// stream that starts afterwards is cancelled at once, or, with nothing to write, it would
    /// hold its log file, subscription or waiter for as long as the container lives.
    private var clientGone = false
    /// Cancelled when the client goes away while a route still works on its request (a
    /// build fetching a remote context before it answers).
    private var clientLeft: TransferCancellation?

    init(router: Router, logger: Logger, spoolDirectory: String, inFlight: InFlightRequests) {
        self.inFlight = inFlight
        self.router = router
        self.logger = logger
        self.spoolDirectory = spoolDirectory
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if requestOpen {  // the client left in the middle of sending it
            requestOpen = false
            inFlight.end()
        }
        if let spool {
            close(spool.fd)
            unlink(spool.path)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        clientGone = true
        clientLeft?.cancel()
        streamTask?.cancel()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The client closed its side: nobody reads the stream any more.
        if let event = event as? ChannelEvent, event == .inputClosed {
            clientGone = true
            clientLeft?.cancel()
            streamTask?.cancel()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            requestOpen = true
            inFlight.begin()
            // curl waits a second for this before sending a large body.
            if requestHead.headers["Expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                let proceed = HTTPResponseHead(version: requestHead.version, status: .continue)
                context.writeAndFlush(wrapOutboundOut(.head(proceed)), promise: nil)
            }
            body = []
            tooLarge = false
            spoolError = nil
            let path = Self.parse(requestHead.uri).1
            if (requestHead.method == .POST && Self.uploadPaths.contains(path)) || Self.isArchiveUpload(requestHead.method, path) {
                let file = spoolDirectory + "/upload-" + UUID().uuidString
                let fd = open(file, O_CREAT | O_WRONLY | O_EXCL | O_CLOEXEC, 0o600)
                if fd >= 0 { spool = (file, fd) } else { spoolError = String(cString: strerror(errno)) }
            }
        case .body(var buffer):
            if let spool {
                let written = buffer.withUnsafeReadableBytes { Glibc.write(spool.fd, $0.baseAddress, $0.count) }
                if written != buffer.readableBytes && spoolError == nil { spoolError = String(cString: strerror(errno)) }
            } else if body.count + buffer.readableBytes > Self.maximumBodySize {
                tooLarge = true
            } else if let bytes = buffer.readBytes(length: buffer.readableBytes) {
                body += bytes
            }
        case .end:
            guard let head else { return }
            self.head = nil
            requestOpen = false  // from here the response's completion ends it
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let started = DispatchTime.now()
        let (version, path, query) = Self.parse(head.uri)
        var request = APIRequest(method: head.method, path: path, apiVersion: version, query: query,
                                 headers: head.headers, body: body)
        request.queryError = GoQueryCheck.error(head.uri)
        clientLeft = request.clientLeft
        // The request has the body now: an idle keep-alive connection (docker-py's and
        // compose's pools) must not hold up to 10 MiB of its last request until the next one.
        body = []
        if let spool {
            close(spool.fd)
            request.bodyFile = spool.path
            self.spool = nil
        }
        let spoolError = self.spoolError
        let finishedRequest = request
        let router = self.router
        let keepAlive = head.isKeepAlive
        let loop = context.eventLoop
        let tooLarge = self.tooLarge
        let promise = loop.makePromise(of: APIResponse.self)
        promise.completeWithTask {
            defer { if let file = finishedRequest.bodyFile { unlink(file) } }
            if let location = PathCleaning.redirect(for: head.uri) {
                return APIResponse(status: .movedPermanently, headers: ["Location": location])
            }
            if tooLarge { return .error("request body is larger than \(HTTPHandler.maximumBodySize) bytes", status: .payloadTooLarge) }
            if let spoolError { return .error("cannot store the uploaded body: \(spoolError)", status: .internalServerError) }
            return await router.handle(finishedRequest)
        }
        let logger = self.logger
        let boundContext = NIOLoopBound(context, eventLoop: loop)
        let inFlight = self.inFlight
        let boundSelf = NIOLoopBound(self, eventLoop: loop)
        // The response is out (or given up on): count it done and log it.
        let finished = { @Sendable (status: HTTPResponseStatus) in
            inFlight.end()
            let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e6
            logger.debug("\(head.method) \(head.uri) \(status.code) \((milliseconds * 100).rounded() / 100)ms")
        }
        promise.futureResult.whenSuccess { response in
            let context = boundContext.value
            if let session = response.hijack {
                HTTPHandler.hijack(context, request: head, session: session) { finished(response.status) }
                return
            }
            var headers = response.headers
            if response.stream == nil {
                headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
            }  // else NIO's encoder adds Transfer-Encoding: chunked
            headers.replaceOrAdd(name: "Server", value: "Berth/\(SystemInfo.version) (linux)")
            headers.replaceOrAdd(name: "Api-Version", value: SystemInfo.apiVersion)
            headers.replaceOrAdd(name: "Connection", value: keepAlive ? "keep-alive" : "close")
            let responseHead = HTTPResponseHead(version: head.version, status: response.status, headers: headers)
            context.write(NIOAny(HTTPServerResponsePart.head(responseHead)), promise: nil)
            let channel = context.channel
            if let stream = response.stream, head.method != .HEAD {
                context.flush()
                boundSelf.value.streamTask = Task {
                    let sender = ChunkSender(channel: channel)
                    do {
                        try await stream.produce(ResponseWriter(send: sender.send))
                        try await sender.finish()
                        if !keepAlive { try? await channel.close() }
                        finished(response.status)
                    } catch {
                        // The head is sent: all that can be said now is a cut-off body. Clients
                        // routinely hang up once they have what they wanted (the CLI closes a
                        // wait stream after its JSON, before the last chunk): debug, not info.
                        logger.debug("\(head.method) \(head.uri): response stream ended early: \(error)")
                        try? await channel.close()
                        finished(response.status)
                    }
                }
                if boundSelf.value.clientGone { boundSelf.value.streamTask?.cancel() }
                return
            }
            if head.method != .HEAD && !response.body.isEmpty {
                var buffer = context.channel.allocator.buffer(capacity: response.body.count)
                buffer.writeBytes(response.body)
                context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer))), promise: nil)
            }
            let done = context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
            if !keepAlive {
                done.whenComplete { _ in channel.close(promise: nil) }
            }
            finished(response.status)
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
                    String(text).replacing("+", with: " ").percentDecoded ?? String(text)
                }
                query[decode(keyValue[0]), default: []].append(keyValue.count > 1 ? decode(keyValue[1]) : "")
            }
        }
        return (version, path, query)
    }
}


/// Sends the chunks of a streamed body with one write in flight: the next chunk is prepared
/// while the previous one is written, and waits for it, which is the backpressure.
private final class ChunkSender: @unchecked Sendable {
    private let channel: Channel
    private var pending: EventLoopFuture<Void>?

    init(channel: Channel) { self.channel = channel }

    func send(_ buffer: ByteBuffer) async throws {
        try await pending?.get()
        pending = channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(buffer)))
    }

    func finish() async throws {
        try await pending?.get()
        try await channel.writeAndFlush(HTTPServerResponsePart.end(nil)).get()
    }
}
