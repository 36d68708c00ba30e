import BerthOCI
import Glibc

/// Docker users' flags become cgroup values through runc's published formulas (DESIGN rule 7).
public enum CgroupConversions {
    /// cpu.shares (2…262144, default 1024) → cgroup v2 cpu.weight (1…10000, default 100):
    /// the quadratic fit in log2 space that maps 2 → 1, 1024 → 100 and 262144 → 10000.
    public static func cpuWeight(shares: UInt64) -> UInt64 {
        if shares == 0 { return 0 }
        if shares <= 2 { return 1 }
        if shares >= 262_144 { return 10_000 }
        let l = log2(Double(shares))
        let exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0
        return UInt64(pow(10, exponent).rounded(.up))
    }

    /// The spec's memory.swap is memory+swap (v1 memsw); v2's memory.swap.max is swap alone.
    /// -1 = unlimited ("max"); nil = leave unset.
    public static func swapMax(memory: Int64?, swap: Int64?) throws -> String? {
        guard let swap, swap != 0 else { return nil }
        if swap == -1 { return "max" }
        guard let memory, memory > 0 else {
            throw ConfigError("memory.swap (\(swap)) is set without a memory limit")
        }
        guard swap >= memory else {
            throw ConfigError("memory+swap limit (\(swap)) must not be below the memory limit (\(memory))")
        }
        return String(swap - memory)
    }

    /// v2 cpu.max from quota and period: "max 100000", "50000 100000"; nil when neither is set.
    /// `current` is cpu.max as it is: an update that names only the period keeps its quota.
    public static func cpuMax(quota: Int64?, period: UInt64?, current: String? = nil) -> String? {
        var kept = quota
        if kept == nil, period != nil, let head = current?.split(separator: " ").first {
            kept = head == "max" ? -1 : Int64(head)
        }
        let quota = kept ?? 0
        let period = period ?? 0
        if quota == 0 && period == 0 { return nil }
        let head = quota > 0 ? String(quota) : "max"
        return period != 0 ? "\(head) \(period)" : head
    }

    /// blkio.weight (10…1000) → io.weight (1…10000).
    public static func ioWeight(blkioWeight: UInt16) -> UInt64 {
        guard blkioWeight > 0 else { return 0 }
        return 1 + (UInt64(blkioWeight) - 10) * 9999 / 990
    }

    /// A limit in bytes, where -1 means unlimited.
    public static func limit(_ value: Int64, unlimited: String) -> String {
        value < 0 ? unlimited : String(value)
    }

    /// Validates a cpuset list such as "0-2,4"; the kernel's own error would be just "Invalid argument".
    public static func validateCPUSet(_ text: String, field: String) throws {
        let valid = !text.isEmpty && text.split(separator: ",", omittingEmptySubsequences: false).allSatisfy { part in
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), bounds.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) else { return false }
            return bounds.count == 1 || Int(bounds[0])! <= Int(bounds[1])!
        }
        guard valid else { throw ConfigError("invalid \(field) \"\(text)\": want a list like 0-2,4") }
    }

    public static func validate(_ resources: Spec.Resources) throws {
        if let cpu = resources.cpu { try validate(cpu) }
        if let memory = resources.memory {
            if let limit = memory.limit, limit > 0, let swap = memory.swap, swap > 0, swap < limit {
                throw ConfigError("memory+swap limit (\(swap)) must not be below the memory limit (\(limit))")
            }
            if let limit = memory.limit, limit < 0, let swap = memory.swap, swap > 0 {
                throw ConfigError("memory+swap limit (\(swap)) is set but the memory limit is unlimited")
            }
            if let swappiness = memory.swappiness, swappiness > 100 {
                throw ConfigError("memory swappiness \(swappiness) is not in 0-100")
            }
        }
        for rule in resources.devices ?? [] {
            if let type = rule.type, !["a", "b", "c"].contains(type) {
                throw ConfigError("device rule has invalid type \"\(type)\"")
            }
            if let access = rule.access, !access.allSatisfy({ "rwm".contains($0) }) {
                throw ConfigError("device rule has invalid access \"\(access)\"")
            }
        }
        if let weight = resources.blockIO?.weight, weight != 0, !(10...1000).contains(weight) {
            throw ConfigError("blkio weight \(weight) is not in 10-1000")
        }
        for device in resources.blockIO?.weightDevice ?? [] {
            if let weight = device.weight, !(10...1000).contains(weight) {
                throw ConfigError("blkio weight \(weight) of device \(device.major):\(device.minor) is not in 10-1000")
            }
        }
        for limit in resources.hugepageLimits ?? [] where !isPageSize(limit.pageSize) {
            throw ConfigError("invalid hugepage size \"\(limit.pageSize)\": want a size like 2MB or 1GB")
        }
    }

    /// The kernel's CFS bandwidth bounds: a period of 1 ms to 1 s, a quota of at least 1 ms.
    static func validate(_ cpu: Spec.CPU) throws {
        if let cpus = cpu.cpus, !cpus.isEmpty { try validateCPUSet(cpus, field: "cpuset cpus") }
        if let mems = cpu.mems, !mems.isEmpty { try validateCPUSet(mems, field: "cpuset mems") }
        if let quota = cpu.quota, quota > 0 {
            if cpu.period == 0 { throw ConfigError("cpu quota \(quota) is set with a cpu period of 0") }
            if quota < 1000 { throw ConfigError("cpu quota \(quota) is below the minimum of 1000 microseconds") }
        }
        if let period = cpu.period, period != 0, !(1000...1_000_000).contains(period) {
            throw ConfigError("cpu period \(period) is not between 1000 and 1000000 microseconds")
        }
    }

    /// Hugepage sizes as the cgroup files name them: "2MB", "1GB", "64KB".
    static func isPageSize(_ text: String) -> Bool {
        guard let unit = ["KB", "MB", "GB"].first(where: text.hasSuffix) else { return false }
        let number = text.dropLast(unit.count)
        return !number.isEmpty && number.allSatisfy(\.isNumber)
    }
}
