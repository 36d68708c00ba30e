import BerthOCI
import FoundationEssentials
import Glibc

/// What the runtime remembers of a container between its commands, in `<root>/<id>/state.json`.
/// The pid is paired with the process's start time so that a reused pid is never mistaken
/// for the container. The file also holds the config, under "config" (ContainerStore.loadConfig);
/// loading the record builds none of it.
public struct SavedContainer: Sendable {
    public var id: String
    public var bundle: String
    public var rootfs: String
    public var pid: Int32
    public var pidStartTime: UInt64
    public var created: String
    public var owner: String
    public var cgroupPaths: [String: String]
    /// Where exec finds the container's seccomp filter. nil: saved by a runtime from before
    /// this field (build it from the config).
    public var seccomp: SeccompSource?

    public enum SeccompSource: String, Sendable {
        /// No filter (`seccomp=unconfined`, or a config without one).
        case unconfined
        /// Compiled at create, in the state directory's seccomp.bpf.
        case program
        /// Built again from the config (a profile with a notify listener cannot be kept compiled).
        case config
    }
}

public enum ContainerStatus: String, Sendable {
    case created, running, paused, stopped
}

/// The runtime's `--root` directory: one subdirectory per container.
public struct ContainerStore: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    public func directory(_ id: String) -> String { root + "/" + id }
    func execFifo(_ id: String) -> String { directory(id) + "/exec.fifo" }
    func stateFile(_ id: String) -> String { directory(id) + "/state.json" }
    func seccompProgramFile(_ id: String) -> String { directory(id) + "/seccomp.bpf" }

    /// Container IDs are used as file names: keep them to a safe alphabet.
    public static func validate(id: String) throws {
        let allowed = id.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == 0x2D || c == 0x5F || c == 0x2E || c == 0x2B
        }
        guard !id.isEmpty, allowed, id != ".", id != ".." else {
            throw ConfigError("invalid container id \"\(id)\": use letters, digits, '_', '-', '.', '+'")
        }
    }

    public func exists(_ id: String) -> Bool { FileSystem.exists(directory(id)) }

    public func load(_ id: String) throws -> SavedContainer {
        try Self.validate(id: id)
        guard let text = FileSystem.readFile(stateFile(id)) else {
            throw ConfigError("container \"\(id)\" does not exist")
        }
        do {
            return try SavedContainer(json: JSONValue.parse(Array(text.utf8)))
        } catch {
            throw ConfigError("container \"\(id)\": state file is unreadable: \(error)")
        }
    }

    /// Only the record's cgroup paths (whether a container is paused, asked of every live
    /// container at the daemon's start): the rest of the state file, its config above all
    /// (nine tenths of it), is not decoded.
    public func loadCgroupPaths(_ id: String) throws -> [String: String] {
        try Self.validate(id: id)
        guard let bytes = FileSystem.readBytes(stateFile(id)) else { throw ConfigError("container \"\(id)\" does not exist") }
        guard let range = JSONMemberScan.valueRange(at: ["cgroupPaths"], in: bytes) else { return try load(id).cgroupPaths }
        do {
            let member = Array(#"{"cgroupPaths":"#.utf8) + bytes[range] + [UInt8(ascii: "}")]
            return try JSONFields(JSONValue.parse(member), at: "").stringMap("cgroupPaths") ?? [:]
        } catch {
            throw ConfigError("container \"\(id)\": state file is unreadable: \(error)")
        }
    }

    /// The container's config as it was at create.
    public func loadConfig(_ id: String) throws -> Spec {
        try Self.validate(id: id)
        guard let bytes = FileSystem.readBytes(stateFile(id)) else { throw ConfigError("container \"\(id)\" does not exist") }
        do {
            return try JSONFields(JSONValue.parse(bytes), at: "").object(required: "config", { try Spec(fields: $0) })
        } catch {
            throw ConfigError("container \"\(id)\": config is unreadable: \(error)")
        }
    }

    /// The record, with `config` (a JSON object: the config as read from the bundle, so that
    /// it is not encoded again) under "config".
    public func save(_ container: SavedContainer, config: [UInt8]) throws {
        let bytes = [UInt8(ascii: "{")] + container.jsonMembers + Array(#","config":"#.utf8) + config + [UInt8(ascii: "}")]
        try writeAtomically(Data(bytes), to: stateFile(container.id))
    }

    /// A hard link to the compiled program's cache file where there is one (the cache only
    /// ever replaces its files, so the link keeps this program); otherwise a copy.
    public func saveSeccompProgram(_ program: [UInt8], linkingFrom cacheFile: String?, id: String) throws {
        if let cacheFile, link(cacheFile, seccompProgramFile(id)) == 0 { return }
        try writeAtomically(Data(program), to: seccompProgramFile(id))
    }

    public func loadSeccompProgram(_ id: String) throws -> [UInt8] {
        guard let program = FileSystem.readBytes(seccompProgramFile(id)), !program.isEmpty else {
            throw ConfigError("container \"\(id)\": its seccomp program is missing")
        }
        return program
    }

    /// A temp file, then rename: a reader sees the old or the new file whole. Not flushed to
    /// disk: the state describes processes, which a power loss ends anyway (the root is meant
    /// to live under /run, as runc's does).
    private func writeAtomically(_ data: Data, to path: String) throws {
        let temp = path + ".tmp"
        let fd = open(temp, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o600)
        if fd < 0 { throw SystemError("create \(temp)") }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == data.count else { throw SystemError("write \(temp)") }
        try check("rename \(temp)", rename(temp, path))
    }

    public func list() -> [String] {
        guard let dir = opendir(root) else { return [] }
        defer { closedir(dir) }
        var ids: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." && FileSystem.exists(stateFile(name)) { ids.append(name) }
        }
        return ids.sorted()
    }

    public func status(of container: SavedContainer, cgroup: CgroupManager?) -> ContainerStatus {
        guard HostProcess.isAlive(pid: container.pid, startTime: container.pidStartTime) else { return .stopped }
        if FileSystem.exists(execFifo(container.id)) { return .created }
        if let cgroup, cgroup.isFrozen() { return .paused }
        return .running
    }

    public func remove(_ id: String) {
        unlink(execFifo(id))
        for file in [stateFile(id), seccompProgramFile(id)] {
            unlink(file)
            unlink(file + ".tmp")
        }
        rmdir(directory(id))
    }
}

/// Facts about host processes read from /proc.
public enum HostProcess {
    /// Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), and the state letter.
    public static func stat(pid: Int32) -> (state: Character, startTime: UInt64)? {
        guard let text = FileSystem.readFile("/proc/\(pid)/stat"),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let state = fields[0].first, let start = UInt64(fields[19]) else { return nil }
        return (state, start)
    }

    /// True while the process runs (a zombie has exited) and is the one we started.
    public static func isAlive(pid: Int32, startTime: UInt64) -> Bool {
        guard pid > 0, let info = stat(pid: pid) else { return false }
        return info.startTime == startTime && info.state != "Z" && info.state != "X"
    }
}

/// RFC 3339 UTC time with nanoseconds, as runc prints `created`.
public func rfc3339Now() -> String {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    var seconds = now.tv_sec
    var parts = tm()
    gmtime_r(&seconds, &parts)
    func pad(_ value: Int32, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
    let nanos = String(now.tv_nsec)
    return "\(parts.tm_year + 1900)-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
        + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))."
        + String(repeating: "0", count: 9 - nanos.count) + nanos + "Z"
}
