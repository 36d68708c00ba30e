/// One v1 hierarchy as a container sees it: the container's own cgroup directory, bound at
/// /sys/fs/cgroup/<name>, where <name> is the last component of the host's mount point
/// (`cpu`, `cpu,cpuacct`, `systemd`), as runc binds them.
struct CgroupBind: Equatable, Sendable {
    /// The container's directory in the hierarchy, on the host.
    let source: String
    let name: String
    /// The hierarchy's mount options (`cpu,cpuacct`, `name=systemd`): what mounts it afresh.
    let hierarchy: String
}

extension CgroupHost {
    /// The binds of a container whose cgroup is `paths` (its manager's), in the host's mount
    /// order; none on a unified host (the container mounts cgroup2 itself). A hybrid host's
    /// cgroup2 mount is not bound, as runc does not bind it.
    func binds(for paths: [String: String]) -> [CgroupBind] {
        guard case .legacy(let controllers) = layout else { return [] }
        return v1MountPoints.compactMap { mountPoint in
            let keys = controllers.filter { $0.value == mountPoint && !$0.key.isEmpty }.keys.sorted()
            guard let source = keys.lazy.compactMap({ paths[$0] }).first else { return nil }
            let name = mountPoint.split(separator: "/").last.map(String.init) ?? mountPoint
            return CgroupBind(source: source, name: name, hierarchy: keys.joined(separator: ","))
        }
    }
}
