import BerthOCI
import BerthRuntime
import FoundationEssentials
import Glibc

/// What the host supports, as far as validating a create request needs it (dockerd's
/// `sysinfo.SysInfo`). A plain value so tests can describe any host.
public struct HostFacts: Sendable, Equatable {
    /// CPUs this process may run on (Go's runtime.NumCPU), for the NanoCpus range.
    public var cpuCount: Int
    /// The cpuset and memory nodes containers may use, as lists like "0-3".
    public var onlineCPUs: String
    public var onlineMems: String
    public var totalMemory: Int64
    public var cgroupV2: Bool
    public var memoryLimit = true
    public var swapLimit = true
    public var memoryReservation = true
    public var memorySwappiness = true
    public var oomKillDisable = true
    public var pidsLimit = true
    public var cpuShares = true
    public var cpuCFS = true
    public var cpuRealtime = false
    public var cpuset = true
    public var blkioWeight = true
    public var blkioWeightDevice = true
    public var blkioReadBpsDevice = true
    public var blkioWriteBpsDevice = true
    public var blkioReadIOpsDevice = true
    public var blkioWriteIOpsDevice = true
    public var cgroupNamespaces = true
    /// The highest capability number the kernel knows (cap_last_cap).
    public var lastCapability = 40
    /// net.ipv4.ip_forward: without it, containers on bridges reach nothing beyond the host.
    public var ipv4Forwarding = true

    public init(cpuCount: Int, onlineCPUs: String, onlineMems: String, totalMemory: Int64, cgroupV2: Bool) {
        self.cpuCount = cpuCount
        self.onlineCPUs = onlineCPUs
        self.onlineMems = onlineMems
        self.totalMemory = totalMemory
        self.cgroupV2 = cgroupV2
        if cgroupV2 {
            // cgroup v2 has neither a swappiness knob nor a way to turn the OOM killer off.
            memorySwappiness = false
            oomKillDisable = false
        }
    }

    /// cgroup v2's io controller has every per-device weight and limit, or none.
    mutating func setBlkioDeviceLimits(_ available: Bool) {
        blkioWeightDevice = available
        blkioReadBpsDevice = available
        blkioWriteBpsDevice = available
        blkioReadIOpsDevice = available
        blkioWriteIOpsDevice = available
    }

