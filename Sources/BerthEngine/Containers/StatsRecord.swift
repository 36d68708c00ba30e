import BerthRuntime
import FoundationEssentials

/// One `docker stats` sample in Docker's JSON (API StatsResponse). Fields dockerd leaves out
/// when empty (Go's omitempty) are optionals here, encoded only when set; the blkio lists are
/// null when absent (a stopped container, v2's unused ones) and [] when merely empty.
public struct StatsRecord: Encodable, Sendable, Equatable {
    public static let zeroTime = "0001-01-01T00:00:00Z"

    public var read = zeroTime
    public var preread = zeroTime
    public var pids = PidsStats()
    public var blkio = BlkioStats()
    public var cpu = CPUStats()
    public var precpu = CPUStats()
    public var memory = MemoryStats()
    public var name: String
    public var id: String
    public var networks: [String: NetworkStats]?

    public struct PidsStats: Encodable, Sendable, Equatable {
        public var current: UInt64?
        public var limit: UInt64?
    }

    public struct BlkioEntry: Encodable, Sendable, Equatable {
        public var major: UInt64
        public var minor: UInt64
        public var op: String
        public var value: UInt64
    }

    public struct BlkioStats: Encodable, Sendable, Equatable {
        public var serviceBytes: [BlkioEntry]?
        public var serviced: [BlkioEntry]?
        /// v1 hosts answer [] for the lists nothing fills; v2 hosts and stopped containers null.
        public var otherListsEmpty = false

        enum CodingKeys: String, CodingKey {
            case io_service_bytes_recursive, io_serviced_recursive, io_queue_recursive, io_service_time_recursive
            case io_wait_time_recursive, io_merged_recursive, io_time_recursive, sectors_recursive
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            let other: [BlkioEntry]? = otherListsEmpty ? [] : nil
            try c.encode(serviceBytes, forKey: .io_service_bytes_recursive)
            try c.encode(serviced, forKey: .io_serviced_recursive)
            for key in [CodingKeys.io_queue_recursive, .io_service_time_recursive, .io_wait_time_recursive,
                        .io_merged_recursive, .io_time_recursive, .sectors_recursive] {
                try c.encode(other, forKey: key)
            }
        }
    }

    public struct CPUUsage: Encodable, Sendable, Equatable {
        public var total_usage: UInt64 = 0
        public var percpu_usage: [UInt64]?
        public var usage_in_kernelmode: UInt64 = 0
        public var usage_in_usermode: UInt64 = 0
    }

    public struct Throttling: Encodable, Sendable, Equatable {
        public var periods: UInt64 = 0
        public var throttled_periods: UInt64 = 0
        public var throttled_time: UInt64 = 0
    }

    public struct CPUStats: Encodable, Sendable, Equatable {
        public var cpu_usage = CPUUsage()
        public var system_cpu_usage: UInt64?
        public var online_cpus: UInt32?
        public var throttling_data = Throttling()
    }

    public struct MemoryStats: Encodable, Sendable, Equatable {
        public var usage: UInt64?
        public var max_usage: UInt64?
        public var stats: [String: UInt64]?
        public var failcnt: UInt64?
        public var limit: UInt64?
    }

    public struct NetworkStats: Encodable, Sendable, Equatable {
        public var rx_bytes: UInt64 = 0
        public var rx_packets: UInt64 = 0
        public var rx_errors: UInt64 = 0
        public var rx_dropped: UInt64 = 0
        public var tx_bytes: UInt64 = 0
        public var tx_packets: UInt64 = 0
        public var tx_errors: UInt64 = 0
        public var tx_dropped: UInt64 = 0
    }

    enum CodingKeys: String, CodingKey {
        case name, id, read, preread, pids_stats, blkio_stats, num_procs, storage_stats, cpu_stats, precpu_stats
        case memory_stats, networks
    }

    public func encode(to encoder: any Encoder) throws {
        // In the order of dockerd's (v28) StatsResponse, which names the container first.
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(id, forKey: .id)
        try c.encode(read, forKey: .read)
        try c.encode(preread, forKey: .preread)
        try c.encode(pids, forKey: .pids_stats)
        try c.encode(blkio, forKey: .blkio_stats)
        try c.encode(0, forKey: .num_procs)   // Windows only
        try c.encode([String: UInt64](), forKey: .storage_stats)   // Windows only
        try c.encode(cpu, forKey: .cpu_stats)
        try c.encode(precpu, forKey: .precpu_stats)
        try c.encode(memory, forKey: .memory_stats)
        if let networks, !networks.isEmpty { try c.encode(networks, forKey: .networks) }
    }

    /// What dockerd answers for a container that is not running: names and zeros.
    public static func empty(name: String, id: String) -> StatsRecord {
        StatsRecord(name: name, id: id)
    }

    /// The host-wide numbers a sample is read against.
    public struct HostSample: Sendable, Equatable {
        /// /proc/stat's cpu time of the whole host, in nanoseconds.
        public var systemCPU: UInt64
        public var onlineCPUs: UInt32
        /// The host's memory: the limit shown for a container without one.
        public var memory: UInt64
    }

