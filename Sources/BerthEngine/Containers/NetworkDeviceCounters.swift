import BerthOCI
import FoundationEssentials

/// A container's interface counters for `docker stats`, read from /proc/<pid>/net/dev: the
/// file shows the network namespace of that process, so berthd never has to enter it.
public enum NetworkDeviceCounters {
    /// /proc/net/dev: two header lines, then "  eth0: rxbytes rxpackets rxerrs rxdrop fifo
    /// frame compressed multicast txbytes txpackets txerrs txdrop ...". Loopback is left out,
    /// as dockerd shows only the container's endpoints.
    public static func parse(_ text: String) -> [String: StatsRecord.NetworkStats] {
        var interfaces: [String: StatsRecord.NetworkStats] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon]).trimmed()
            let numbers = line[line.index(after: colon)...].split(separator: " ").compactMap { UInt64($0) }
            guard !name.isEmpty, name != "lo", numbers.count >= 12 else { continue }
            interfaces[name] = StatsRecord.NetworkStats(
                rx_bytes: numbers[0], rx_packets: numbers[1], rx_errors: numbers[2], rx_dropped: numbers[3],
                tx_bytes: numbers[8], tx_packets: numbers[9], tx_errors: numbers[10], tx_dropped: numbers[11])
        }
        return interfaces
    }

    public static func read(pid: Int32) -> [String: StatsRecord.NetworkStats]? {
        guard pid > 0, let text = readProcFile("/proc/\(pid)/net/dev") else { return nil }
        return parse(text)
    }
}
