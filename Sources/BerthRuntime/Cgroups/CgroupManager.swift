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
    /// Moves a process (and so its future children) into the cgroup.
    func addProcess(_ pid: pid_t) throws
    /// Files a freshly cloned, single-threaded child writes "0" to, to move itself in. Moving
    /// only the calling thread skips the global lock that a move by pid takes, which on
    /// cgroup v1 waits out an RCU grace period (5-15 ms per container start or exec). Empty
    /// where that is not possible (cgroup v2 domains take no thread moves): the parent uses
    /// `addProcess`.
    var selfJoinFiles: [String] { get }
    /// Files a single-threaded process joining the running container (the shim's exec
    /// helper) writes "0" to, to move itself in.
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
