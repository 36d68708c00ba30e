import BerthOCI
import FoundationEssentials
import Glibc

/// A `remote=` build context (POST /build), fetched as dockerd's classic builder fetches it:
/// a git repository is cloned; any other http(s) URL is downloaded and is either a plain
/// Dockerfile (text/plain, with an empty context) or a context archive (tar, gzip, bzip2,
/// xz). Errors are dockerd's texts. Blocking.
enum RemoteBuildContext {
    enum Fetched {
        /// The downloaded archive's path and size.
        case archive(String, size: Int64)
        /// The downloaded Dockerfile's text and size.
        case dockerfile(String, size: Int64)
        /// A checkout to build from.
        case directory(String)

        /// What dockerd's progress reader said of a download ("Downloading context"), nil for a clone.
        func progress(_ url: String) -> PullMessage? {
            let size: Int64
            switch self {
            case .archive(_, let bytes), .dockerfile(_, let bytes): size = bytes
            case .directory: return nil
            }
            let human = ProgressBar.humanSize(size)
            return PullMessage(status: url, progressDetail: .init(current: size, total: nil),
                               progress: String(repeating: " ", count: max(0, 8 - human.count)) + human, id: "Downloading context")
        }
    }

    static func fetch(_ remote: String, workDirectory: String, cancellation: TransferCancellation) throws -> Fetched {
        if remote == "client-session" {
            throw BerthError.invalidArgument("experimental session with v1 builder is no longer supported, use builder version v2 (BuildKit) instead")
        }
        if GitRemote.isGitURL(remote) {
            let repository = try GitRemote.parse(remote)
            return .directory(try GitClone(remote: repository, root: workDirectory + "/git", cancellation: cancellation).run())
        }
        guard GitRemote.isURL(remote) else {
            throw BerthError.internalError("remoteURL (\(remote)) could not be recognized as URL")
        }
        let path = workDirectory + "/remote-context"
        let response: RemoteDownload.Response
        do {
            response = try RemoteDownload.get(remote, to: path, cancellation: cancellation)
        } catch let error as BerthError {
            throw BerthError(error.code, "error downloading remote context \(remote): \(error.message)")
        }
        let header = response.headers["content-type"] ?? ""
        func failure(_ reason: String) -> BerthError {
            BerthError.internalError("error detecting content type for remote \(remote): \(reason)")
        }
        guard response.size > 0 else { throw failure("empty response") }
        var contentType = header
        if header.isEmpty || header == "application/octet-stream" {
            contentType = ContentSniffer.detect(preamble(path, size: response.size, announced: response.headers["content-length"]))
        }
        guard let acceptable = ContentSniffer.acceptableContextType(contentType) else {
            throw failure("unsupported Content-Type \"\(header)\"")
        }
        if acceptable == "text/plain" {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw BerthError.internalError("cannot read \(path): \(String(cString: strerror(errno)))") }
            let text = String(decoding: DescriptorIO.readToEnd(fd), as: UTF8.self)
            close(fd)
            unlink(path)
            return .dockerfile(text, size: response.size)
        }
        return .archive(path, size: response.size)
    }

    /// The first bytes dockerd looks at: 100, or the announced length when it is smaller.
    static func preamble(_ path: String, size: Int64, announced: String?) -> [UInt8] {
        var length = 100
        if let announced = announced.flatMap({ Int($0) }), announced > 0, announced < length { length = announced }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: length)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, length, 0) }
        return Array(bytes.prefix(max(0, count)))
    }
}
