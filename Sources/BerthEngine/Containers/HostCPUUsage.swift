import BerthOCI
import FoundationEssentials
import Glibc

/// The host's CPU time, which `docker stats` divides a container's CPU time by: the first
/// seven fields of /proc/stat's "cpu" line (user nice system idle iowait irq softirq, in
/// clock ticks) in nanoseconds, as dockerd counts it; and the CPUs online.
public enum HostCPUUsage {
    public static func parse(procStat: String, ticksPerSecond: UInt64) -> UInt64? {
        for line in procStat.split(separator: "\n") where line.hasPrefix("cpu ") {
            let fields = line.split(separator: " ").dropFirst()
            guard fields.count >= 7 else { return nil }
            var ticks: UInt64 = 0
            for field in fields.prefix(7) {
                guard let value = UInt64(field) else { return nil }
                ticks += value
            }
            return ticks * (1_000_000_000 / max(ticksPerSecond, 1))
        }
        return nil
    }

    public static func systemNanoseconds() -> UInt64 {
        guard let text = readProcFile("/proc/stat") else { return 0 }
        return parse(procStat: text, ticksPerSecond: UInt64(max(sysconf(Int32(_SC_CLK_TCK)), 1))) ?? 0
    }

    public static func onlineCPUs() -> UInt32 {
        UInt32(max(sysconf(Int32(_SC_NPROCESSORS_ONLN)), 1))
    }
}
