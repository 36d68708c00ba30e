import BerthEngine
import BerthOCI
import FoundationEssentials
import Glibc
import NIOCore
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
    /// Why Go could not parse the query (a bad %-escape, a semicolon), in its words.
    public var queryError: String?
    /// Cancelled when the client's connection closes before the route has answered.
    public var clientLeft = TransferCancellation()

    /// The first value of a repeated key, as Go's url.Values.Get reads it (`all=1&all=0` is all).
    public func queryValue(_ name: String) -> String? { query[name]?.first }
}

/// A complete response; JSON bodies are encoded by the helpers below.
public struct APIResponse: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// A body made while it is sent (image archives, progress messages), in chunked encoding.
    public var stream: ResponseStream?
    /// Attach and exec start take the connection over instead of answering in HTTP.
    public var hijack: HijackedSession?

    public init(status: HTTPResponseStatus = .ok, headers: HTTPHeaders = [:], body: [UInt8] = [], stream: ResponseStream? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.stream = stream
    }

    public static func hijacked(_ session: HijackedSession) -> APIResponse {
        var response = APIResponse(status: .switchingProtocols)
        response.hijack = session
        return response
    }

    /// Docker's JSON message stream: one object per line (`{"stream": "Loaded image: x\n"}`),
    /// keys in dockerd's order (DeclarationOrderJSON).
    public static func jsonLines<T: Encodable & Sendable>(_ records: [T]) -> APIResponse {
        let stream = ResponseStream { writer in
            for record in records {
                try await writer.write(try DeclarationOrderJSON.encode(record) + Array("\r\n".utf8))
            }
        }
        return APIResponse(headers: ["Content-Type": "application/json"], stream: stream)
    }

    public static func json<T: Encodable>(_ value: T, status: HTTPResponseStatus = .ok) -> APIResponse {
        let body = (try? DeclarationOrderJSON.encode(value)) ?? Array("{}".utf8)
        return APIResponse(status: status, headers: ["Content-Type": "application/json"], body: body + [0x0A])
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
        case .unauthorized: status = .unauthorized
        case .internalError: status = .internalServerError
        }
        return .error(error.message, status: status)
    }
}

/// A response body produced chunk by chunk. Each `write` returns once the connection has taken
/// the previous chunk, so a slow client slows the producer instead of filling memory.
public struct ResponseStream: Sendable {
    public let produce: @Sendable (ResponseWriter) async throws -> Void

    public init(_ produce: @escaping @Sendable (ResponseWriter) async throws -> Void) {
        self.produce = produce
    }
}

public struct ResponseWriter: Sendable {
    let send: @Sendable (ByteBuffer) async throws -> Void

    public init(send: @escaping @Sendable (ByteBuffer) async throws -> Void) {
        self.send = send
    }

    public func write(_ buffer: ByteBuffer) async throws { try await send(buffer) }
    public func write(_ bytes: [UInt8]) async throws { try await send(ByteBuffer(bytes: bytes)) }
}
