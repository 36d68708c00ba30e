import BerthOCI
import Glibc

/// One container's cgroup, whatever the host's cgroup layout. Implementations: cgroup v2
/// (unified) and cgroup v1 (legacy or hybrid hosts). Chosen by probing the host.
public protocol CgroupManager {
    /// Where the cgroup lives, per controller ("" for the unified hierarchy), for `exec` to join
    /// and for the runtime's saved state.
    var paths: [String: String] { get }
    /// Creates the cgroup directories (only ever below the configured parent).
    func create() throws
    /// Moves a process (and so its future children) into the cgroup: into every hierarchy, or
    /// (`exceptCgroup2`) into all but `cgroup2Directory`, which it was cloned into.
    func addProcess(_ pid: pid_t, exceptCgroup2: Bool) throws
    /// The container's directory in a cgroup2 hierarchy (the unified one, or a hybrid host's
    /// cgroup2 mount), if it has one. New processes are cloned straight into it
    /// (CLONE_INTO_CGROUP): a move there can only go through cgroup.procs, whose global lock
    /// waits out an RCU grace period (10-15 ms per container start or exec).
    var cgroup2Directory: String? { get }
    /// Files a freshly cloned, single-threaded child writes "0" to, to move itself in: the v1
    /// hierarchies' `tasks`. Moving only the calling thread skips the global lock that a move
    /// by pid takes. Empty on cgroup v2 (its domains take no thread moves).
    var selfJoinFiles: [String] { get }
    /// How a process joins the running container (the shim's exec helper): the v1 `tasks`
    /// files it writes "0" to, and the cgroup2 `cgroup.procs`, whose directory it clones the
    /// exec's process into (a shim without CLONE_INTO_CGROUP writes "0" there too).
    var joinFiles: [String] { get }
    /// Applies resource limits; also used by `update`.
    func apply(_ resources: Spec.Resources) throws
    func freeze() throws
    func thaw() throws
    /// True while the cgroup is frozen (the container is paused).
    func isFrozen() -> Bool
    /// Pids of every process in the cgroup.
    func processes() throws -> [pid_t]
    /// Sends a signal to every process in the cgroup.
    func killAll(signal: Int32) throws
    /// Resource usage for `docker stats`.
    func stats() -> CgroupStats
    /// How many times the kernel OOM killer killed a process in this cgroup.
    func oomKillCount() -> UInt64
    /// Removes the cgroup directories (after every process has gone).
    func destroy() throws
}

extension CgroupManager {
    /// Moves a process into every hierarchy.
    public func addProcess(_ pid: pid_t) throws { try addProcess(pid, exceptCgroup2: false) }
}