    /// This host, read from /proc and /sys.
    public static func current() -> HostFacts {
        let v2 = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")
        let cpus = read("/sys/fs/cgroup/cpuset.cpus.effective") ?? read("/sys/devices/system/cpu/online") ?? "0"
        let mems = read("/sys/fs/cgroup/cpuset.mems.effective") ?? read("/sys/devices/system/node/online") ?? "0"
        var facts = HostFacts(cpuCount: affinityCPUCount(), onlineCPUs: cpus, onlineMems: mems,
                              totalMemory: Int64(sysconf(Int32(_SC_PHYS_PAGES))) * Int64(sysconf(Int32(_SC_PAGESIZE))),
                              cgroupV2: v2)
        if v2 {
            let controllers = Set((read("/sys/fs/cgroup/cgroup.controllers") ?? "").split(separator: " ").map(String.init))
            facts.memoryLimit = controllers.contains("memory")
            facts.memoryReservation = facts.memoryLimit
            facts.swapLimit = facts.memoryLimit && swapFileExistsInSomeChildCgroup()
            facts.pidsLimit = controllers.contains("pids")
            facts.cpuShares = controllers.contains("cpu")
            facts.cpuCFS = controllers.contains("cpu")
            facts.cpuset = controllers.contains("cpuset")
            facts.blkioWeight = controllers.contains("io")
            facts.setBlkioDeviceLimits(controllers.contains("io"))
        } else {
            let exists = { (path: String) in FileManager.default.fileExists(atPath: "/sys/fs/cgroup/" + path) }
            facts.memoryLimit = exists("memory/memory.limit_in_bytes")
            facts.swapLimit = exists("memory/memory.memsw.limit_in_bytes")
            facts.memoryReservation = exists("memory/memory.soft_limit_in_bytes")
            facts.memorySwappiness = exists("memory/memory.swappiness")
            facts.oomKillDisable = exists("memory/memory.oom_control")
            facts.pidsLimit = exists("pids/pids.max") || exists("pids")
            facts.cpuShares = exists("cpu/cpu.shares")
            facts.cpuCFS = exists("cpu/cpu.cfs_quota_us")
            facts.cpuRealtime = exists("cpu/cpu.rt_runtime_us")
            facts.cpuset = exists("cpuset/cpuset.cpus")
            facts.blkioWeight = exists("blkio/blkio.weight") || exists("blkio/blkio.bfq.weight")
            facts.blkioWeightDevice = exists("blkio/blkio.weight_device") || exists("blkio/blkio.bfq.weight_device")
            facts.blkioReadBpsDevice = exists("blkio/blkio.throttle.read_bps_device")
            facts.blkioWriteBpsDevice = exists("blkio/blkio.throttle.write_bps_device")
            facts.blkioReadIOpsDevice = exists("blkio/blkio.throttle.read_iops_device")
            facts.blkioWriteIOpsDevice = exists("blkio/blkio.throttle.write_iops_device")
        }
        facts.cgroupNamespaces = FileManager.default.fileExists(atPath: "/proc/self/ns/cgroup")
        if let last = read("/proc/sys/kernel/cap_last_cap").flatMap({ Int($0) }) { facts.lastCapability = last }
        facts.ipv4Forwarding = ipv4ForwardingEnabled()
        return facts
    }

    /// Read at each use, as dockerd does: an administrator may turn it off at any time.
    public static func ipv4ForwardingEnabled() -> Bool {
        read("/proc/sys/net/ipv4/ip_forward") == "1"
    }

    static func read(_ path: String) -> String? {
        guard let text = readTextFile(path) else { return nil }  // empty files too: see readTextFile
        let trimmed = text.trimmed()
        return trimmed.isEmpty ? nil : trimmed
    }

    /// memory.swap.max exists only below the root cgroup, and only with swap accounting on.
    static func swapFileExistsInSomeChildCgroup() -> Bool {
        let children = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []
        return children.contains { FileManager.default.fileExists(atPath: "/sys/fs/cgroup/\($0)/memory.swap.max") }
    }

    /// The CPUs in this process's affinity mask (Cpus_allowed_list), as Go's NumCPU counts them.
    static func affinityCPUCount() -> Int {
        let list = ownStatusField("Cpus_allowed_list") ?? ""
        if let cpus = try? NumberList.parse(list), !cpus.isEmpty { return cpus.count }
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// A field of this process's /proc/self/status ("CapBnd", "Cpus_allowed_list"), trimmed.
    static func ownStatusField(_ name: String) -> String? {
        let status = readProcFile("/proc/self/status") ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix(name + ":") }
        return line.map { $0.dropFirst(name.count + 1).trimmed(newlines: false) }
    }
}

/// A kernel list of CPU or memory node numbers: "0-3,8,10-11".
public enum NumberList {
    /// The numbers in the list; dockerd's wording when it is malformed.
    public static func parse(_ text: String) throws -> Set<Int> {
        var numbers = Set<Int>()
        guard !text.isEmpty else { return numbers }
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), let low = Int(bounds[0]), low >= 0,
                  let high = Int(bounds.last!), high >= low else {
                throw BerthErrorText.invalidFormat(text)
            }
            numbers.formUnion(low...high)
        }
        return numbers
    }
}

enum BerthErrorText: Error, CustomStringConvertible {
    case invalidFormat(String)
    var description: String {
        switch self {
        case .invalidFormat(let text): return "invalid format: \(text)"
        }
    }
}
