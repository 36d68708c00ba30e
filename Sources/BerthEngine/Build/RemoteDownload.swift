import BerthOCI
import CCurl
import FoundationEssentials
import Glibc

/// An HTTP(S) GET into a file for the builder (ADD <URL>, a URL build context), as dockerd's
/// builder does it with Go's http.Get: redirects followed, the proxies of berthd's environment
/// (loopback exempt where no_proxy says so), a 4xx or 5xx answer an error carrying its body, in
/// dockerd's words. Unlike dockerd it is bounded in size and time and stops when cancelled.
/// Blocking: run it on a blocking thread. libcurl is loaded on the first use only.
struct RemoteDownload {
    /// What a download may bring: a larger one stops with an error (checked against the
    /// announced Content-Length before any byte is written, and as the bytes come).
    static let maximumBytes: Int64 = 8 << 30
    /// How long a download may take in all (a stalled one stops after a minute of silence).
    static let maximumSeconds: Int64 = 3600

    struct Response {
        /// The final response's headers (after redirects), names in lowercase.
        var headers: [String: String]
        var size: Int64
    }

    /// GETs `url` into `path` (made with mode 0600; nil discards the body, for a probe).
    /// `progress` gets (bytes so far, announced total or 0) as the body comes.
    static func get(_ url: String, to path: String?, method: String = "GET", cancellation: TransferCancellation,
                    limit: Int64 = maximumBytes, progress: @escaping (Int64, Int64) -> Void = { _, _ in }) throws -> Response {
        var fd: Int32 = -1
        if let path {
            fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw BerthError.internalError("cannot write \(path): \(String(cString: strerror(errno)))") }
        }
        defer { if fd >= 0 { close(fd) } }
        let state = DownloadState(url: url, fd: fd, limit: limit, cancellation: cancellation, progress: progress)
        var message = [CChar](repeating: 0, count: 512)
        var status = 0
        let opaque = Unmanaged.passUnretained(state).toOpaque()
        let result = berth_curl_request(method, url, [nil], nil, 1, downloadHeaderSink, downloadBodySink, nil, -1, opaque,
                                        &status, &message, message.count)
        if let stop = state.stop { throw stop }
        guard result == 0 else {
            throw transportError(url, curlMessage: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        guard status < 400 else {
            // Go's resp.Status: the code and the server's reason (the standard one when it gave none).
            let reason = state.reason.isEmpty ? standardReason(status) : state.reason
            let body = String(decoding: state.errorBody, as: UTF8.self).trimmed()
            let text = "failed to GET \(url) with status \(status) \(reason): \(body)"
            switch status {
            case 404: throw BerthError.notFound(text)
            case 400: throw BerthError.invalidArgument(text)
            case 403: throw BerthError(.forbidden, text)
            default: throw BerthError.internalError(text)
            }
        }
        return Response(headers: state.headers, size: state.written)
    }

    /// Go's words for a failure before any answer (`Get "url": dial tcp host:port: ...`).
    static func transportError(_ url: String, curlMessage: String) -> BerthError {
        let prefix = "Get \"\(url)\": "
        if curlMessage.hasPrefix("Could not resolve host: ") {
            let host = curlMessage.dropFirst("Could not resolve host: ".count)
            return BerthError.notFound(prefix + "dial tcp: lookup \(host): no such host")
        }
        if curlMessage.contains("Couldn't connect to server") || curlMessage.contains("Connection refused") {
            return BerthError.internalError(prefix + "dial tcp \(hostPort(url)): connect: connection refused")
        }
        return BerthError.internalError(prefix + curlMessage)
    }

    /// The URL's host and port (the scheme's default when it names none).
    static func hostPort(_ url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://") else { return url }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        var authority = url[schemeEnd.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let hasPort = authority.hasPrefix("[") ? authority.contains("]:") : authority.contains(":")
        return hasPort ? String(authority) : authority + (scheme == "https" ? ":443" : ":80")
    }

    static func standardReason(_ status: Int) -> String {
        [400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
         410: "Gone", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
         503: "Service Unavailable", 504: "Gateway Timeout"][status] ?? ""
    }

    /// A size as the limit messages give it (8GiB, 512MiB, or bytes).
    static func describe(bytes: Int64) -> String {
        if bytes % (1 << 30) == 0 { return "\(bytes >> 30)GiB" }
        if bytes % (1 << 20) == 0 { return "\(bytes >> 20)MiB" }
        return "\(bytes) bytes"
    }

    /// Seconds of CLOCK_MONOTONIC.
    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec)
    }

    /// Parses an HTTP date as Go's http.ParseTime does: RFC 1123 ("Mon, 02 Jan 2006 15:04:05
    /// GMT"), RFC 850 ("Monday, 02-Jan-06 15:04:05 GMT") or asctime ("Mon Jan  2 15:04:05 2006").
    static func parseHTTPDate(_ text: String) -> time_t? {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let words = text.split(whereSeparator: { $0 == " " || $0 == "-" || $0 == "," }).map(String.init)
        var day = 0, month = 0, year = 0, clock = ""
        if words.count == 6, words[5] == "GMT", let parsedDay = Int(words[1]), let index = months.firstIndex(of: words[2]),
           let parsedYear = Int(words[3]) {
            // RFC 1123, or RFC 850 with its two-digit year.
            (day, month, year, clock) = (parsedDay, index, words[3].count == 2 ? 1900 + parsedYear + (parsedYear < 69 ? 100 : 0) : parsedYear, words[4])
        } else if words.count == 5, let index = months.firstIndex(of: words[1]), let parsedDay = Int(words[2]), let parsedYear = Int(words[4]) {
            (day, month, year, clock) = (parsedDay, index, parsedYear, words[3])
        } else {
            return nil
        }
        let time = clock.split(separator: ":").compactMap { Int($0) }
        guard time.count == 3, (1...31).contains(day), (0..<24).contains(time[0]), (0..<60).contains(time[1]), (0..<61).contains(time[2]) else {
            return nil
        }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(time[0])
        parts.tm_min = Int32(time[1])
        parts.tm_sec = Int32(time[2])
        return timegm(&parts)
    }
}

