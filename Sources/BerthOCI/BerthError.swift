/// The one error type the engine's services throw (DESIGN rule 1). The API maps `code` to an
/// HTTP status in one place and sends `{"message": message}`. Messages use Docker's wording
/// where clients show or parse them ("No such image: x", "No such container: x").
public struct BerthError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable {
        case notFound, conflict, invalidArgument, unavailable, notImplemented, forbidden, unauthorized, internalError
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    public static func notFound(_ message: String) -> BerthError { .init(.notFound, message) }
    public static func conflict(_ message: String) -> BerthError { .init(.conflict, message) }
    public static func invalidArgument(_ message: String) -> BerthError { .init(.invalidArgument, message) }
    public static func notImplemented(_ message: String) -> BerthError { .init(.notImplemented, message) }
    public static func internalError(_ message: String) -> BerthError { .init(.internalError, message) }
    /// Credentials a registry refused (dockerd's 401 for a failed login).
    public static func unauthorized(_ message: String) -> BerthError { .init(.unauthorized, message) }
}
