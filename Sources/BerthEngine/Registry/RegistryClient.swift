import BerthOCI
import BerthStore
import FoundationEssentials

/// A session with one registry for one repository, through the distribution API (v2):
/// the endpoint (HTTPS, or plain HTTP for an insecure registry, tried in that order as dockerd
/// does), its authentication (a Bearer token from the challenge's realm, anonymous or with the
/// given credentials, or basic credentials), and the manifest and blob requests.
final class RegistryClient {
    let reference: ImageReference
    /// "127.0.0.1:5000", or the Hub's registry host for docker.io.
    let host: String
    let credentials: RegistryCredentials
    private(set) var base = ""
    private(set) var authorization: String?
    private(set) var sendBasic = false
    /// An insecure registry's certificate is not checked (dockerd's InsecureSkipVerify).
    private(set) var verifyTLS = true
    /// What the token is asked for on the repository: "pull", or "push,pull" for a push.
    let actions: String

    static let manifestTypes = [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    ]
    static let userAgent = "User-Agent: docker/20.10 berthd"

    /// daemon.json's insecure-registries: CIDRs and host[:port] names.
    let insecureRegistries: [String]

    init(reference: ImageReference, credentials: RegistryCredentials, insecureRegistries: [String] = [], actions: String = "pull") {
        self.reference = reference
        self.actions = actions
        self.credentials = credentials
        self.insecureRegistries = insecureRegistries
        host = reference.domain == "docker.io" ? "registry-1.docker.io" : reference.domain
    }