/// What one download's callbacks gather; a sink that must stop the transfer says why in `stop`.
private final class DownloadState {
    let url: String
    let fd: Int32
    let limit: Int64
    let deadline: Int64
    let cancellation: TransferCancellation
    let progress: (Int64, Int64) -> Void
    var status = 0
    var reason = ""
    var headers: [String: String] = [:]
    var written: Int64 = 0
    var errorBody: [UInt8] = []
    var stop: BerthError?

    init(url: String, fd: Int32, limit: Int64, cancellation: TransferCancellation, progress: @escaping (Int64, Int64) -> Void) {
        self.url = url
        self.fd = fd
        self.limit = limit
        self.cancellation = cancellation
        self.progress = progress
        deadline = RemoteDownload.now() + RemoteDownload.maximumSeconds
    }

    var total: Int64 { headers["content-length"].flatMap { Int64($0) } ?? 0 }

    /// False (and `stop` set) when the transfer must end: cancelled, too slow in all.
    func mayGoOn() -> Bool {
        if cancellation.isCancelled {
            stop = BerthError.internalError("context canceled")
        } else if RemoteDownload.now() > deadline {
            stop = BerthError.internalError("failed to GET \(url): the download took longer than \(RemoteDownload.maximumSeconds / 60) minutes")
        }
        return stop == nil
    }

    func tooLarge() -> Bool {
        stop = BerthError.internalError("failed to GET \(url): the download is larger than the limit of \(RemoteDownload.describe(bytes: limit))")
        return false
    }

    func header(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard mayGoOn() else { return false }
        let line = String(decoding: bytes, as: UTF8.self).trimmed()
        if line.hasPrefix("HTTP/") {
            // A new response (after a redirect or a 100 Continue): its own headers only.
            headers = [:]
            let fields = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            status = fields.count > 1 ? Int(fields[1]) ?? 0 : 0
            reason = fields.count > 2 ? String(fields[2]) : ""
        } else if line.isEmpty {
            // The end of a response's headers: a body announced too large is refused before it comes.
            if (200..<300).contains(status) && total > limit { return tooLarge() }
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].lowercased()
            let value = String(line[line.index(after: colon)...]).trimmed()
            headers[name] = headers[name].map { $0 + ", " + value } ?? value
        }
        return true
    }

    func body(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard mayGoOn() else { return false }
        if status >= 400 {
            // The error's text: kept, within reason.
            errorBody += bytes.prefix(max(0, 64 << 10 - errorBody.count))
            return true
        }
        written += Int64(bytes.count)
        guard written <= limit else { return tooLarge() }
        if fd >= 0 {
            var offset = 0
            while offset < bytes.count {
                let count = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else {
                    stop = BerthError.internalError("failed to GET \(url): \(String(cString: strerror(errno)))")
                    return false
                }
                offset += count
            }
        }
        progress(written, total)
        return true
    }
}

private let downloadHeaderSink: berth_curl_sink = { data, length, pointer in
    Unmanaged<DownloadState>.fromOpaque(pointer!).takeUnretainedValue()
        .header(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
}

private let downloadBodySink: berth_curl_sink = { data, length, pointer in
    Unmanaged<DownloadState>.fromOpaque(pointer!).takeUnretainedValue()
        .body(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
}
