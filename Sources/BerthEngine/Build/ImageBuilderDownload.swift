import BerthOCI
import BerthStore
import FoundationEssentials
import Glibc

/// ADD <URL>: the file downloaded (at every build, as dockerd does: the cache compares its
/// content) into a private directory of the build, named from the URL's path (or the
/// response's Content-Disposition), mode 0600, its mtime the response's Last-Modified (or
/// the epoch), never unpacked. The download's progress goes into the build's output.
extension ImageBuilder {
    /// The name dockerd gives a download with no name to tell.
    static let unnamedDownload = "__unnamed__"

    /// Downloads `url`; the source it is, in its own directory (`downloads` gets it, for removal).
    func downloadSource(_ url: String, destination: String, downloads: inout [String]) async throws -> CopySource {
        let directory = context.workDirectory + "/download-" + UUID().uuidString
        guard mkdir(directory, 0o700) == 0 else {
            throw BuildFailure("ADD failed: cannot make a download directory: \(String(cString: strerror(errno)))")
        }
        downloads.append(directory)
        let partial = directory + "/.partial"
        let response = try await download(url, to: partial)
        var name = Self.fileName(urlPath: Self.urlPath(url)) ?? Self.fileName(contentDisposition: response.headers["content-disposition"])
        try await say("\n")
        if name == nil {
            if destination.hasSuffix("/") { throw BuildFailure("ADD failed: cannot determine filename for source \(url)") }
            name = Self.unnamedDownload
        }
        let path = directory + "/" + name!
        guard rename(partial, path) == 0 else { throw BuildFailure("ADD failed: \(String(cString: strerror(errno)))") }
        let modified = response.headers["last-modified"].flatMap(RemoteDownload.parseHTTPDate) ?? 0
        var times = [timespec(tv_sec: modified, tv_nsec: 0), timespec(tv_sec: modified, tv_nsec: 0)]
        guard utimensat(AT_FDCWD, path, &times, 0) == 0 else { throw BuildFailure("ADD failed: chtimes \(path): \(String(cString: strerror(errno)))") }
        var source = CopySource(path: name!, isDirectory: false, name: name!)
        source.root = directory
        source.scoped = try ScopedRoot(path: directory)
        source.unpack = false
        return source
    }

    /// The GET, its progress sent as dockerd's ("Downloading" and a bar), stopped when the
    /// build's client leaves.
    private func download(_ url: String, to path: String) async throws -> RemoteDownload.Response {
        let cancellation = TransferCancellation()
        let (updates, continuation) = AsyncStream.makeStream(of: DownloadProgress.self, bufferingPolicy: .bufferingNewest(16))
        let engine = self.engine
        let work = Task {
            defer { continuation.finish() }
            return try await engine.blocking {
                let throttle = DownloadThrottle(continuation)
                let response = try RemoteDownload.get(url, to: path, cancellation: cancellation) { throttle.update($0, $1) }
                throttle.finish(response.size, total: response.headers["content-length"].flatMap { Int64($0) } ?? 0)
                return response
            }
        }
        do {
            try await cancellation.bound {
                for await update in updates { try await emit(.pull(update.message)) }
            }
            return try await cancellation.bound { try await work.value }
        } catch {
            cancellation.cancel()
            _ = try? await work.value
            if let error = error as? BerthError { throw BuildFailure("ADD failed: " + error.message) }
            throw error
        }
    }

    /// Go's url.Parse(...).Path: after the host, before the query or fragment, %-decoded.
    static func urlPath(_ url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://") else { return "" }
        let rest = url[schemeEnd.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return "" }
        let raw = rest[slash...].prefix { $0 != "?" && $0 != "#" }
        var bytes: [UInt8] = []
        var utf8 = Array(raw.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The last element of a path not ending in "/" (nil when there is none).
    static func fileName(urlPath path: String) -> String? {
        guard !path.isEmpty, !path.hasSuffix("/") else { return nil }
        let base = path.split(separator: "/").last.map(String.init) ?? ""
        return base.isEmpty || base == "." || base == ".." ? nil : base
    }

    /// `attachment; filename="name"`: its base name.
    static func fileName(contentDisposition: String?) -> String? {
        guard let contentDisposition else { return nil }
        for parameter in contentDisposition.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { String($0).trimmed() }
            guard pair.count == 2, pair[0].lowercased() == "filename" else { continue }
            var value = pair[1]
            if value.count >= 2 && value.hasPrefix("\"") && value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            return fileName(urlPath: value)
        }
        return nil
    }
}

/// A download's progress as dockerd's progress reader reports it.
struct DownloadProgress: Sendable {
    var current: Int64
    var total: Int64

    var message: PullMessage {
        guard total > 0 else {
            // No length announced: the size alone, right-aligned in eight columns.
            let human = ProgressBar.humanSize(current)
            return PullMessage(status: "Downloading", progressDetail: .init(current: current, total: nil),
                               progress: String(repeating: " ", count: max(0, 8 - human.count)) + human)
        }
        return PullMessage(status: "Downloading", progressDetail: .init(current: current, total: total),
                           progress: ProgressBar.text(current: current, total: total))
    }
}

/// dockerd's pace for progress: after each 1% (at most 512 kB), at most every 100 ms but
/// always at the end, and once more when the body is done.
private final class DownloadThrottle {
    let continuation: AsyncStream<DownloadProgress>.Continuation
    var lastReported: Int64 = 0
    var lastSent: Int64 = -1
    var lastTime: UInt64 = 0

    init(_ continuation: AsyncStream<DownloadProgress>.Continuation) { self.continuation = continuation }

    func update(_ current: Int64, _ total: Int64) {
        var every: Int64 = 512 * 1024
        if total > 0 { every = min(every, total / 100) }
        guard current - lastReported > every else { return }
        lastReported = current
        var clock = timespec()
        clock_gettime(CLOCK_MONOTONIC, &clock)
        let now = UInt64(clock.tv_sec) * 1_000_000_000 + UInt64(clock.tv_nsec)
        guard current == total || now - lastTime >= 100_000_000 else { return }
        lastTime = now
        lastSent = current
        continuation.yield(DownloadProgress(current: current, total: total))
    }

    /// Go's reader reports the end with the last bytes when the length was announced (said
    /// already if those bytes were), and on its own read of the end when it was not.
    func finish(_ size: Int64, total: Int64) {
        guard total <= 0 || lastSent != size else { return }
        continuation.yield(DownloadProgress(current: size, total: total))
    }
}
