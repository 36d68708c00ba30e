import BerthOCI
import CSystemShims
import Glibc

/// A container's cgroup on the unified (v2) hierarchy: one directory.
struct CgroupV2: CgroupManager {
    let directory: String
    let mountPoint: String

    var paths: [String: String] { ["": directory] }

    /// Controllers to delegate to the container, where the parent offers them.
    static let wanted = ["cpu", "cpuset", "io", "memory", "pids", "hugetlb", "misc"]

    func create() throws {
        guard directory.hasPrefix(mountPoint + "/") else { throw ConfigError("cgroup \(directory) is outside \(mountPoint)") }
        var current = mountPoint
        for component in directory.dropFirst(mountPoint.count).split(separator: "/") {
            // Each level hands its controllers down before the next level is made.
            let available = Set((CgroupFile.read(current, "cgroup.controllers") ?? "").split(separator: " ").map(String.init))
            let enable = Self.wanted.filter(available.contains).map { "+" + $0 }.joined(separator: " ")
            if !enable.isEmpty { try CgroupFile.write(current, "cgroup.subtree_control", enable) }
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw SystemError("mkdir \(current)") }
        }
    }

    func addProcess(_ pid: pid_t) throws {
        try CgroupFile.write(directory, "cgroup.procs", String(pid))
    }

    func apply(_ resources: Spec.Resources) throws {
        try CgroupConversions.validate(resources)
        if let cpu = resources.cpu {
            if let shares = cpu.shares, shares > 0 {
                try CgroupFile.write(directory, "cpu.weight", String(CgroupConversions.cpuWeight(shares: shares)))
            }
            if let max = CgroupConversions.cpuMax(quota: cpu.quota, period: cpu.period) {
                try CgroupFile.write(directory, "cpu.max", max)
            }
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
        if let weight = resources.blockIO?.weight, weight > 0, CgroupFile.exists(directory, "io.weight") {
            try CgroupFile.write(directory, "io.weight", "default \(CgroupConversions.ioWeight(blkioWeight: weight))")
        }
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

    func freeze() throws {
        try CgroupFile.write(directory, "cgroup.freeze", "1")
        try CgroupFile.wait(for: "\(directory) to freeze") { isFrozen() }
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
