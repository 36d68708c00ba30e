import BerthOCI
import FoundationEssentials

/// `docker login` (POST /auth), as dockerd checks credentials: the registry's `/v2/` pinged
/// (HTTPS, then plain HTTP for an insecure registry), its challenge answered (a Bearer token
/// fetched with the credentials, or basic credentials sent), and `/v2/` asked again with them.
/// Nothing is kept: the CLI stores the credentials and sends them with each pull and push.
extension Engine {
    /// Answers the identity token a token server handed back (empty when none).
    public func login(_ credentials: RegistryLoginRequest) throws -> String {
        let host = try Self.registryHost(credentials.serverAddress)
        let insecure = RegistryClient.isInsecure(host, listed: settings.insecureRegistries)
        var lastError = BerthError.internalError("no endpoints found for \(host)")
        for scheme in insecure ? ["https", "http"] : ["https"] {
            let endpoint = scheme + "://" + host + "/v2/"
            do {
                return try login(endpoint: endpoint, credentials: credentials.credentials, verifyTLS: !insecure)
            } catch let error as BerthError where error.code == .unauthorized {
                // Refused credentials: no other endpoint is tried with them.
                throw error
            } catch let error as BerthError {
                lastError = error
            }
        }
        throw lastError
    }

    private func login(endpoint: String, credentials: RegistryCredentials, verifyTLS: Bool) throws -> String {
        func get(_ headers: [String], basic: String? = nil) throws -> RegistryHTTP.Response {
            do {
                return try RegistryHTTP.request("GET", endpoint, headers: [RegistryClient.userAgent] + headers, basic: basic, verifyTLS: verifyTLS)
            } catch let error as RegistryHTTP.TransportError {
                throw BerthError.internalError("Get \"\(endpoint)\": " + RegistryClient.describe(error, host: RegistryClient.host(of: endpoint)))
            }
        }
        let ping = try get([])
        var answer = ping
        var identityToken = ""
        if ping.status == 401, let header = ping.headers["www-authenticate"], let challenge = AuthChallenge.parse(header) {
            if challenge.scheme == "bearer" {
                let token: String
                do {
                    token = try RegistryClient.token(for: challenge, scope: nil, credentials: credentials, verifyTLS: verifyTLS, login: true)
                } catch let error as BerthError where error.message.hasSuffix(": unauthorized: incorrect username or password") {
                    // Go's url.Error names the request the token was for.
                    throw BerthError.unauthorized("Get \"\(endpoint)\": unauthorized: incorrect username or password")
                }
                answer = try get(["Authorization: Bearer " + token])
                identityToken = credentials.identityToken ?? ""
            } else if challenge.scheme == "basic" {
                answer = try get([], basic: credentials.basic)
            }
        }
        guard answer.status == 200 else {
            throw BerthError.internalError("login attempt to \(endpoint) failed with status: \(answer.status) \(HTTPStatusText.of(answer.status))")
        }
        return identityToken
    }

    /// The registry's host[:port] from the login's server address (a host, or a URL with
    /// http or https), as dockerd reads it; empty is the default registry.
    static func registryHost(_ serverAddress: String) throws -> String {
        guard !serverAddress.isEmpty else { return "registry-1.docker.io" }
        var address = Substring(serverAddress)
        if address.hasPrefix("https://") { address = address.dropFirst(8) } else if address.hasPrefix("http://") { address = address.dropFirst(7) }
        let host = address.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !host.isEmpty, host.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "%" && $0 != "@" }) else {
            throw BerthError.invalidArgument("unable to parse server address: invalid server address \(serverAddress)")
        }
        return host == "index.docker.io" || host == "docker.io" ? "registry-1.docker.io" : String(host)
    }
}

/// The body of POST /auth: the CLI's auth config.
public struct RegistryLoginRequest: Decodable, Sendable {
    public var username: String?
    public var password: String?
    public var auth: String?
    public var serveraddress: String?
    public var identitytoken: String?
    public var registrytoken: String?

    public init() {}

    var serverAddress: String { serveraddress ?? "" }

    var credentials: RegistryCredentials {
        var credentials = RegistryCredentials()
        credentials.username = username.flatMap { $0.isEmpty ? nil : $0 }
        credentials.password = password
        if credentials.username == nil, let auth, let decoded = Data(base64Encoded: auth),
           let pair = String(data: decoded, encoding: .utf8), let colon = pair.firstIndex(of: ":") {
            credentials.username = String(pair[..<colon])
            credentials.password = String(pair[pair.index(after: colon)...])
        }
        credentials.identityToken = identitytoken.flatMap { $0.isEmpty ? nil : $0 }
        credentials.registryToken = registrytoken.flatMap { $0.isEmpty ? nil : $0 }
        return credentials
    }
}

/// Go's http.StatusText for the statuses a registry answers.
enum HTTPStatusText {
    static func of(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: ""
        }
    }
}
