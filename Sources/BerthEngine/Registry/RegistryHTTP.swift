import BerthOCI
import CCurl
import FoundationEssentials
import Glibc

/// One HTTP exchange with a registry through libcurl (loaded on the first pull). Blocking:
/// pulls run on a blocking thread.
struct RegistryHTTP {
    struct Response {
        var status: Int
        /// Header names in lowercase; of the last response when redirects were followed.
        var headers: [String: String]
        var body: Data
    }

    /// A failure before any response: refused, unreachable, TLS, time-out.
    struct TransportError: Error {
        var message: String
    }

    /// What a request sends: bytes in memory (a manifest), or a file's bytes read as they
    /// go out, each piece told to `sent` (a layer's upload and its progress).
    enum RequestBody {
        case data(Data)
        case file(fd: Int32, length: Int64, sent: (Int) throws -> Void)

        var length: Int64 {
            switch self {
            case .data(let data): Int64(data.count)
            case .file(_, let length, _): length
            }
        }
    }

    /// Bodies larger than this are not kept in memory (manifests and errors are small).
    static let keptBodyLimit = 4 << 20

    /// Runs a request; the body goes to `sink` when given (only for a 2xx answer), else is kept.
    /// `verifyTLS` false accepts any certificate (an insecure registry).
    static func request(_ method: String, _ url: String, headers: [String] = [], basic: String? = nil, verifyTLS: Bool = true,
                        body: RequestBody? = nil, sink: ((UnsafeRawBufferPointer) throws -> Void)? = nil) throws -> Response {
        let context = RegistryHTTPContext(sink: sink, requestBody: body)
        let result = context.perform(method: method, url: url, headers: headers, basic: basic, verifyTLS: verifyTLS)
        if let failure = context.failure { throw failure }
        guard result == 0 else { throw TransportError(message: context.error) }
        return Response(status: context.status, headers: context.headers, body: context.body)
    }
}

/// What one request's callbacks gather.
private final class RegistryHTTPContext {
    var headers: [String: String] = [:]
    var status = 0
    var body = Data()
    let sink: ((UnsafeRawBufferPointer) throws -> Void)?
    let requestBody: RegistryHTTP.RequestBody?
    /// How much of an in-memory request body has gone out.
    private var dataOffset = 0
    var failure: Error?
    var error = ""

    init(sink: ((UnsafeRawBufferPointer) throws -> Void)?, requestBody: RegistryHTTP.RequestBody?) {
        self.sink = sink
        self.requestBody = requestBody
    }

    func perform(method: String, url: String, headers: [String], basic: String?, verifyTLS: Bool) -> Int32 {
        // No "Expect: 100-continue" before a body: registries answer at once.
        let copies = (requestBody == nil ? headers : ["Expect:"] + headers).map { strdup($0) }
        defer { for copy in copies { free(copy) } }
        let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } } + [nil]
        var message = [CChar](repeating: 0, count: 512)
        var code = 0
        let opaque = Unmanaged.passUnretained(self).toOpaque()
        let result = berth_curl_request(method, url, pointers, basic, verifyTLS ? 1 : 0, registryHeaderSink, registryBodySink,
                                        requestBody == nil ? nil : registryBodySource, requestBody?.length ?? -1, opaque,
                                        &code, &message, message.count)
        status = code
        error = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return result
    }

    /// The next piece of the request body into `buffer`; -1 (as UInt) stops the transfer.
    func fill(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
        switch requestBody {
        case .data(let data):
            let count = min(buffer.count, data.count - dataOffset)
            data.withUnsafeBytes { bytes in
                buffer.baseAddress!.copyMemory(from: bytes.baseAddress! + dataOffset, byteCount: count)
            }
            dataOffset += count
            return count
        case .file(let fd, _, let sent):
            let count = read(fd, buffer.baseAddress, buffer.count)
            guard count >= 0 else {
                failure = BerthError.internalError("read: \(String(cString: strerror(errno)))")
                return -1
            }
            do { try sent(count) } catch {
                failure = error
                return -1
            }
            return count
        case nil:
            return 0
        }
    }

    func header(_ bytes: UnsafeRawBufferPointer) {
        let line = String(decoding: bytes, as: UTF8.self).trimmedSpaces
        if line.hasPrefix("HTTP/") {
            // A new response (after a redirect): its own headers only.
            headers = [:]
            status = Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmedSpaces
            headers[name] = headers[name].map { $0 + ", " + value } ?? value
        }
    }

    func data(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if let sink, (200..<300).contains(status) {
            do { try sink(bytes) } catch {
                failure = error
                return false
            }
            return true
        }
        guard body.count + bytes.count <= RegistryHTTP.keptBodyLimit else { return false }
        body.append(contentsOf: bytes)
        return true
    }
}

private let registryBodySource: berth_curl_source = { buffer, capacity, pointer in
    let filled = Unmanaged<RegistryHTTPContext>.fromOpaque(pointer!).takeUnretainedValue()
        .fill(UnsafeMutableRawBufferPointer(start: buffer, count: capacity))
    return filled < 0 ? size_t.max : size_t(filled)
}

private let registryHeaderSink: berth_curl_sink = { data, length, pointer in
    Unmanaged<RegistryHTTPContext>.fromOpaque(pointer!).takeUnretainedValue()
        .header(UnsafeRawBufferPointer(start: data, count: length))
    return length
}

private let registryBodySink: berth_curl_sink = { data, length, pointer in
    Unmanaged<RegistryHTTPContext>.fromOpaque(pointer!).takeUnretainedValue()
        .data(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
}
