import Glibc

/// berthd holds about three descriptors per running container (its shim's socket, stdio
/// streams, the container's log), so a soft limit of 1024 — what a shell gives a daemon
/// started by hand — ran out near 300 containers. As dockerd (whose Go runtime does it at
/// start), the soft limit is raised to the hard one. Containers keep the limits the daemon
/// was given: DaemonSpecDefaults.current() reads them before this is called.
enum OpenFileLimit {
    static func raiseToHardLimit() {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    }
}
