import BerthOCI
import FoundationEssentials

/// `docker search` (GET /images/search): the registry's v1 search endpoint asked for the term
/// (which may start with a registry host, `127.0.0.1:5000/name`), the results filtered by
/// is-official and stars, as dockerd does.
extension Engine {
    public struct SearchResult: Codable, Sendable {
        public var star_count: Int
        public var is_official: Bool
        public var name: String
        public var is_automated: Bool
        public var description: String
    }

    /// `filters`: the API's filters (is-official, is-automated, stars), already decoded.
    public func search(term: String, limit: Int, filters: [String: [String]]) throws -> [SearchResult] {
        for key in filters.keys where !["is-automated", "is-official", "stars"].contains(key) {
            throw BerthError.invalidArgument("invalid filter '\(key)'")
        }
        if try Self.boolFilter(filters, "is-automated") == true { return [] }
        let official = try Self.boolFilter(filters, "is-official")
        var minimumStars = 0
        for value in filters["stars"] ?? [] {
            guard let stars = Int(value) else {
                throw BerthError.invalidArgument("invalid filter 'stars=\(value)': strconv.Atoi: parsing \"\(value)\": invalid syntax")
            }
            minimumStars = max(minimumStars, stars)
        }
        let results = try searchUnfiltered(term: term, limit: limit)
        return results.filter { result in
            if let official, result.is_official != official { return false }
            if filters["stars"] != nil, result.star_count < minimumStars { return false }
            return true
        }.map { result in
            var result = result
            result.is_automated = false
            return result
        }
    }

    /// A boolean filter: nil when absent; "1"/"true" or "0"/"false", else dockerd's refusal.
    private static func boolFilter(_ filters: [String: [String]], _ key: String) throws -> Bool? {
        guard let values = filters[key] else { return nil }
        let isFalse = values.contains("0") || values.contains("false")
        let isTrue = values.contains("1") || values.contains("true")
        guard isFalse != isTrue else {
            throw BerthError.invalidArgument(values.isEmpty ? "invalid filter '\(key)'" : "invalid filter '\(key)=[\(values.sorted().joined(separator: " "))]'")
        }
        return isTrue
    }

    private func searchUnfiltered(term: String, limit: Int) throws -> [SearchResult] {
        if term.contains("://") {
            throw BerthError.invalidArgument("invalid repository name: repository name (\(term)) should not have a scheme")
        }
        // A first part with a dot or colon, or "localhost", names the registry.
        var index = "docker.io"
        var name = term
        let parts = term.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2, parts[0].contains(".") || parts[0].contains(":") || parts[0] == "localhost" {
            index = String(parts[0])
            name = String(parts[1])
        }
        if index == "index.docker.io" || index == "docker.io" {
            index = "index.docker.io"
            if name.hasPrefix("library/") { name = String(name.dropFirst(8)) }
        }
        let size = limit == 0 ? 25 : limit
        guard (1...100).contains(size) else { throw BerthError.invalidArgument("limit \(size) is outside the range of [1, 100]") }
        let insecure = RegistryClient.isInsecure(index, listed: settings.insecureRegistries)
        var failure = BerthError.internalError("no endpoints found for \(index)")
        for scheme in insecure ? ["https", "http"] : ["https"] {
            let url = scheme + "://" + index + "/v1/search?q=" + Self.formEscaped(name) + "&n=\(size)"
            let answer: RegistryHTTP.Response
            do {
                answer = try RegistryHTTP.request("GET", url, headers: [RegistryClient.userAgent, "X-Docker-Token: true"], verifyTLS: !insecure)
            } catch let error as RegistryHTTP.TransportError {
                failure = .internalError("Get \"\(url)\": " + RegistryClient.describe(error, host: index))
                continue
            }
            guard answer.status == 200 else { throw BerthError.internalError("unexpected status code \(answer.status)") }
            struct Results: Decodable { var results: [SearchResult]? }
            do {
                return try JSONDecoder().decode(Results.self, from: answer.body).results ?? []
            } catch {
                throw BerthError.internalError("error decoding registry search results: \(error)")
            }
        }
        throw failure
    }

    /// Go's url.QueryEscape: spaces as "+".
    private static func formEscaped(_ text: String) -> String {
        RegistryClient.queryEscaped(text).replacing("%20", with: "+")
    }
}
