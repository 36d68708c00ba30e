import BerthOCI
import Glibc

/// A container's cgroup on a v1 (legacy or hybrid) host: one directory per hierarchy. As
/// runc, the container also joins the named `name=systemd` hierarchy and, on a hybrid host,
/// the cgroup2 mount (key ""): neither limits anything, but they say where the container is.
struct CgroupV1: CgroupManager {
    /// hierarchy key (controller, `name=systemd`, "" for cgroup2) → the container's directory there
    let paths: [String: String]
    /// controller → where the hierarchy is mounted (to create parents within it only); known to
    /// a manager made for a new container, empty in one opened again
    let mountPoints: [String: String]

    /// Each directory once: combined hierarchies (cpu,cpuacct) share one.
    private var directories: [String] { Array(Set(paths.values)).sorted() }

    func create() throws {
        for (controller, directory) in paths.sorted(by: { $0.key < $1.key }) {
            guard let mountPoint = mountPoints[controller], directory.hasPrefix(mountPoint + "/") else {
                throw ConfigError("cgroup \(directory) is outside the \(controller) hierarchy")
            }
            try Self.makeDirectories(directory, below: mountPoint, copyingCpuset: controller == "cpuset")
        }
    }

    /// mkdir of each level below the mount point. A new cpuset cgroup starts with no cpus and
    /// no mems and refuses tasks until given some, so there each created level inherits its
    /// parent's. A parent removed meanwhile (an empty /berth-test cleaned up by another run)
    /// makes the walk start over.
    private static func makeDirectories(_ directory: String, below mountPoint: String, copyingCpuset: Bool) throws {
        // The parents (/berth) are there after the first container: one mkdir then. Not for
        // cpuset, whose every level is checked.
        if !copyingCpuset && mkdir(directory, 0o755) == 0 { return }
        for attempt in 1...3 {
            var current = mountPoint
            for component in directory.dropFirst(mountPoint.count).split(separator: "/") {
                let parent = current
                current += "/" + component
                if mkdir(current, 0o755) != 0 && errno != EEXIST {
                    if errno == ENOENT && attempt < 3 { break }
                    throw SystemError("mkdir \(current)")
                }
                guard copyingCpuset else { continue }
                for file in ["cpuset.cpus", "cpuset.mems"] where (CgroupFile.read(current, file) ?? "").isEmpty {
                    try CgroupFile.write(current, file, CgroupFile.read(parent, file) ?? "")
                }
            }
            if access(directory, F_OK) == 0 { return }
        }
        throw SystemError("mkdir \(directory)", errno: ENOENT)
    }

    var cgroup2Directory: String? { paths[""] }
    var selfJoinFiles: [String] { directories.filter { $0 != paths[""] }.map { $0 + "/tasks" } }
    var joinFiles: [String] { selfJoinFiles + (cgroup2Directory.map { [$0 + "/cgroup.procs"] } ?? []) }

    func addProcess(_ pid: pid_t, exceptCgroup2: Bool) throws {
        for directory in directories where !(exceptCgroup2 && directory == paths[""]) {
            try CgroupFile.write(directory, "cgroup.procs", String(pid))
        }
    }

