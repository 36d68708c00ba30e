import BerthOCI
import Glibc

/// How this host mounts cgroups, read from /proc/self/mountinfo: the unified (v2) hierarchy
/// at /sys/fs/cgroup, or v1 hierarchies each at their own mount. A hybrid host also keeps a
/// cgroup2 mount at /sys/fs/cgroup/unified; it does not make the host unified, but a
/// container joins it as runc does (and the named `name=systemd` hierarchy too).
public struct CgroupHost: Sendable {
    public enum Layout: Sendable, Equatable {
        case unified(mountPoint: String)
        /// hierarchy key → mount point. Keys as in runc's v1 paths: each controller (a combined
        /// mount like cpu,cpuacct gives both names), `name=systemd`, and "" for a hybrid host's
        /// cgroup2 mount.
        case legacy(controllers: [String: String])
    }

    public let layout: Layout
    /// The v1 hierarchies' mount points in the host's mount order (cgroup2 excluded): the
    /// order of the binds in a container's /sys/fs/cgroup.
    public let v1MountPoints: [String]

    /// Where a hybrid host keeps its cgroup2 mount (the path runc checks too).
    static let hybridUnifiedMountPoint = "/sys/fs/cgroup/unified"
    /// The one named v1 hierarchy a container joins (systemd inside a container needs it).
    static let systemdHierarchy = "name=systemd"

    public var isUnified: Bool {
        if case .unified = layout { return true }
        return false
    }

    /// This host's layout, read once per process: cgroup mounts do not change under a running
    /// daemon, while its mountinfo grows with every container (berthd asks on each removal).
    public static func probe() throws -> CgroupHost {
        try probed.get()
    }

    /// Where the runtime keeps the host's cgroup mount lines for its next runs (its root);
    /// nil: mountinfo is read every time.
    nonisolated(unsafe) public static var cacheDirectory: String?

    private static let probed = Result<CgroupHost, any Error> {
        let cache = cacheDirectory.map(CgroupMountCache.init(directory:))
        if let lines = cache?.lookup() { return try CgroupHost(cgroupLines: lines) }
        guard let mountinfo = FileSystem.readFile("/proc/self/mountinfo") else {
            throw SystemError("read /proc/self/mountinfo")
        }
        let lines = cgroupLines(mountinfo)
        let host = try CgroupHost(cgroupLines: lines)
        cache?.store(lines)
        return host
    }

    /// Parses mountinfo lines: `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] - TYPE SOURCE SUPEROPTS`.
    public init(mountinfo: String) throws {
        try self.init(cgroupLines: Self.cgroupLines(mountinfo))
    }

    init(cgroupLines: [String]) throws {
        var controllers: [String: String] = [:]
        var mountOrder: [String] = []
        var unifiedRoot: String?
        var hybridUnified: String?
        for line in cgroupLines {
            let fields = line.split(separator: " ")
            guard let dash = fields.firstIndex(of: "-"), fields.count > dash + 2 else { continue }
            let mountPoint = String(fields[4])
            let type = fields[dash + 1]
            if type == "cgroup2" {
                if mountPoint == "/sys/fs/cgroup" { unifiedRoot = mountPoint }
                if mountPoint == Self.hybridUnifiedMountPoint { hybridUnified = mountPoint }
            } else if type == "cgroup", dash + 3 < fields.count {
                var joined = false
                for option in fields[dash + 3].split(separator: ",").map(String.init)
                where Self.knownControllers.contains(option) || option == Self.systemdHierarchy {
                    // A hierarchy mounted twice counts at its first mount, as the kernel lists it.
                    guard controllers[option] == nil else { continue }
                    controllers[option] = mountPoint
                    joined = true
                }
                if joined { mountOrder.append(mountPoint) }
            }
        }
        if let unifiedRoot {
            layout = .unified(mountPoint: unifiedRoot)
            v1MountPoints = []
        } else if controllers.keys.contains(where: Self.knownControllers.contains) {
            if let hybridUnified { controllers[""] = hybridUnified }
            layout = .legacy(controllers: controllers)
            v1MountPoints = mountOrder
        } else {
            throw ConfigError("no cgroup hierarchy is mounted (looked for cgroup2 on /sys/fs/cgroup and v1 controllers)")
        }
    }

    /// The lines of cgroup and cgroup2 mounts. The host's mountinfo grows by a long overlay
    /// line per container: they are skipped on the bytes (a String search over them was a
    /// tenth of a runtime `create` with 20 containers running).
    static func cgroupLines(_ mountinfo: String) -> [String] {
        let bytes = Array(mountinfo.utf8)
        let marker = Array(" - cgroup".utf8)
        var lines: [String] = []
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var start = 0
            while start < buffer.count {
                let newline = memchr(base + start, Int32(UInt8(ascii: "\n")), buffer.count - start)
                let end = newline.map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? buffer.count
                let line = UnsafeBufferPointer(rebasing: buffer[start..<end])
                if line.count >= marker.count,
                   (0...(line.count - marker.count)).contains(where: { offset in
                       (0..<marker.count).allSatisfy { line[offset + $0] == marker[$0] }
                   }) {
                    lines.append(String(decoding: line, as: UTF8.self))
                }
                start = end + 1
            }
        }
        return lines
    }

    static let knownControllers: Set<String> = [
        "cpu", "cpuacct", "cpuset", "memory", "pids", "freezer", "devices", "blkio", "hugetlb",
        "net_cls", "net_prio", "perf_event", "rdma", "misc",
    ]

    /// The caller's own cgroup path in a hierarchy, from /proc/self/cgroup ("" = unified).
    static func ownPath(controller: String) -> String {
        guard let text = FileSystem.readFile("/proc/self/cgroup") else { return "/" }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let names = parts[1].split(separator: ",").map(String.init)
            if controller.isEmpty ? parts[0] == "0" : names.contains(controller) { return String(parts[2]) }
        }
        return "/"
    }
}