    /// Registries on loopback addresses are insecure by default (dockerd's 127.0.0.0/8 and
    /// ::1); so are those daemon.json lists, by host[:port] or by a CIDR holding the host's
    /// address (written as an address: names are not resolved here).
    static func isInsecure(_ host: String, listed: [String] = []) -> Bool {
        var name = host
        if name.hasPrefix("[") { name = String(name.dropFirst().prefix { $0 != "]" }) }
        else if let colon = name.lastIndex(of: ":") { name = String(name[..<colon]) }
        if name == "localhost" || name == "::1" { return true }
        if let address = ipv4(name), address >> 24 == 127 { return true }
        for entry in listed {
            if entry == host || entry == name { return true }
            let parts = entry.split(separator: "/")
            if parts.count == 2, let network = ipv4(String(parts[0])), let bits = UInt32(parts[1]), bits <= 32,
               let address = ipv4(name) {
                let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - bits)
                if address & mask == network & mask { return true }
            }
        }
        return false
    }

    private static func ipv4(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt8($0) }
        guard octets.count == 4, text.split(separator: ".", omittingEmptySubsequences: false).count == 4 else { return nil }
        return octets.reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// GET /v2/: picks the endpoint and answers its challenge.
    func ping() throws {
        let insecure = Self.isInsecure(host, listed: insecureRegistries)
        verifyTLS = !insecure
        let schemes = insecure ? ["https", "http"] : ["https"]
        var answer: RegistryHTTP.Response?
        var failure = ""
        for scheme in schemes {
            let url = scheme + "://" + host + "/v2/"
            do {
                answer = try RegistryHTTP.request("GET", url, headers: [Self.userAgent], verifyTLS: verifyTLS)
                base = scheme + "://" + host
                break
            } catch let error as RegistryHTTP.TransportError {
                failure = "Get \"\(url)\": " + describe(error)
            }
        }
        guard let answer else { throw BerthError.internalError(failure) }
        if let token = credentials.registryToken {
            authorization = "Bearer " + token
            return
        }
        guard answer.status == 401, let header = answer.headers["www-authenticate"],
              let challenge = AuthChallenge.parse(header) else { return }
        if challenge.scheme == "bearer" {
            try fetchToken(challenge)
        } else if challenge.scheme == "basic" {
            sendBasic = credentials.basic != nil
        }
    }

    /// The token of a Bearer challenge for pulling (or pushing) this repository.
    private func fetchToken(_ challenge: AuthChallenge) throws {
        authorization = "Bearer " + (try Self.token(for: challenge, scope: "repository:\(reference.path):\(actions)",
                                                     credentials: credentials, verifyTLS: verifyTLS))
    }

    /// A Bearer challenge's token from its realm, for `scope` (none for a login), with the
    /// credentials given.
    static func token(for challenge: AuthChallenge, scope: String?, credentials: RegistryCredentials, verifyTLS: Bool,
                      login: Bool = false) throws -> String {
        guard let realm = challenge.parameters["realm"], realm.hasPrefix("http") else {
            throw BerthError.internalError("the registry's authentication challenge has no realm")
        }
        var query: [String] = []
        if let service = challenge.parameters["service"] { query.append("service=" + Self.queryEscaped(service)) }
        if let scope { query.append("scope=" + Self.queryEscaped(scope)) }
        if login, credentials.username != nil {
            // dockerd's login asks for a refresh token to hand back as the identity token.
            query += ["offline_token=true", "client_id=docker"]
        }
        if let token = credentials.identityToken {
            // An identity token is exchanged for an access token as a refresh token would be.
            query.append("refresh_token=" + Self.queryEscaped(token))
        }
        let url = realm + (realm.contains("?") ? "&" : "?") + query.joined(separator: "&")
        let answer: RegistryHTTP.Response
        do {
            answer = try RegistryHTTP.request("GET", url, headers: [Self.userAgent], basic: credentials.basic, verifyTLS: verifyTLS)
        } catch let error as RegistryHTTP.TransportError {
            throw BerthError.internalError("Get \"\(url)\": " + describe(error, host: host(of: url)))
        }
        guard answer.status == 200 else {
            if answer.status == 401 { throw BerthError.internalError("Get \"\(url)\": unauthorized: incorrect username or password") }
            throw BerthError.internalError("Get \"\(url)\": " + Self.statusText(answer))
        }
        struct Token: Decodable {
            var token: String?
            var access_token: String?
        }
        guard let token = try? JSONDecoder().decode(Token.self, from: answer.body), let value = token.token ?? token.access_token else {
            throw BerthError.internalError("Get \"\(url)\": the token server's answer has no token")
        }
        return value
    }

    /// "host:port" of a URL.
    static func host(of url: String) -> String {
        var rest = Substring(url)
        if let scheme = rest.firstRange(of: "://") { rest = rest[scheme.upperBound...] }
        return String(rest.prefix { $0 != "/" && $0 != "?" })
    }

    var authHeaders: [String] {
        [Self.userAgent] + (authorization.map { ["Authorization: " + $0] } ?? [])
    }

    /// A manifest by tag or digest: its bytes, media type and digest (checked against a
    /// digest reference).
    func manifest(_ tagOrDigest: String) throws -> (data: Data, mediaType: String, digest: String) {
        let url = base + "/v2/" + reference.path + "/manifests/" + tagOrDigest
        let answer = try send(url, headers: authHeaders + ["Accept: " + Self.manifestTypes.joined(separator: ", ")])
        guard answer.status == 200 else { throw error(for: answer, url: url) }
        let hasher = SHA256Hasher()
        answer.body.withUnsafeBytes { hasher.update($0) }
        let digest = hasher.finish()
        if tagOrDigest.hasPrefix("sha256:"), digest != tagOrDigest {
            throw BerthError.invalidArgument("manifest verification failed for digest \(tagOrDigest)")
        }
        var mediaType = answer.headers["content-type"] ?? ""
        if let semicolon = mediaType.firstIndex(of: ";") { mediaType = String(mediaType[..<semicolon]) }
        return (answer.body, mediaType, digest)
    }

    /// The repository's tags (GET /v2/<name>/tags/list), in the registry's order.
    func tags() throws -> [String] {
        let url = base + "/v2/" + reference.path + "/tags/list"
        let answer = try send(url, headers: authHeaders)
        guard answer.status == 200 else { throw error(for: answer, url: url) }
        struct List: Decodable { var tags: [String]? }
        guard let list = try? JSONDecoder().decode(List.self, from: answer.body) else {
            throw BerthError.internalError("Get \"\(url)\": the registry's tag list is not JSON")
        }
        return list.tags ?? []
    }

    /// A blob's bytes into `sink`, as they arrive.
    func blob(_ digest: String, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let url = base + "/v2/" + reference.path + "/blobs/" + digest
        let answer = try withoutActuallyEscaping(sink) { sink in try send(url, headers: authHeaders, sink: sink) }
        guard answer.status == 200 else { throw error(for: answer, url: url) }
    }

    func send(_ url: String, method: String = "GET", headers: [String], body: RegistryHTTP.RequestBody? = nil,
              sink: ((UnsafeRawBufferPointer) throws -> Void)? = nil) throws -> RegistryHTTP.Response {
        do {
            return try RegistryHTTP.request(method, url, headers: headers, basic: sendBasic ? credentials.basic : nil,
                                            verifyTLS: verifyTLS, body: body, sink: sink)
        } catch let error as RegistryHTTP.TransportError {
            // Go's url.Error: the method as net/http names it ("Get", "Head", "Put"…).
            throw BerthError.internalError("\(method.prefix(1))\(method.dropFirst().lowercased()) \"\(url)\": " + describe(error))
        }
    }

    /// dockerd's words for a registry's refusal: the registry's own error code and message
    /// after what it means for this reference.
    private func error(for answer: RegistryHTTP.Response, url: String) -> BerthError {
        struct Errors: Decodable {
            struct Item: Decodable {
                var code: String?
                var message: String?
            }
            var errors: [Item]?
        }
        guard let item = (try? JSONDecoder().decode(Errors.self, from: answer.body))?.errors?.first, let code = item.code else {
            if answer.status == 401 {
                return .notFound("pull access denied for \(reference.familiarRepository), repository does not exist or may require 'docker login'")
            }
            return .internalError("Get \"\(url)\": " + Self.statusText(answer))
        }
        let cause = code.lowercased().replacing("_", with: " ") + ": " + (item.message ?? "")
        switch code {
        case "MANIFEST_UNKNOWN":
            return .notFound("manifest for \(reference.familiar) not found: \(cause)")
        case "NAME_UNKNOWN":
            return .notFound("repository \(reference.familiarRepository) not found: \(cause)")
        case "DENIED", "UNAUTHORIZED":
            return .notFound("pull access denied for \(reference.familiarRepository), repository does not exist or may require 'docker login': \(cause)")
        default:
            return .internalError(cause)
        }
    }

    /// Go's net/http error for a refused connection; libcurl's text otherwise.
    private func describe(_ error: RegistryHTTP.TransportError) -> String {
        Self.describe(error, host: host)
    }

    static func describe(_ error: RegistryHTTP.TransportError, host: String) -> String {
        if error.message.contains("Couldn't connect") || error.message.contains("Connection refused") {
            return "dial tcp \(host): connect: connection refused"
        }
        return error.message
    }

    static func statusText(_ answer: RegistryHTTP.Response) -> String {
        "received unexpected HTTP status: \(answer.status)"
    }

    static func queryEscaped(_ text: String) -> String {
        var escaped = ""
        for byte in text.utf8 {
            if (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || "-_.~".utf8.contains(byte) {
                escaped.append(Character(Unicode.Scalar(byte)))
            } else {
                escaped += "%" + String(byte, radix: 16, uppercase: true).leftPadded(2)
            }
        }
        return escaped
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
