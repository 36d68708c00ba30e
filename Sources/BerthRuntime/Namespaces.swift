import BerthOCI
import CSystemShims
import Glibc

/// The namespaces of a spec: which to create with clone, which to join by path.
struct NamespacePlan {
    static let cloneFlags: [String: Int32] = [
        "pid": Int32(BERTH_CLONE_NEWPID), "network": Int32(BERTH_CLONE_NEWNET), "mount": Int32(BERTH_CLONE_NEWNS),
        "ipc": Int32(BERTH_CLONE_NEWIPC), "uts": Int32(BERTH_CLONE_NEWUTS), "user": Int32(BERTH_CLONE_NEWUSER),
        "cgroup": Int32(BERTH_CLONE_NEWCGROUP), "time": Int32(BERTH_CLONE_NEWTIME),
    ]
    /// /proc/<pid>/ns/<file> for each spec namespace type.
    static let procNames: [String: String] = [
        "pid": "pid", "network": "net", "mount": "mnt", "ipc": "ipc", "uts": "uts",
        "user": "user", "cgroup": "cgroup", "time": "time",
    ]
    /// setns order: the user namespace first (it owns the others), the mount namespace last
    /// (joining it changes how every later path resolves).
    static let joinOrder = ["user", "ipc", "uts", "network", "cgroup", "time", "pid", "mount"]

    /// Namespaces created by clone (cgroup excluded: it is unshared after joining the cgroup).
    var createFlags: Int32 = 0
    var createsCgroupNamespace = false
    var creates: Set<String> = []
    /// Namespaces to join: type → path.
    var joins: [String: String] = [:]

    init(_ namespaces: [Spec.Namespace]) throws {
        for namespace in namespaces {
            guard let flag = Self.cloneFlags[namespace.type] else {
                throw ConfigError("namespace type \"\(namespace.type)\" is not supported")
            }
            if let path = namespace.path, !path.isEmpty {
                guard joins[namespace.type] == nil, !creates.contains(namespace.type) else {
                    throw ConfigError("namespace type \"\(namespace.type)\" is given twice")
                }
                joins[namespace.type] = path
            } else {
                guard creates.insert(namespace.type).inserted, joins[namespace.type] == nil else {
                    throw ConfigError("namespace type \"\(namespace.type)\" is given twice")
                }
                if namespace.type == "cgroup" {
                    createsCgroupNamespace = true
                } else {
                    createFlags |= flag
                }
            }
        }
    }

    var newUserNamespace: Bool { creates.contains("user") }
    var newNetworkNamespace: Bool { creates.contains("network") }
    var newPidNamespace: Bool { creates.contains("pid") }
    var newMountNamespace: Bool { creates.contains("mount") }

    /// Opens every namespace to join, before cloning, so a bad path fails early.
    func openJoins() throws -> [(type: String, fd: Int32)] {
        var opened: [(type: String, fd: Int32)] = []
        for type in Self.joinOrder {
            guard let path = joins[type] else { continue }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 {
                let failure = errno
                for entry in opened { close(entry.fd) }
                throw SystemError("open \(type) namespace \(path)", errno: failure)
            }
            opened.append((type, fd))
        }
        return opened
    }

    /// Joins opened namespaces in order; pid is joined by the parent (it applies to children).
    static func join(_ opened: [(type: String, fd: Int32)], skipping skipped: Set<String> = ["pid"]) throws {
        for (type, fd) in opened where !skipped.contains(type) {
            try check("setns \(type)", berth_setns(fd, cloneFlags[type] ?? 0))
        }
    }
}

/// Identity of a namespace file, to tell whether a process shares ours.
func namespaceInode(_ path: String) -> UInt64? {
    var st = stat()
    return stat(path, &st) == 0 ? UInt64(st.st_ino) : nil
}