/// Opens the manager for a new container. `cgroupsPath` absolute → below each hierarchy's
/// root; relative → below the caller's own cgroup; nil → /berth/<id>.
public func makeCgroupManager(cgroupsPath: String?, containerID: String) throws -> CgroupManager {
    let host = try CgroupHost.probe()
    let path = cgroupsPath ?? "/berth/" + containerID
    guard !path.split(separator: "/").contains(".."), !path.isEmpty else {
        throw ConfigError("invalid cgroupsPath \"\(path)\"")
    }
    if !path.hasPrefix("/") && path.split(separator: ":", omittingEmptySubsequences: false).count == 3 {
        throw ConfigError("cgroupsPath \"\(path)\" is a systemd slice:prefix:name path; only the cgroupfs driver is supported")
    }
    func resolve(_ controller: String) -> String {
        if path.hasPrefix("/") { return path }
        let own = CgroupHost.ownPath(controller: controller)
        return (own == "/" ? "" : own) + "/" + path
    }
    switch host.layout {
    case .unified(let mountPoint):
        return CgroupV2(directory: mountPoint + resolve(""), mountPoint: mountPoint)
    case .legacy(let controllers):
        var paths: [String: String] = [:]
        for (controller, mountPoint) in controllers {
            paths[controller] = mountPoint + resolve(controller)
        }
        return CgroupV1(paths: paths, mountPoints: controllers)
    }
}

/// Re-opens a container's cgroup from the `paths` its manager reported when it was created.
/// The paths tell the version, so the host's mounts are not read again (exec pays for every
/// read); an opened manager never creates, so it needs no mount points.
public func openCgroupManager(paths: [String: String]) throws -> CgroupManager {
    guard !paths.isEmpty else { throw ConfigError("the container has no cgroup paths") }
    // "" alone is the unified hierarchy; next to v1 controllers it is a hybrid host's cgroup2 mount.
    if paths.count == 1, let directory = paths[""] { return CgroupV2(directory: directory, mountPoint: nil) }
    return CgroupV1(paths: paths, mountPoints: [:])
}

/// Small file helpers shared by both managers: errors name the file.
enum CgroupFile {
    static func write(_ directory: String, _ file: String, _ value: String) throws {
        try write(directory, file, each: [value])
    }

    /// One write per value, through one open: files that take one entry per write (the v1
    /// devices rules, some twenty of them for every container) are opened once.
    static func write(_ directory: String, _ file: String, each values: some Sequence<String>) throws {
        let path = directory + "/" + file
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        if fd < 0 { throw SystemError("open \(path)") }
        defer { close(fd) }
        for value in values {
            let written = value.withCString { Glibc.write(fd, $0, strlen($0)) }
            if written < 0 { throw SystemError("write \(path) (\(value))") }
        }
    }

    static func read(_ directory: String, _ file: String) -> String? {
        FileSystem.readFile(directory + "/" + file)?.trimmingTrailingNewlines
    }

    static func exists(_ directory: String, _ file: String) -> Bool {
        access(directory + "/" + file, F_OK) == 0
    }

    /// "key value" lines (memory.events, memory.oom_control): the value of `key`.
    static func keyed(_ text: String?, _ key: String) -> UInt64? {
        for line in (text ?? "").split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == key { return UInt64(parts[1]) }
        }
        return nil
    }

    /// Every pid in `cgroup.procs` of the directory and its descendants.
    static func processes(_ directory: String) throws -> [pid_t] {
        guard let text = FileSystem.readFile(directory + "/cgroup.procs") else {
            throw SystemError("read \(directory)/cgroup.procs")
        }
        var pids = text.split(separator: "\n").compactMap { pid_t($0) }
        for child in subdirectories(directory) {
            pids += try processes(directory + "/" + child)
        }
        return pids
    }

    static func subdirectories(_ directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// rmdir of a cgroup and its children; the kernel may still be tearing down exited tasks.
    static func remove(_ directory: String) throws {
        for child in subdirectories(directory) { try remove(directory + "/" + child) }
        for attempt in 0..<200 {
            if rmdir(directory) == 0 || errno == ENOENT { return }
            if errno != EBUSY || attempt == 199 { throw SystemError("rmdir \(directory)") }
            usleep(5000)
        }
    }

    /// Polls until `condition` holds (freezing is asynchronous), up to about two seconds.
    static func wait(for what: String, _ condition: () throws -> Bool) throws {
        for _ in 0..<400 {
            if try condition() { return }
            usleep(5000)
        }
        throw ConfigError("timed out waiting for \(what)")
    }
}

extension String {
    var trimmingTrailingNewlines: String {
        var text = self
        while text.last == "\n" { text.removeLast() }
        return text
    }
}
