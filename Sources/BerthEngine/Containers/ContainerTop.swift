import BerthOCI
import BerthRuntime
import CSystemShims
import FoundationEssentials
import Glibc

/// `docker top`'s answer: the host's `ps` columns and the rows of the container's processes.
public struct ContainerTopResult: Codable, Sendable, Equatable {
    public var Titles: [String]
    public var Processes: [[String]]
}

/// Turns the host's `ps` output into `docker top`'s table, as dockerd does: the header's
/// words are the titles, rows whose PID column is one of the container's are kept, and a
/// row's words past the last title are its last column (CMD has spaces). A row with "-" as
/// its PID (a thread line, `ps -m`) belongs to the process row above it.
public enum ProcessTable {
    public static func filter(psOutput: String, pids: Set<Int32>) throws -> ContainerTopResult {
        let lines = psOutput.split(separator: "\n", omittingEmptySubsequences: false)
        let titles = (lines.first ?? "").split(whereSeparator: \.isWhitespace).map(String.init)
        guard let pidColumn = titles.firstIndex(of: "PID") else {
            throw BerthError.internalError("Couldn't find PID field in ps output")
        }
        var result = ContainerTopResult(Titles: titles, Processes: [])
        var previousRowKept = false
        for line in lines.dropFirst() where !line.isEmpty {
            let fields = line.split(whereSeparator: \.isWhitespace).map(String.init)
            guard fields.count > pidColumn else { continue }
            if fields[pidColumn] == "-" {
                if previousRowKept { result.Processes.append(row(fields, columns: titles.count)) }
                continue
            }
            guard let pid = Int32(fields[pidColumn]) else {
                throw BerthError.internalError("Unexpected pid '\(fields[pidColumn])': strconv.Atoi: parsing \"\(fields[pidColumn])\": invalid syntax")
            }
            previousRowKept = pids.contains(pid)
            if previousRowKept { result.Processes.append(row(fields, columns: titles.count)) }
        }
        return result
    }

    /// Exactly `columns` values: the overhanging words joined into the last one.
    static func row(_ fields: [String], columns: Int) -> [String] {
        guard fields.count > columns, columns > 0 else { return fields }
        return Array(fields[..<(columns - 1)]) + [fields[(columns - 1)...].joined(separator: " ")]
    }

    /// dockerd refuses a `-o` column renamed to a header starting with "PID" unless the column
    /// is pid itself: its own reading of the output finds the PID column by that header.
    public static func validate(_ psArgs: String) throws {
        let renamed = /[ \t\n\f\r]+([^ \t\n\f\r]*)=[ \t\n\f\r]*(PID[^ \t\n\f\r]*)/
        for match in psArgs.matches(of: renamed) where match.output.1 != "pid" {
            throw BerthError.internalError("specifying \"\(match.output.1)=\(match.output.2)\" is not allowed")
        }
    }

    /// dockerd splits the query's ps_args on single spaces (so "" words pass through as ps sees them).
    public static func arguments(_ psArgs: String?) -> [String] {
        guard let psArgs, !psArgs.isEmpty else { return ["-ef"] }
        return psArgs.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
    }
}

/// Runs the host's `ps` without forking berthd (posix_spawn), capturing its output.
enum HostPS {
    struct Outcome {
        /// Go's words for how it ended ("exit status 1"), nil when it succeeded.
        var failure: String?
        var output: String
        var errors: String
    }

    static let path: String = ["/usr/bin/ps", "/bin/ps"].first { (candidate: String) in access(candidate, X_OK) == 0 } ?? "/bin/ps"

    static func run(_ arguments: [String]) throws -> Outcome {
        var output: [Int32] = [-1, -1]
        var errors: [Int32] = [-1, -1]
        guard pipe(&output) == 0 else { throw BerthError.internalError("ps: pipe: \(String(cString: strerror(errno)))") }
        guard pipe(&errors) == 0 else {
            let code = errno
            output.forEach { close($0) }
            throw BerthError.internalError("ps: pipe: \(String(cString: strerror(code)))")
        }
        // Not inherited by other children spawned meanwhile (their copy would hold the pipes open).
        for fd in output + errors { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        let map: [Int32] = [null, 0, output[1], 1, errors[1], 2]
        let pid = withCStrings(["ps"] + arguments) { argv in
            withCStrings(["PATH=/usr/bin:/bin", "LC_ALL=C"]) { envp in
                berth_spawn(path, argv, envp, map, 3, 0)
            }
        }
        let spawnError = errno
        close(null)
        close(output[1])
        close(errors[1])
        defer {
            close(output[0])
            close(errors[0])
        }
        guard pid > 0 else { throw BerthError.internalError("ps: exec: \(String(cString: strerror(spawnError)))") }
        // ps writes its complaint before any table, and only a line, so reading stdout first
        // cannot leave it stuck on a full stderr pipe.
        let stdout = DescriptorIO.readToEnd(output[0])
        let stderr = DescriptorIO.readToEnd(errors[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        var failure: String?
        if berth_wifexited(status) == 0 {
            failure = "signal: \(String(cString: strsignal(berth_wtermsig(status))))"
        } else if berth_wexitstatus(status) != 0 {
            failure = "exit status \(berth_wexitstatus(status))"
        }
        return Outcome(failure: failure, output: String(decoding: stdout, as: UTF8.self), errors: String(decoding: stderr, as: UTF8.self))
    }

    /// As dockerd: first with `-q PIDS` (so ps lists only those), and when ps refuses that
    /// combination (some options do), once more without; a failure is ps's first stderr line.
    static func table(arguments: [String], pids: [Int32]) throws -> String {
        let selected = try run(arguments + ["-q", pids.map(String.init).joined(separator: ",")])
        if selected.failure == nil { return selected.output }
        let plain = try run(arguments)
        guard let failure = plain.failure else { return plain.output }
        let reason = plain.errors.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        throw BerthError.internalError("ps: " + (reason.isEmpty ? failure : reason))
    }
}

extension ContainerService {
    /// `docker top`: the container's processes (all of its cgroup) as the host's ps shows them.
    public func top(_ nameOrID: String, psArgs: String?) async throws -> ContainerTopResult {
        try ProcessTable.validate(psArgs ?? "")
        let id = try resolve(nameOrID)
        let state = try await stateAfterStartInProgress(id, nameOrID)
        // dockerd counts a container in its restart back-off as running, but restarting.
        if state.Restarting {
            throw BerthError.conflict("Container \(id) is restarting, wait until the container is running")
        }
        guard state.Running else { throw BerthError.conflict("Container \(id) is not running") }
        let root = paths.runtimeRoot
        let arguments = ProcessTable.arguments(psArgs)
        let table = try await blocking {
            let pids = try Runtime(root: root).processes(id: id)
            let output = try HostPS.table(arguments: arguments, pids: pids)
            return try ProcessTable.filter(psOutput: output, pids: Set(pids))
        }
        emit("top", container: id)  // dockerd reports every successful top
        return table
    }
}
