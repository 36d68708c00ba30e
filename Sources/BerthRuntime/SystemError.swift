import BerthOCI
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
        // Go's words, as runc's errors have them (see goErrorText).
        "\(step): \(goErrorText(errno))"
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
