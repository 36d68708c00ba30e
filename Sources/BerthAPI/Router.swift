import BerthOCI
import BerthEngine
import FoundationEssentials
import Glibc
import NIOHTTP1

/// Routes by method and path pattern ("/containers/{id}/json"), with or without a /v1.NN
/// prefix. The prefix's version must be one this daemon speaks.
public struct Router: Sendable {
    public typealias Handler = @Sendable (APIRequest, [String: String]) async throws -> APIResponse

    struct Route: Sendable {
        let method: HTTPMethod
        let segments: [Substring]
        let handler: Handler
    }

    private var routes: [Route] = []
    /// Routes whose {name} may contain slashes (image names): prefix + name + suffix.
    private var namedRoutes: [(method: HTTPMethod, prefix: String, suffix: String, allowsEmptyName: Bool, handler: Handler)] = []

    public init() {}

    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping Handler) {
        routes.append(Route(method: method, segments: pattern.split(separator: "/"), handler: handler))
    }

    /// A route like "/images/{name}/json" where the name may hold slashes
    /// ("/images/localhost:5000/app:1/json"); the longest match of the rest wins.
    /// With `allowsEmptyName` the route also takes "" (dockerd's `{name:.*}`: DELETE /containers/
    /// reaches the handler, which refuses the empty name in dockerd's words).
    public mutating func addNamed(_ method: HTTPMethod, prefix: String, suffix: String, allowsEmptyName: Bool = false,
                                  _ handler: @escaping Handler) {
        namedRoutes.append((method, prefix, suffix, allowsEmptyName, handler))
    }

    /// Splits "/v1.45/images/json" into ("1.45", "/images/json"). As dockerd's `/v{version:[0-9.]+}`,
    /// any digits and dots are a version: "/v1/..." is refused as too old, not an unknown path.
    static func splitVersion(_ path: String) -> (version: String?, path: String) {
        let parts = path.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: true)
        guard let first = parts.first, first.hasPrefix("v"), first.count > 1,
              first.dropFirst().allSatisfy({ ("0"..."9").contains($0) || $0 == "." }) else {
            return (nil, path)
        }
        return (String(first.dropFirst()), "/" + (parts.count > 1 ? String(parts[1]) : ""))
    }

    /// dockerd's wording for a version outside [minimum, current].
    static func checkVersion(_ version: String) -> APIResponse? {
        func number(_ text: String) -> [Int] { text.split(separator: ".").map { Int($0) ?? 0 } }
        if number(version).lexicographicallyPrecedes(number(SystemInfo.minimumAPIVersion)) {
            return .error("client version \(version) is too old. Minimum supported API version is "
                + "\(SystemInfo.minimumAPIVersion), please upgrade your client to a newer version", status: .badRequest)
        }
        if number(SystemInfo.apiVersion).lexicographicallyPrecedes(number(version)) {
            return .error("client version \(version) is too new. Maximum supported API version is "
                + "\(SystemInfo.apiVersion)", status: .badRequest)
        }
        return nil
    }

    /// dockerd's handlers parse the query first (httputils.ParseForm): one it cannot read
    /// is a 400 in Go's words. /_ping reads none.
    static func refuseQuery(_ request: APIRequest) -> APIResponse? {
        guard let error = request.queryError, request.path != "/_ping" else { return nil }
        return .error(error, status: .badRequest)
    }

    public func handle(_ request: APIRequest) async -> APIResponse {
        if let version = request.apiVersion, let refusal = Self.checkVersion(version) { return refusal }
        // dockerd answers OPTIONS on any path with an empty 200 (its CORS preflight route).
        if request.method == .OPTIONS { return APIResponse(status: .ok) }
        // As dockerd's router, a method matches only itself: HEAD finds only the routes made
        // for it (/_ping, a container's archive); on a GET route it is "page not found".
        for route in namedRoutes where route.method == request.method {
            let path = request.path
            guard path.hasPrefix(route.prefix), path.hasSuffix(route.suffix),
                  path.count >= route.prefix.count + route.suffix.count else { continue }
            let name = String(path.dropFirst(route.prefix.count).dropLast(route.suffix.count))
            guard !name.isEmpty || route.allowsEmptyName else { continue }
            if let refusal = Self.refuseQuery(request) { return refusal }
            do {
                return try await route.handler(request, ["name": name.percentDecoded ?? name])
            } catch {
                return .error(error)
            }
        }
        // As dockerd's router, "/containers/json/" is not "/containers/json".
        let segments = request.path.count > 1 && request.path.hasSuffix("/") ? [] : request.path.split(separator: "/")
        for route in routes where !segments.isEmpty && route.segments.count == segments.count {
            var parameters: [String: String] = [:]
            let matches = zip(route.segments, segments).allSatisfy { pattern, value in
                if pattern.hasPrefix("{") && pattern.hasSuffix("}") {
                    parameters[String(pattern.dropFirst().dropLast())] = value.percentDecoded ?? String(value)
                    return true
                }
                return pattern == value
            }
            guard matches else { continue }
            guard route.method == request.method else { continue }
            if let refusal = Self.refuseQuery(request) { return refusal }
            do {
                return try await route.handler(request, parameters)
            } catch {
                return .error(error)
            }
        }
        // dockerd answers an unknown path, and a known one with the wrong method, the same way.
        return .error("page not found", status: .notFound)
    }
}

