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
    private var namedRoutes: [(method: HTTPMethod, prefix: String, suffix: String, handler: Handler)] = []

    public init() {}

    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping Handler) {
        routes.append(Route(method: method, segments: pattern.split(separator: "/"), handler: handler))
    }

    /// A route like "/images/{name}/json" where the name may hold slashes
    /// ("/images/localhost:5000/app:1/json"); the longest match of the rest wins.
    public mutating func addNamed(_ method: HTTPMethod, prefix: String, suffix: String, _ handler: @escaping Handler) {
        namedRoutes.append((method, prefix, suffix, handler))
    }

    /// Splits "/v1.45/images/json" into ("1.45", "/images/json").
    static func splitVersion(_ path: String) -> (version: String?, path: String) {
        let parts = path.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: true)
        guard let first = parts.first, first.hasPrefix("v"), first.dropFirst().allSatisfy({ $0.isNumber || $0 == "." }),
              first.contains(".") else {
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

    public func handle(_ request: APIRequest) async -> APIResponse {
        if let version = request.apiVersion, let refusal = Self.checkVersion(version) { return refusal }
        for route in namedRoutes where route.method == request.method || (route.method == .GET && request.method == .HEAD) {
            let path = request.path
            guard path.hasPrefix(route.prefix), path.hasSuffix(route.suffix),
                  path.count > route.prefix.count + route.suffix.count else { continue }
            let name = String(path.dropFirst(route.prefix.count).dropLast(route.suffix.count))
            guard !name.isEmpty else { continue }
            do {
                return try await route.handler(request, ["name": name.percentDecoded ?? name])
            } catch {
                return .error(error)
            }
        }
        let segments = request.path.split(separator: "/")
        for route in routes where route.segments.count == segments.count {
            var parameters: [String: String] = [:]
            let matches = zip(route.segments, segments).allSatisfy { pattern, value in
                if pattern.hasPrefix("{") && pattern.hasSuffix("}") {
                    parameters[String(pattern.dropFirst().dropLast())] = value.percentDecoded ?? String(value)
                    return true
                }
                return pattern == value
            }
            guard matches else { continue }
            guard route.method == request.method || (route.method == .GET && request.method == .HEAD) else { continue }
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

