import FoundationEssentials

/// The `X-Registry-Auth` header: base64url JSON of the CLI's auth config. Only basic
/// credentials and tokens are used; an empty or `{}` header is anonymous.
struct RegistryCredentials: Equatable {
    var username: String?
    var password: String?
    var identityToken: String?
    var registryToken: String?

    var isAnonymous: Bool { username == nil && identityToken == nil && registryToken == nil }

    static func decode(_ header: String?) -> RegistryCredentials {
        guard var text = header?.trimmedSpaces, !text.isEmpty else { return RegistryCredentials() }
        text = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        while text.count % 4 != 0 { text += "=" }
        struct Config: Decodable {
            var username: String?
            var password: String?
            var auth: String?
            var identitytoken: String?
            var registrytoken: String?
        }
        guard let data = Data(base64Encoded: text), let config = try? JSONDecoder().decode(Config.self, from: data) else {
            return RegistryCredentials()
        }
        var credentials = RegistryCredentials()
        func nonEmpty(_ value: String?) -> String? { value.flatMap { $0.isEmpty ? nil : $0 } }
        credentials.username = nonEmpty(config.username)
        credentials.password = config.password
        if credentials.username == nil, let auth = nonEmpty(config.auth), let decoded = Data(base64Encoded: auth),
           let pair = String(data: decoded, encoding: .utf8), let colon = pair.firstIndex(of: ":") {
            credentials.username = String(pair[..<colon])
            credentials.password = String(pair[pair.index(after: colon)...])
        }
        credentials.identityToken = nonEmpty(config.identitytoken)
        credentials.registryToken = nonEmpty(config.registrytoken)
        return credentials
    }

    /// "user:password" for basic authentication.
    var basic: String? { username.map { $0 + ":" + (password ?? "") } }
}