    func apply(_ resources: Spec.Resources) throws {
        try CgroupConversions.validate(resources)
        if let memory = resources.memory, let directory = paths["memory"] { try applyMemory(memory, directory) }
        if let cpu = resources.cpu {
            if let directory = paths["cpu"] {
                if let shares = cpu.shares, shares > 0 {
                    try CgroupFile.write(directory, "cpu.shares", String(shares))
                    // The kernel clamps out-of-range shares; runc (and so dockerd) refuses them instead.
                    if let set = CgroupFile.read(directory, "cpu.shares").flatMap({ UInt64($0) }),
                       set != shares {
                        throw ConfigError("the \(shares > set ? "maximum" : "minimum") allowed cpu-shares is \(set)")
                    }
                }
                if let period = cpu.period, period > 0 { try CgroupFile.write(directory, "cpu.cfs_period_us", String(period)) }
                if let quota = cpu.quota, quota != 0 { try CgroupFile.write(directory, "cpu.cfs_quota_us", String(quota)) }
                if let burst = cpu.burst { try CgroupFile.write(directory, "cpu.cfs_burst_us", String(burst)) }
                if let idle = cpu.idle { try CgroupFile.write(directory, "cpu.idle", String(idle)) }
                if let runtime = cpu.realtimeRuntime, runtime != 0 { try CgroupFile.write(directory, "cpu.rt_runtime_us", String(runtime)) }
                if let period = cpu.realtimePeriod, period != 0 { try CgroupFile.write(directory, "cpu.rt_period_us", String(period)) }
            }
            if let directory = paths["cpuset"] {
                if let cpus = cpu.cpus, !cpus.isEmpty { try CgroupFile.write(directory, "cpuset.cpus", cpus) }
                if let mems = cpu.mems, !mems.isEmpty { try CgroupFile.write(directory, "cpuset.mems", mems) }
            }
        }
        if let pids = resources.pids, pids.limit != 0, let directory = paths["pids"] {
            try CgroupFile.write(directory, "pids.max", pids.limit < 0 ? "max" : String(pids.limit))
        }
        if let rules = resources.devices, !rules.isEmpty, let directory = paths["devices"] {
            // In order, each run of lines to the same file (allow or deny) through one open.
            var lines = DeviceRules.v1Lines(rules)[...]
            while let file = lines.first?.file {
                let run = lines.prefix { $0.file == file }
                try CgroupFile.write(directory, file, each: run.map(\.line))
                lines = lines.dropFirst(run.count)
            }
        }
        if let weight = resources.blockIO?.weight, weight > 0, let directory = paths["blkio"] {
            // CFQ's blkio.weight is gone from newer kernels; BFQ names it blkio.bfq.weight (same
            // 1-1000 scale). Without either no scheduler weighs I/O, and Docker drops the weight too.
            if let file = ["blkio.weight", "blkio.bfq.weight"].first(where: { CgroupFile.exists(directory, $0) }) {
                try CgroupFile.write(directory, file, String(weight))
            }
        }
        if let blockIO = resources.blockIO, let directory = paths["blkio"] {
            try applyDeviceLimits(blockIO, directory)
        }
        for limit in resources.hugepageLimits ?? [] {
            guard let directory = paths["hugetlb"] else { throw ConfigError("hugetlb limits need the hugetlb controller") }
            try CgroupFile.write(directory, "hugetlb.\(limit.pageSize).limit_in_bytes", String(limit.limit))
        }
        if let unified = resources.unified, !unified.isEmpty {
            throw ConfigError("linux.resources.unified needs cgroup v2; this host uses cgroup v1")
        }
    }

    /// Per-device weights and throttles, one "MAJOR:MINOR VALUE" line per write.
    private func applyDeviceLimits(_ blockIO: Spec.BlockIO, _ directory: String) throws {
        if let devices = blockIO.weightDevice, !devices.isEmpty {
            // CFQ's file, or BFQ's on newer kernels (the same 10-1000 scale).
            guard let file = ["blkio.weight_device", "blkio.bfq.weight_device"].first(where: { CgroupFile.exists(directory, $0) }) else {
                throw ConfigError("blkio weight_device is not supported by this kernel")
            }
            for device in devices {
                if let weight = device.weight { try CgroupFile.write(directory, file, "\(device.major):\(device.minor) \(weight)") }
            }
        }
        let throttles = [("blkio.throttle.read_bps_device", blockIO.throttleReadBpsDevice),
                         ("blkio.throttle.write_bps_device", blockIO.throttleWriteBpsDevice),
                         ("blkio.throttle.read_iops_device", blockIO.throttleReadIOPSDevice),
                         ("blkio.throttle.write_iops_device", blockIO.throttleWriteIOPSDevice)]
        for (file, devices) in throttles {
            for device in devices ?? [] {
                try CgroupFile.write(directory, file, "\(device.major):\(device.minor) \(device.rate)")
            }
        }
    }

