import BerthOCI
import CSystemShims
import Glibc

/// A container's cgroup on the unified (v2) hierarchy: one directory.
struct CgroupV2: CgroupManager {
    let directory: String
    /// Where the hierarchy is mounted; known to a manager made for a new container, which
    /// creates its directory.
    let mountPoint: String?

    var paths: [String: String] { ["": directory] }

    /// Controllers to delegate to the container, where the parent offers them.
    static let wanted = ["cpu", "cpuset", "io", "memory", "pids", "hugetlb", "misc"]

    func create() throws {
        guard let mountPoint, directory.hasPrefix(mountPoint + "/") else {
            throw ConfigError("cgroup \(directory) is outside \(mountPoint ?? "a known cgroup2 mount")")
        }
        let own = mountPoint + CgroupHost.ownPath(controller: "")
        var current = mountPoint
        for component in directory.dropFirst(mountPoint.count).split(separator: "/") {
            // Each level hands its controllers down before the next level is made; the caller's
            // own cgroup is left alone (it holds processes, so the kernel would refuse anyway).
            if current == mountPoint || current != own { try delegateControllers(from: current) }
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw SystemError("mkdir \(current)") }
        }
    }

    /// Enables in `parent`'s cgroup.subtree_control the wanted controllers it has but does not
    /// yet hand down.
    private func delegateControllers(from parent: String) throws {
        func names(_ file: String) -> Set<String> {
            Set((CgroupFile.read(parent, file) ?? "").split(separator: " ").map(String.init))
        }
        let missing = Self.wanted.filter(names("cgroup.controllers").subtracting(names("cgroup.subtree_control")).contains)
        if !missing.isEmpty {
            try CgroupFile.write(parent, "cgroup.subtree_control", missing.map { "+" + $0 }.joined(separator: " "))
        }
    }

    var cgroup2Directory: String? { directory }
    var selfJoinFiles: [String] { [] }
    var joinFiles: [String] { [directory + "/cgroup.procs"] }

    func addProcess(_ pid: pid_t, exceptCgroup2: Bool) throws {
        if !exceptCgroup2 { try CgroupFile.write(directory, "cgroup.procs", String(pid)) }
    }

    func apply(_ resources: Spec.Resources) throws {
        try CgroupConversions.validate(resources)
        if let cpu = resources.cpu {
            if let shares = cpu.shares, shares > 0 {
                try CgroupFile.write(directory, "cpu.weight", String(CgroupConversions.cpuWeight(shares: shares)))
            }
            if let max = CgroupConversions.cpuMax(quota: cpu.quota, period: cpu.period,
                                                  current: CgroupFile.read(directory, "cpu.max")) {
                try CgroupFile.write(directory, "cpu.max", max)
            }
            if let burst = cpu.burst { try CgroupFile.write(directory, "cpu.max.burst", String(burst)) }
            if let idle = cpu.idle { try CgroupFile.write(directory, "cpu.idle", String(idle)) }
            if let cpus = cpu.cpus, !cpus.isEmpty { try CgroupFile.write(directory, "cpuset.cpus", cpus) }
            if let mems = cpu.mems, !mems.isEmpty { try CgroupFile.write(directory, "cpuset.mems", mems) }
        }
        if let memory = resources.memory {
            if let swap = try CgroupConversions.swapMax(memory: memory.limit, swap: memory.swap) {
                if CgroupFile.exists(directory, "memory.swap.max") { try CgroupFile.write(directory, "memory.swap.max", swap) }
            }
            if let limit = memory.limit, limit != 0 {
                try CgroupFile.write(directory, "memory.max", CgroupConversions.limit(limit, unlimited: "max"))
            }
            if let reservation = memory.reservation, reservation != 0 {
                try CgroupFile.write(directory, "memory.low", CgroupConversions.limit(reservation, unlimited: "max"))
            }
            // disableOOMKiller has no v2 equivalent; runc ignores it there too.
        }
        if let pids = resources.pids, pids.limit != 0 {
            try CgroupFile.write(directory, "pids.max", pids.limit < 0 ? "max" : String(pids.limit))
        }
        if let weight = resources.blockIO?.weight, weight > 0 {
            // BFQ keeps blkio's 1-1000 scale; io.weight has its own (1-10000).
            if CgroupFile.exists(directory, "io.bfq.weight") {
                try CgroupFile.write(directory, "io.bfq.weight", String(weight))
            } else if CgroupFile.exists(directory, "io.weight") {
                try CgroupFile.write(directory, "io.weight", "default \(CgroupConversions.ioWeight(blkioWeight: weight))")
            }
        }
        if let blockIO = resources.blockIO { try applyDeviceLimits(blockIO) }
        for limit in resources.hugepageLimits ?? [] {
            try CgroupFile.write(directory, "hugetlb.\(limit.pageSize).max", String(limit.limit))
        }
        for (key, value) in (resources.unified ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard !key.contains("/"), !key.hasPrefix(".") else { throw ConfigError("invalid unified cgroup key \"\(key)\"") }
            try CgroupFile.write(directory, key, value)
        }
        if let rules = resources.devices, !rules.isEmpty {
            try DeviceFilter.attach(rules, to: directory)
        }
    }

    /// Per-device weights (io.bfq.weight on blkio's scale, else io.weight's) and limits
    /// (io.max, one key per write: the others of the device stay as they are).
    private func applyDeviceLimits(_ blockIO: Spec.BlockIO) throws {
        for device in blockIO.weightDevice ?? [] {
            guard let weight = device.weight else { continue }
            if CgroupFile.exists(directory, "io.bfq.weight") {
                try CgroupFile.write(directory, "io.bfq.weight", "\(device.major):\(device.minor) \(weight)")
            } else {
                try CgroupFile.write(directory, "io.weight", "\(device.major):\(device.minor) \(CgroupConversions.ioWeight(blkioWeight: weight))")
            }
        }
        let limits = [("rbps", blockIO.throttleReadBpsDevice), ("wbps", blockIO.throttleWriteBpsDevice),
                      ("riops", blockIO.throttleReadIOPSDevice), ("wiops", blockIO.throttleWriteIOPSDevice)]
        for (key, devices) in limits {
            for device in devices ?? [] {
                try CgroupFile.write(directory, "io.max", "\(device.major):\(device.minor) \(key)=\(device.rate)")
            }
        }
    }

    func freeze() throws {
        try CgroupFile.write(directory, "cgroup.freeze", "1")
        do {
            try CgroupFile.wait(for: "\(directory) to freeze") { isFrozen() }
        } catch {
            // Not left half-frozen.
            try? CgroupFile.write(directory, "cgroup.freeze", "0")
            throw error
        }
    }

    func thaw() throws {
        try CgroupFile.write(directory, "cgroup.freeze", "0")
        try CgroupFile.wait(for: "\(directory) to thaw") { !isFrozen() }
    }

    func isFrozen() -> Bool {
        CgroupFile.keyed(CgroupFile.read(directory, "cgroup.events"), "frozen") == 1
    }

    func processes() throws -> [pid_t] {
        try CgroupFile.processes(directory)
    }

    func killAll(signal: Int32) throws {
        if signal == SIGKILL, CgroupFile.exists(directory, "cgroup.kill") {
            try CgroupFile.write(directory, "cgroup.kill", "1")
            return
        }
        let wasFrozen = isFrozen()
        if !wasFrozen { try? freeze() }
        for pid in try processes() { _ = kill(pid, signal) }
        if !wasFrozen { try thaw() }
    }

    func oomKillCount() -> UInt64 {
        CgroupFile.keyed(CgroupFile.read(directory, "memory.events"), "oom_kill") ?? 0
    }

    func stats() -> CgroupStats {
        var stats = CgroupStats()
        let cpu = CgroupStatsParser.keyedValues(CgroupFile.read(directory, "cpu.stat"))
        stats.cpuTotal = (cpu["usage_usec"] ?? 0) * 1000
        stats.cpuUser = (cpu["user_usec"] ?? 0) * 1000
        stats.cpuSystem = (cpu["system_usec"] ?? 0) * 1000
        stats.cpuPeriods = cpu["nr_periods"] ?? 0
        stats.cpuThrottledPeriods = cpu["nr_throttled"] ?? 0
        stats.cpuThrottledTime = (cpu["throttled_usec"] ?? 0) * 1000
        stats.memoryUsage = CgroupStatsParser.number(CgroupFile.read(directory, "memory.current"))
        stats.memoryMaxUsage = CgroupStatsParser.number(CgroupFile.read(directory, "memory.peak"))
        stats.memoryLimit = CgroupStatsParser.limit(CgroupFile.read(directory, "memory.max"))
        stats.memoryStat = CgroupStatsParser.keyedValues(CgroupFile.read(directory, "memory.stat"))
        stats.pidsCurrent = CgroupStatsParser.number(CgroupFile.read(directory, "pids.current"))
        stats.pidsLimit = CgroupStatsParser.limit(CgroupFile.read(directory, "pids.max"))
        stats.blockIO = CgroupStatsParser.v2BlockIO(CgroupFile.read(directory, "io.stat"))
        return stats
    }

    func destroy() throws {
        try CgroupFile.remove(directory)
    }
}

/// Loads and attaches the cgroup v2 device filter (a BPF program made from the rules).
enum DeviceFilter {
    static func attach(_ rules: [Spec.DeviceRule], to directory: String) throws {
        let program = DeviceRules.bpfProgram(rules)
        var programFD = program.withUnsafeBufferPointer {
            berth_bpf_load_device_program($0.baseAddress, UInt32($0.count), nil, 0)
        }
        if programFD < 0 {
            // Load again with the verifier's log, to say why.
            let failure = errno
            var log = [CChar](repeating: 0, count: 65536)
            programFD = program.withUnsafeBufferPointer {
                berth_bpf_load_device_program($0.baseAddress, UInt32($0.count), &log, UInt32(log.count))
            }
            if programFD < 0 {
                let verifier = log.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                throw SystemError("load device filter (\(verifier.suffix(300)))", errno: failure)
            }
        }
        defer { close(programFD) }
        let cgroupFD = open(directory, O_DIRECTORY | O_RDONLY | O_CLOEXEC)
        if cgroupFD < 0 { throw SystemError("open \(directory)") }
        defer { close(cgroupFD) }
        try check("attach device filter to \(directory)", berth_bpf_replace_device_program(cgroupFD, programFD))
    }
}
