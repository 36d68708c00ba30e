/// The shim's control protocol, on `<state>/shim.sock` (unix stream socket, mode 0600, any
/// number of connections at once).
///
/// A connection opens with ONE request line ending in `\n`. Replies are lines. After `ok`, an
/// attach or exec connection carries frames: an 8-byte header [kind, 0, 0, 0, length as a
/// big-endian UInt32] then the payload. Kinds: 1 stdout, 2 stderr (Docker's stdcopy header;
/// with a TTY all output is kind 1), 16 exec exit, 17 exec failed to start (payload: the
/// reason), 18 exec started (payload: the process's pid in ASCII decimal).
///
///     start                      → `ok` | `error MSG`; runs `runtime start`.
///     attach STDIN STDOUT STDERR → `ok`, then output frames of the streams asked for (0/1
///                                  each). Bytes sent after the request line go to the
///                                  container's stdin when STDIN=1. On the client's
///                                  half-close: with --stdin-once the container's stdin is
///                                  closed, otherwise that client's input just ends. The shim
///                                  closes the connection once the container has exited and
///                                  its output is drained. Earlier output is not replayed.
///     exec EXECID TTY STDIN LENGTH → followed by LENGTH bytes of plan (NUL-terminated
///                                  `key=value` entries, see ExecPlan in berthd); `ok` once
///                                  the process is forked, then a frame 18 (its pid) once it
///                                  has exec'd, its output frames, and at the end one frame
///                                  16 (`STATUS PID`) or 17 (why it could not start), then
///                                  close. Client bytes after the plan go to its stdin; the
///                                  client's half-close closes that stdin.
///     resize ROWS COLS           → `ok` | `error MSG` (the container's terminal)
///     resize-exec EXECID ROWS COLS → `ok` | `error MSG`
///     kill SIGNUM                → `ok` | `error MSG`; signals the container's init.
///     wait                       → `exit STATUS FINISHED_UNIX_NANOS` once the container has
///                                  exited and its output is drained, then close. With the
///                                  journald log driver the line goes on with
///                                  ` journal EPOCH ORDINAL`: the log writer's epoch and the
///                                  ordinal of the last entry it sent (0: none).
///     state                      → `created PID` | `running PID` | `exited STATUS NANOS`
///     anything else              → `error unknown request`
///
/// STATUS is shell-style: the exit code, or 128 + the signal that killed the process.
/// A `resize-exec` that arrives before the exec's pty does is kept and applied on arrival.
/// Sockets whose absolute path would not fit a socket address (108 bytes) are bound by their
/// name relative to the state directory, which is the shim's working directory.
public enum Request: Equatable, Sendable {
    case start
    case attach(stdin: Bool, stdout: Bool, stderr: Bool)
    case exec(id: String, tty: Bool, stdin: Bool, planLength: Int)
    case resize(rows: UInt16, cols: UInt16)
    case resizeExec(id: String, rows: UInt16, cols: UInt16)
    case kill(signal: Int32)
    case wait
    case state

    /// Longest request line accepted.
    public static let maxLineLength = 8192
    /// Largest exec plan accepted (its arguments and environment are most of it).
    public static let maxPlanLength = 4 << 20

    /// Parses a request line (without its `\n`); the error is the text for `error MSG`.
    public static func parse(_ line: String) -> Result<Request, RequestError> {
        // Split on bytes (see ASCIIWords.swift): a space byte is never inside a longer character.
        var text = line.utf8[...]
        if text.last == UInt8(ascii: "\r") { text = text.dropLast() }
        let words = text.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
        guard let verb = words.first else { return .failure(.unknown) }
        let args = words.dropFirst().map { Substring($0) }
        switch verb {
        case "start":
            return args.isEmpty ? .success(.start) : .failure(.usage("start"))
        case "wait":
            return args.isEmpty ? .success(.wait) : .failure(.usage("wait"))
        case "state":
            return args.isEmpty ? .success(.state) : .failure(.usage("state"))
        case "attach":
            guard args.count == 3, let i = flag(args[0]), let o = flag(args[1]), let e = flag(args[2]) else {
                return .failure(.usage("attach STDIN STDOUT STDERR"))
            }
            return .success(.attach(stdin: i, stdout: o, stderr: e))
        case "exec":
            guard args.count == 4, isValidExecID(args[0]), let tty = flag(args[1]), let stdin = flag(args[2]),
                  let length = Int(args[3]), length > 0, length <= maxPlanLength else {
                return .failure(.usage("exec EXECID TTY STDIN PLANLENGTH"))
            }
            return .success(.exec(id: String(args[0]), tty: tty, stdin: stdin, planLength: length))
        case "resize":
            guard args.count == 2, let rows = UInt16(args[0]), let cols = UInt16(args[1]) else {
                return .failure(.usage("resize ROWS COLS"))
            }
            return .success(.resize(rows: rows, cols: cols))
        case "resize-exec":
            guard args.count == 3, isValidExecID(args[0]), let rows = UInt16(args[1]), let cols = UInt16(args[2]) else {
                return .failure(.usage("resize-exec EXECID ROWS COLS"))
            }
            return .success(.resizeExec(id: String(args[0]), rows: rows, cols: cols))
        case "kill":
            guard args.count == 1, let signal = Int32(args[0]), signal > 0, signal < 65 else {
                return .failure(.usage("kill SIGNUM"))
            }
            return .success(.kill(signal: signal))
        default:
            return .failure(.unknown)
        }
    }

    /// Exec ids name files in the state directory: letters, digits, `-`, `_` and `.` only.
    public static func isValidExecID<S: StringProtocol>(_ id: S) -> Bool {
        !id.isEmpty && id.utf8.count <= 128 && !id.hasSameBytes(as: ".") && !id.hasSameBytes(as: "..")
            && id.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                    || b == 0x2D || b == 0x5F || b == 0x2E
            }
    }

    static func flag(_ word: Substring) -> Bool? {
        switch word.utf8 {
        case "1": return true
        case "0": return false
        default: return nil
        }
    }
}

public enum RequestError: Error, Equatable, Sendable {
    case unknown
    case usage(String)

    public var message: String {
        switch self {
        case .unknown: return "unknown request"
        case .usage(let form): return "usage: \(form)"
        }
    }
}