    private func applyMemory(_ memory: Spec.Memory, _ directory: String) throws {
        let limit = memory.limit.flatMap { $0 == 0 ? nil : $0 }
        var swap = memory.swap.flatMap { $0 == 0 ? nil : $0 }
        // Unlimited memory with swap unset means unlimited swap too (as runc does), or memsw
        // would stay below the limit.
        if limit == -1 && swap == nil { swap = -1 }
        // Without swap accounting the memory limit still holds; runc and Docker skip memsw the same way.
        if !CgroupFile.exists(directory, "memory.memsw.limit_in_bytes") { swap = nil }
        for (file, value) in Self.memoryWrites(limit: limit, swap: swap,
                                               currentSwap: Int64(CgroupFile.read(directory, "memory.memsw.limit_in_bytes") ?? "")) {
            do {
                try CgroupFile.write(directory, file, value)
            } catch let error as SystemError where error.errno == EBUSY && file == "memory.limit_in_bytes" {
                // The kernel refuses a limit below what the container uses now: runc's words,
                // rather than the cgroup file's path.
                let usage = CgroupFile.read(directory, "memory.usage_in_bytes") ?? "?"
                let peak = CgroupFile.read(directory, "memory.max_usage_in_bytes") ?? "?"
                throw ConfigError("unable to set memory limit to \(value) (current usage: \(usage), peak usage: \(peak))")
            }
        }
        if let reservation = memory.reservation, reservation != 0 {
            try CgroupFile.write(directory, "memory.soft_limit_in_bytes", CgroupConversions.limit(reservation, unlimited: "-1"))
        }
        if let disable = memory.disableOOMKiller {
            try CgroupFile.write(directory, "memory.oom_control", disable ? "1" : "0")
        }
        if let swappiness = memory.swappiness {
            try CgroupFile.write(directory, "memory.swappiness", String(swappiness))
        }
    }

    /// memory.limit_in_bytes and memory.memsw.limit_in_bytes in an order the kernel accepts:
    /// memsw may never be below the limit, so when the limit grows past the current memsw
    /// (or becomes unlimited) memsw goes first, otherwise the limit does.
    static func memoryWrites(limit: Int64?, swap: Int64?, currentSwap: Int64?) -> [(file: String, value: String)] {
        let limitWrite = limit.map { ("memory.limit_in_bytes", CgroupConversions.limit($0, unlimited: "-1")) }
        let swapWrite = swap.map { ("memory.memsw.limit_in_bytes", CgroupConversions.limit($0, unlimited: "-1")) }
        let limitGrowsPastSwap = limit.map { $0 < 0 || $0 > (currentSwap ?? Int64.max) } ?? false
        let ordered = limitGrowsPastSwap ? [swapWrite, limitWrite] : [limitWrite, swapWrite]
        return ordered.compactMap { $0 }
    }

    /// A cgroup can stick in FREEZING while a task sleeps uninterruptibly: write FROZEN again
    /// until it holds; if it never does, thaw so the container is not left half-frozen.
    func freeze() throws {
        guard let directory = paths["freezer"] else { throw ConfigError("pausing needs the freezer controller") }
        do {
            try CgroupFile.wait(for: "\(directory) to freeze") {
                if CgroupFile.read(directory, "freezer.state") == "FROZEN" { return true }
                try CgroupFile.write(directory, "freezer.state", "FROZEN")
                return CgroupFile.read(directory, "freezer.state") == "FROZEN"
            }
        } catch {
            try? CgroupFile.write(directory, "freezer.state", "THAWED")
            throw error
        }
    }

