import Glibc

/// Daemon-wide settings that shape every container's spec (daemon.json / flags).
public struct DaemonSpecDefaults: Sendable, Equatable {
    /// A limit the daemon itself runs with.
    public struct ProcessLimit: Sendable, Equatable {
        public var soft: UInt64
        public var hard: UInt64
        public init(soft: UInt64, hard: UInt64) {
            self.soft = soft
            self.hard = hard
        }
    }

    /// daemon.json `default-ulimits`, by name ("nofile").
    public var ulimits: [String: Ulimit] = [:]
    /// The daemon's own RLIMIT_NOFILE and RLIMIT_NPROC, given to containers that set neither,
    /// and the ceiling for the defaults (a container cannot be given more than the daemon has).
    public var nofile: ProcessLimit?
    public var nproc: ProcessLimit?
    /// `--init` for every container whose HostConfig.Init is null.
    public var initByDefault = false
    /// daemon `--seccomp-profile` contents; nil means the built-in profile.
    public var seccompProfile: String?
    /// daemon `--seccomp-profile unconfined`: no filter for containers that name no profile.
    public var seccompUnconfined = false
    /// `--default-shm-size`, bytes.
    public var shmSize: Int64 = 64 * 1024 * 1024
    /// `--default-ipc-mode`.
    public var ipcMode = "private"
    public var lastCapability = 40

    public init() {}

    /// Defaults from this process's own limits.
    public static func current(lastCapability: Int = HostFacts.current().lastCapability) -> DaemonSpecDefaults {
        var defaults = DaemonSpecDefaults()
        defaults.nofile = limit(7)  // RLIMIT_NOFILE
        defaults.nproc = limit(6)   // RLIMIT_NPROC (not exported by Glibc's module)
        defaults.lastCapability = lastCapability
        return defaults
    }

    static func limit(_ resource: UInt32) -> ProcessLimit? {
        var value = rlimit()
        guard getrlimit(__rlimit_resource_t(resource), &value) == 0 else { return nil }
        return ProcessLimit(soft: UInt64(value.rlim_cur), hard: UInt64(value.rlim_max))
    }
}

extension HostConfig {
    /// What dockerd fills in at create (`adaptContainerSettings`), so `docker inspect` shows
    /// it: swap twice the memory, the default /dev/shm size and IPC mode, a private cgroup
    /// namespace on cgroup v2 (host on v1), OomKillDisable false, NetworkMode "default".
    public func withDaemonDefaults(_ defaults: DaemonSpecDefaults, cgroupV2: Bool) -> HostConfig {
        var config = self
        if (config.Memory ?? 0) > 0 && (config.MemorySwap ?? 0) == 0 { config.MemorySwap = (config.Memory ?? 0) * 2 }
        if (config.ShmSize ?? 0) == 0 { config.ShmSize = defaults.shmSize }
        if (config.IpcMode ?? "").isEmpty { config.IpcMode = defaults.ipcMode }
        if (config.CgroupnsMode ?? "").isEmpty { config.CgroupnsMode = cgroupV2 ? "private" : "host" }
        if config.OomKillDisable == nil { config.OomKillDisable = false }
        if (config.NetworkMode ?? "").isEmpty { config.NetworkMode = "default" }
        if config.MemorySwappiness == -1 { config.MemorySwappiness = nil }
        return config
    }
}
