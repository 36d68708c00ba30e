/// A container's resource usage, read from its cgroup files (what `docker stats` shows).
/// Times are in nanoseconds; a nil limit means unlimited; values a hierarchy lacks stay 0.
public struct CgroupStats: Sendable, Equatable {
    public var cpuTotal: UInt64 = 0
    public var cpuUser: UInt64 = 0
    public var cpuSystem: UInt64 = 0
    /// Per-CPU usage (cgroup v1 only; v2 does not account per CPU).
    public var cpuPerCPU: [UInt64] = []
    public var cpuPeriods: UInt64 = 0
    public var cpuThrottledPeriods: UInt64 = 0
    public var cpuThrottledTime: UInt64 = 0

    public var memoryUsage: UInt64 = 0
    public var memoryMaxUsage: UInt64 = 0
    /// Times the usage hit the limit (v1's memory.failcnt; v2 has none).
    public var memoryFailCount: UInt64 = 0
    public var memoryLimit: UInt64?
    /// memory.stat as it is: v1 names (cache, total_inactive_file, ...) or v2's (anon, file, inactive_file, ...).
    public var memoryStat: [String: UInt64] = [:]

    public var pidsCurrent: UInt64 = 0
    public var pidsLimit: UInt64?

    /// Bytes read and written per block device.
    public var blockIO: [BlockIO] = []
    /// I/O operations per block device (v1's io_serviced_recursive; dockerd shows none on v2).
    public var blockIOServiced: [BlockIO] = []

    public struct BlockIO: Sendable, Equatable {
        public var major: UInt64
        public var minor: UInt64
        public var operation: String   // "Read", "Write" (and v1's "Sync", "Async", "Discard", "Total"), as Docker names them
        public var bytes: UInt64

        public init(major: UInt64, minor: UInt64, operation: String, bytes: UInt64) {
            self.major = major
            self.minor = minor
            self.operation = operation
            self.bytes = bytes
        }
    }

    public init() {}
}

/// Parsers for the stats files, shared by both managers.
enum CgroupStatsParser {
    /// "key value" lines (memory.stat, cpu.stat, cpuacct.stat) as a dictionary.
    static func keyedValues(_ text: String?) -> [String: UInt64] {
        var values: [String: UInt64] = [:]
        for line in (text ?? "").split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = UInt64(parts[1]) { values[String(parts[0])] = value }
        }
        return values
    }

    static func number(_ text: String?) -> UInt64 {
        UInt64(text ?? "") ?? 0
    }

    /// A limit file: "max" (v2) or a page-rounded 2^63-ish value (v1) mean unlimited.
    static func limit(_ text: String?) -> UInt64? {
        guard let text, let value = UInt64(text), value < (1 << 62) else { return nil }
        return value
    }

    /// v1 blkio.throttle.io_service_bytes_recursive / io_serviced_recursive: "8:0 Read 4096"
    /// lines per device and operation (dockerd passes every operation on), and a bare
    /// "Total 4096" line, which is no device's.
    static func v1BlockIO(_ text: String?) -> [CgroupStats.BlockIO] {
        (text ?? "").split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 3, let device = device(parts[0]), let bytes = UInt64(parts[2]) else { return nil }
            return .init(major: device.major, minor: device.minor, operation: String(parts[1]), bytes: bytes)
        }
    }

    /// v2 io.stat: "8:0 rbytes=4096 wbytes=0 rios=1 wios=0 ..." lines.
    static func v2BlockIO(_ text: String?) -> [CgroupStats.BlockIO] {
        var entries: [CgroupStats.BlockIO] = []
        for line in (text ?? "").split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard let first = parts.first, let device = device(first) else { continue }
            for field in parts.dropFirst() {
                let pair = field.split(separator: "=")
                guard pair.count == 2, let bytes = UInt64(pair[1]) else { continue }
                let operation = pair[0] == "rbytes" ? "Read" : pair[0] == "wbytes" ? "Write" : nil
                if let operation { entries.append(.init(major: device.major, minor: device.minor, operation: operation, bytes: bytes)) }
            }
        }
        return entries
    }

    private static func device(_ text: Substring) -> (major: UInt64, minor: UInt64)? {
        let numbers = text.split(separator: ":")
        guard numbers.count == 2, let major = UInt64(numbers[0]), let minor = UInt64(numbers[1]) else { return nil }
        return (major, minor)
    }
}