    func thaw() throws {
        guard let directory = paths["freezer"] else { throw ConfigError("resuming needs the freezer controller") }
        try CgroupFile.write(directory, "freezer.state", "THAWED")
        try CgroupFile.wait(for: "\(directory) to thaw") { CgroupFile.read(directory, "freezer.state") == "THAWED" }
    }

    func isFrozen() -> Bool {
        guard let directory = paths["freezer"] else { return false }
        return CgroupFile.read(directory, "freezer.state") == "FROZEN"
    }

    func processes() throws -> [pid_t] {
        guard let directory = paths["pids"] ?? paths["freezer"] ?? paths.values.sorted().first else { return [] }
        return try CgroupFile.processes(directory)
    }

    /// Freezes first so nothing can fork in between, signals everyone, then thaws.
    func killAll(signal: Int32) throws {
        let wasFrozen = isFrozen()
        if !wasFrozen, paths["freezer"] != nil { try? freeze() }
        for pid in try processes() { _ = kill(pid, signal) }
        if !wasFrozen, paths["freezer"] != nil { try thaw() }
    }

    func oomKillCount() -> UInt64 {
        guard let directory = paths["memory"] else { return 0 }
        return CgroupFile.keyed(CgroupFile.read(directory, "memory.oom_control"), "oom_kill") ?? 0
    }

    func stats() -> CgroupStats {
        var stats = CgroupStats()
        if let directory = paths["cpuacct"] {
            stats.cpuTotal = CgroupStatsParser.number(CgroupFile.read(directory, "cpuacct.usage"))
            stats.cpuPerCPU = (CgroupFile.read(directory, "cpuacct.usage_percpu") ?? "")
                .split(separator: " ").compactMap { UInt64($0) }
            // cpuacct.stat counts clock ticks.
            let ticks = CgroupStatsParser.keyedValues(CgroupFile.read(directory, "cpuacct.stat"))
            let nanosecondsPerTick = 1_000_000_000 / UInt64(max(sysconf(Int32(_SC_CLK_TCK)), 1))
            stats.cpuUser = (ticks["user"] ?? 0) * nanosecondsPerTick
            stats.cpuSystem = (ticks["system"] ?? 0) * nanosecondsPerTick
        }
        if let directory = paths["cpu"] {
            let cpu = CgroupStatsParser.keyedValues(CgroupFile.read(directory, "cpu.stat"))
            stats.cpuPeriods = cpu["nr_periods"] ?? 0
            stats.cpuThrottledPeriods = cpu["nr_throttled"] ?? 0
            stats.cpuThrottledTime = cpu["throttled_time"] ?? 0
        }
        if let directory = paths["memory"] {
            stats.memoryUsage = CgroupStatsParser.number(CgroupFile.read(directory, "memory.usage_in_bytes"))
            stats.memoryMaxUsage = CgroupStatsParser.number(CgroupFile.read(directory, "memory.max_usage_in_bytes"))
            stats.memoryFailCount = CgroupStatsParser.number(CgroupFile.read(directory, "memory.failcnt"))
            stats.memoryLimit = CgroupStatsParser.limit(CgroupFile.read(directory, "memory.limit_in_bytes"))
            stats.memoryStat = CgroupStatsParser.keyedValues(CgroupFile.read(directory, "memory.stat"))
        }
        if let directory = paths["pids"] {
            stats.pidsCurrent = CgroupStatsParser.number(CgroupFile.read(directory, "pids.current"))
            stats.pidsLimit = CgroupStatsParser.limit(CgroupFile.read(directory, "pids.max"))
        }
        if let directory = paths["blkio"] {
            stats.blockIO = CgroupStatsParser.v1BlockIO(CgroupFile.read(directory, "blkio.throttle.io_service_bytes_recursive"))
            stats.blockIOServiced = CgroupStatsParser.v1BlockIO(CgroupFile.read(directory, "blkio.throttle.io_serviced_recursive"))
        }
        return stats
    }

    func destroy() throws {
        for directory in directories {
            try CgroupFile.remove(directory)
        }
    }
}
