import BerthOCI
import FoundationEssentials
import Glibc

/// The push side of the distribution API: a blob's presence (HEAD), a cross-repository
/// mount, an upload (POST, then PATCH with the data, then PUT with the digest, as dockerd
/// uploads), and a manifest's PUT.
extension RegistryClient {
    /// How an upload began: the blob was mounted from another repository, or an upload
    /// session waits at `location`.
    enum UploadStart {
        case mounted
        case location(String)
    }

    /// The size of the blob when the repository holds it, nil when it does not.
    func blobSize(_ digest: String) throws -> Int64? {
        let url = base + "/v2/" + reference.path + "/blobs/" + digest
        let answer = try send(url, method: "HEAD", headers: authHeaders)
        if answer.status == 404 { return nil }
        guard (200..<300).contains(answer.status) else { throw pushError(answer, method: "HEAD", url: url) }
        return answer.headers["content-length"].flatMap { Int64($0) } ?? 0
    }

    /// Starts an upload; with `mount`, asks for the blob from the repository `from` (a path
    /// on this registry) first.
    func startUpload(mount: String? = nil, from: String? = nil) throws -> UploadStart {
        var url = base + "/v2/" + reference.path + "/blobs/uploads/"
        if let mount, let from { url += "?mount=" + Self.queryEscaped(mount) + "&from=" + Self.queryEscaped(from) }
        let answer = try send(url, method: "POST", headers: authHeaders, body: .data(Data()))
        if answer.status == 201, mount != nil { return .mounted }
        guard answer.status == 202, let location = answer.headers["location"] else { throw pushError(answer, method: "POST", url: url) }
        return .location(resolve(location))
    }

    /// Sends a file's bytes to an upload session and commits it as `digest`.
    func upload(to location: String, fd: Int32, length: Int64, digest: String, sent: @escaping (Int) throws -> Void) throws {
        let patch = try send(location, method: "PATCH", headers: authHeaders + ["Content-Type: application/octet-stream"],
                             body: .file(fd: fd, length: length, sent: sent))
        guard patch.status == 202 || patch.status == 204 else { throw pushError(patch, method: "PATCH", url: location) }
        let next = patch.headers["location"].map(resolve) ?? location
        let commit = next + (next.contains("?") ? "&" : "?") + "digest=" + Self.queryEscaped(digest)
        let put = try send(commit, method: "PUT", headers: authHeaders, body: .data(Data()))
        guard put.status == 201 || put.status == 204 else { throw pushError(put, method: "PUT", url: commit) }
    }

    /// A small blob (the image config) in one exchange, unless the repository holds it.
    func putBlob(_ data: Data, digest: String) throws {
        if try blobSize(digest) != nil { return }
        guard case .location(let location) = try startUpload() else { return }
        let commit = location + (location.contains("?") ? "&" : "?") + "digest=" + Self.queryEscaped(digest)
        let put = try send(commit, method: "PUT", headers: authHeaders + ["Content-Type: application/octet-stream"], body: .data(data))
        guard put.status == 201 || put.status == 204 else { throw pushError(put, method: "PUT", url: commit) }
    }

    /// PUT of a manifest under a tag.
    func putManifest(_ data: Data, mediaType: String, tag: String) throws {
        let url = base + "/v2/" + reference.path + "/manifests/" + tag
        let answer = try send(url, method: "PUT", headers: authHeaders + ["Content-Type: " + mediaType], body: .data(data))
        guard answer.status == 201 || answer.status == 200 || answer.status == 202 else { throw pushError(answer, method: "PUT", url: url) }
    }

    /// A Location header made absolute against the registry's base.
    private func resolve(_ location: String) -> String {
        location.hasPrefix("http://") || location.hasPrefix("https://") ? location : base + (location.hasPrefix("/") ? "" : "/") + location
    }

    /// A registry's refusal as dockerd words it: the registry's error code and message
    /// ("unauthorized: authentication required", "denied: requested access to the resource
    /// is denied"), else the unexpected status.
    func pushError(_ answer: RegistryHTTP.Response, method: String, url: String) -> BerthError {
        struct Errors: Decodable {
            struct Item: Decodable {
                var code: String?
                var message: String?
            }
            var errors: [Item]?
        }
        if let item = (try? JSONDecoder().decode(Errors.self, from: answer.body))?.errors?.first, let code = item.code {
            return .internalError(code.lowercased().replacing("_", with: " ") + ": " + (item.message ?? ""))
        }
        let text = HTTPStatusText.of(answer.status)
        return .internalError("\(method.prefix(1))\(method.dropFirst().lowercased()) \"\(url)\": received unexpected HTTP status: \(answer.status)" + (text.isEmpty ? "" : " " + text))
    }
}