    /// dockerd's v2 memory.stat keys (those its cgroup v2 reader passes on).
    static let v2MemoryKeys: Set<String> = [
        "anon", "file", "kernel_stack", "slab", "sock", "shmem", "file_mapped", "file_dirty", "file_writeback",
        "anon_thp", "inactive_anon", "active_anon", "inactive_file", "active_file", "unevictable",
        "slab_reclaimable", "slab_unreclaimable", "pgfault", "pgmajfault", "workingset_refault",
        "workingset_activate", "workingset_nodereclaim", "pgrefill", "pgscan", "pgsteal", "pgactivate",
        "pgdeactivate", "pglazyfree", "pglazyfreed", "thp_fault_alloc", "thp_collapse_alloc",
    ]

    /// dockerd's v1 memory.stat keys: always all of them (0 when the kernel has no such line),
    /// and no others (no shmem, swap or workingset_* of newer kernels).
    static let v1MemoryKeys = [
        "cache", "rss", "rss_huge", "mapped_file", "dirty", "writeback", "pgpgin", "pgpgout", "pgfault", "pgmajfault",
        "inactive_anon", "active_anon", "inactive_file", "active_file", "unevictable",
        "hierarchical_memory_limit", "hierarchical_memsw_limit",
        "total_cache", "total_rss", "total_rss_huge", "total_mapped_file", "total_dirty", "total_writeback",
        "total_pgpgin", "total_pgpgout", "total_pgfault", "total_pgmajfault", "total_inactive_anon",
        "total_active_anon", "total_inactive_file", "total_active_file", "total_unevictable",
    ]

    /// The memory.stat keys dockerd shows for the cgroup version; none when the file gave nothing.
    static func memoryStats(_ stat: [String: UInt64], unified: Bool) -> [String: UInt64]? {
        guard !stat.isEmpty else { return nil }
        if unified { return stat.filter { v2MemoryKeys.contains($0.key) } }
        return Dictionary(uniqueKeysWithValues: v1MemoryKeys.map { ($0, stat[$0] ?? 0) })
    }

    /// A running container's sample from its cgroup's numbers, in the shape of the host's
    /// cgroup version (v2: no per-CPU usage, no max_usage or failcnt, v2 memory.stat names, lower-case
    /// blkio operations and only the bytes list).
    public static func sample(name: String, id: String, read: String, cgroup: CgroupStats, unified: Bool,
                              host: HostSample, networks: [String: NetworkStats]?) -> StatsRecord {
        var record = StatsRecord(name: name, id: id)
        record.read = read
        record.pids = PidsStats(current: cgroup.pidsCurrent == 0 ? nil : cgroup.pidsCurrent,
                                limit: cgroup.pidsLimit.flatMap { $0 == 0 ? nil : $0 })
        func entries(_ list: [CgroupStats.BlockIO], lowercased: Bool) -> [BlkioEntry] {
            list.map { BlkioEntry(major: $0.major, minor: $0.minor, op: lowercased ? $0.operation.lowercased() : $0.operation, value: $0.bytes) }
        }
        if unified {
            record.blkio.serviceBytes = cgroup.blockIO.isEmpty ? nil : entries(cgroup.blockIO, lowercased: true)
        } else {
            record.blkio = BlkioStats(serviceBytes: entries(cgroup.blockIO, lowercased: false),
                                      serviced: entries(cgroup.blockIOServiced, lowercased: false), otherListsEmpty: true)
        }
        record.cpu = CPUStats(
            cpu_usage: CPUUsage(total_usage: cgroup.cpuTotal,
                                percpu_usage: unified || cgroup.cpuPerCPU.isEmpty ? nil : cgroup.cpuPerCPU,
                                usage_in_kernelmode: cgroup.cpuSystem, usage_in_usermode: cgroup.cpuUser),
            system_cpu_usage: host.systemCPU, online_cpus: host.onlineCPUs,
            throttling_data: Throttling(periods: cgroup.cpuPeriods, throttled_periods: cgroup.cpuThrottledPeriods,
                                        throttled_time: cgroup.cpuThrottledTime))
        let stat = memoryStats(cgroup.memoryStat, unified: unified)
        // No limit, or one above the host's memory, shows as the host's memory (as dockerd).
        let limit = min(cgroup.memoryLimit ?? host.memory, host.memory)
        record.memory = MemoryStats(usage: cgroup.memoryUsage,
                                    max_usage: unified || cgroup.memoryMaxUsage == 0 ? nil : cgroup.memoryMaxUsage,
                                    stats: stat,
                                    failcnt: unified || cgroup.memoryFailCount == 0 ? nil : cgroup.memoryFailCount,
                                    limit: limit == 0 ? nil : limit)
        record.networks = networks
        return record
    }

    /// The record as sent: the previous sample's CPU numbers and time as its "pre" fields.
    public func following(_ previous: StatsRecord?) -> StatsRecord {
        var record = self
        record.precpu = previous?.cpu ?? CPUStats()
        record.preread = previous?.read ?? Self.zeroTime
        return record
    }
}
