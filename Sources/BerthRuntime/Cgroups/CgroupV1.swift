import BerthOCI
import Glibc

/// A container's cgroup on a v1 (legacy or hybrid) host: one directory per controller.
struct CgroupV1: CgroupManager {
    /// controller → the container's directory in that controller's hierarchy
    let paths: [String: String]
    /// controller → where the hierarchy is mounted (to create parents within it only)
    let mountPoints: [String: String]

    /// Each directory once: combined hierarchies (cpu,cpuacct) share one.
    private var directories: [String] { Array(Set(paths.values)).sorted() }

    func create() throws {
        for (controller, directory) in paths.sorted(by: { $0.key < $1.key }) {
            guard let mountPoint = mountPoints[controller], directory.hasPrefix(mountPoint + "/") else {
                throw ConfigError("cgroup \(directory) is outside the \(controller) hierarchy")
            }
            if controller == "cpuset" {
                try createCpuset(directory, below: mountPoint)
            } else {
                try FileSystem.makeDirectories(directory)
            }
        }
    }

    /// A new cpuset cgroup starts with no cpus and no mems, and refuses tasks until given
    /// some: each created level inherits its parent's.
    private func createCpuset(_ directory: String, below mountPoint: String) throws {
        var current = mountPoint
        for component in directory.dropFirst(mountPoint.count).split(separator: "/") {
            let parent = current
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw SystemError("mkdir \(current)") }
            for file in ["cpuset.cpus", "cpuset.mems"] where (CgroupFile.read(current, file) ?? "").isEmpty {
                try CgroupFile.write(current, file, CgroupFile.read(parent, file) ?? "")
            }
        }
    }

    func addProcess(_ pid: pid_t) throws {
        for directory in directories {
            try CgroupFile.write(directory, "cgroup.procs", String(pid))
        }
    }

    func apply(_ resources: Spec.Resources) throws {
        try CgroupConversions.validate(resources)
        if let memory = resources.memory, let directory = paths["memory"] { try applyMemory(memory, directory) }
        if let cpu = resources.cpu {
            if let directory = paths["cpu"] {
                if let shares = cpu.shares, shares > 0 { try CgroupFile.write(directory, "cpu.shares", String(shares)) }
                if let period = cpu.period, period > 0 { try CgroupFile.write(directory, "cpu.cfs_period_us", String(period)) }
                if let quota = cpu.quota, quota != 0 { try CgroupFile.write(directory, "cpu.cfs_quota_us", String(quota)) }
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
            for (file, line) in DeviceRules.v1Lines(rules) {
                try CgroupFile.write(directory, file, line)
            }
        }
        if let weight = resources.blockIO?.weight, weight > 0, let directory = paths["blkio"] {
            // Kernels without a proportional-weight I/O scheduler have no blkio.weight (as here).
            if CgroupFile.exists(directory, "blkio.weight") {
                try CgroupFile.write(directory, "blkio.weight", String(weight))
            }
        }
        for limit in resources.hugepageLimits ?? [] {
            guard let directory = paths["hugetlb"] else { throw ConfigError("hugetlb limits need the hugetlb controller") }
            try CgroupFile.write(directory, "hugetlb.\(limit.pageSize).limit_in_bytes", String(limit.limit))
        }
        if let unified = resources.unified, !unified.isEmpty {
            throw ConfigError("linux.resources.unified needs cgroup v2; this host uses cgroup v1")
        }
    }

    private func applyMemory(_ memory: Spec.Memory, _ directory: String) throws {
        let hasSwapAccounting = CgroupFile.exists(directory, "memory.memsw.limit_in_bytes")
        let limit = memory.limit.map { CgroupConversions.limit($0, unlimited: "-1") }
        var swap = memory.swap.flatMap { $0 == 0 ? nil : CgroupConversions.limit($0, unlimited: "-1") }
        if swap != nil && !hasSwapAccounting {
            // Without swap accounting the limit still holds; runc and Docker skip memsw the same way.
            swap = nil
        }
        // memsw must never be below the memory limit, so the order depends on the direction.
        let currentSwap = Int64(CgroupFile.read(directory, "memory.memsw.limit_in_bytes") ?? "") ?? Int64.max
        let newLimit = memory.limit ?? 0
        if let swap, newLimit < 0 || newLimit > currentSwap {
            try CgroupFile.write(directory, "memory.memsw.limit_in_bytes", swap)
            if let limit { try CgroupFile.write(directory, "memory.limit_in_bytes", limit) }
        } else {
            if let limit { try CgroupFile.write(directory, "memory.limit_in_bytes", limit) }
            if let swap { try CgroupFile.write(directory, "memory.memsw.limit_in_bytes", swap) }
        }
        if let reservation = memory.reservation, reservation != 0 {
            try CgroupFile.write(directory, "memory.soft_limit_in_bytes", CgroupConversions.limit(reservation, unlimited: "-1"))
        }
        if memory.disableOOMKiller == true { try CgroupFile.write(directory, "memory.oom_control", "1") }
        if let swappiness = memory.swappiness {
            guard swappiness <= 100 else { throw ConfigError("memory swappiness \(swappiness) is above 100") }
            try CgroupFile.write(directory, "memory.swappiness", String(swappiness))
        }
    }

    func freeze() throws {
        guard let directory = paths["freezer"] else { throw ConfigError("pausing needs the freezer controller") }
        try CgroupFile.write(directory, "freezer.state", "FROZEN")
        try CgroupFile.wait(for: "\(directory) to freeze") { CgroupFile.read(directory, "freezer.state") == "FROZEN" }
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

    func destroy() throws {
        for directory in directories {
            try CgroupFile.remove(directory)
        }
    }
}
