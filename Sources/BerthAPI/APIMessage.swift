import BerthOCI
import Foundation
import NIOHTTP1

/// A request as the routes see it: the path without its /v1.NN prefix, and the query.
public struct APIRequest: Sendable {
    public var method: HTTPMethod
    public var path: String
    public var apiVersion: String?
    public var query: [String: [String]]
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Uploads (image archives) are spooled to this file instead of `body`.
    public var bodyFile: String?

    public func queryValue(_ name: String) -> String? { query[name]?.last }
}

/// A complete response; JSON bodies are encoded by the helpers below.
public struct APIResponse: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// A large body (an image archive) sent from this file, which is removed afterwards.
    public var bodyFile: String?

    public init(status: HTTPResponseStatus = .ok, headers: HTTPHeaders = [:], body: [UInt8] = [], bodyFile: String? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.bodyFile = bodyFile
    }

    public static func json<T: Encodable>(_ value: T, status: HTTPResponseStatus = .ok) -> APIResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return APIResponse(status: status, headers: ["Content-Type": "application/json"], body: Array(data) + [0x0A])
    }

    /// Docker's error body: `{"message": "..."}` (docker-py reads ['message']).
    public static func error(_ message: String, status: HTTPResponseStatus) -> APIResponse {
        json(["message": message], status: status)
    }

    /// The one place where an engine error becomes an HTTP status (DESIGN rule 1).
    public static func error(_ error: Error) -> APIResponse {
        guard let error = error as? BerthError else {
            return .error("\(error)", status: .internalServerError)
        }
        let status: HTTPResponseStatus
        switch error.code {
        case .notFound: status = .notFound
        case .conflict: status = .conflict
        case .invalidArgument: status = .badRequest
        case .unavailable: status = .serviceUnavailable
        case .notImplemented: status = .notImplemented
        case .forbidden: status = .forbidden
        case .internalError: status = .internalServerError
        }
        return .error(error.message, status: status)
    }
}
