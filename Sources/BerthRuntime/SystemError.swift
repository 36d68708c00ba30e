import Glibc

/// A failed step of container setup: prints as "pivot_root: invalid argument", the step that
/// failed and the kernel's word for errno, so the caller sees exactly what went wrong.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    public var step: String
    public var errno: Int32

    public init(_ step: String, errno: Int32 = Glibc.errno) {
        self.step = step
        self.errno = errno
    }

    public var description: String {
        "\(step): \(Self.reason(errno))"
    }

    /// errno in Go's words, as runc's errors have it: glibc's text starting in lower case. The
    /// docker CLI looks for "no such file or directory" and "permission denied" in a failed
    /// start to exit with 127 or 126 rather than 125.
    public static func reason(_ errno: Int32) -> String {
        let text = String(cString: strerror(errno))
        return text.prefix(1).lowercased() + text.dropFirst()
    }
}

/// An error in the input (a spec value, a flag) rather than in the system.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Throws a SystemError naming `step` when a libc-style call returned -1.
@inline(__always)
@discardableResult
func check(_ step: @autoclosure () -> String, _ result: Int32) throws -> Int32 {
    if result == -1 { throw SystemError(step()) }
    return result
}
