import BerthOCI
import Glibc

/// `since` and `until` of `GET /events`: unix seconds with an optional fraction ("1700000000.5"),
/// parsed as dockerd parses them (the CLI turns RFC 3339 times and durations into these).
public enum EventTime {
    /// Nanoseconds since the epoch; nil for an empty value.
    public static func parse(_ text: String?) throws -> Int64? {
        guard let text, !text.isEmpty else { return nil }
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let seconds = try integer(String(parts[0]))
        var nanoseconds: Int64 = 0
        if parts.count == 2 {
            let fraction = String(parts[1])
            let value = try integer(fraction)
            // Digits after the point, whatever their count, scaled to nanoseconds.
            var scaled = Double(value)
            let exponent = 9 - fraction.count
            if exponent >= 0 { for _ in 0..<exponent { scaled *= 10 } } else { for _ in 0..<(-exponent) { scaled /= 10 } }
            nanoseconds = Int64(scaled)
        }
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return seconds < 0 ? Int64.min : Int64.max }
        let (sum, overflowSum) = product.addingReportingOverflow(nanoseconds)
        return overflowSum ? Int64.max : sum
    }

    /// Go's strconv.ParseInt, with its error words.
    static func integer(_ text: String) throws -> Int64 {
        var digits = Substring(text)
        if digits.first == "+" || digits.first == "-" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw BerthError.invalidArgument("strconv.ParseInt: parsing \"\(text)\": invalid syntax")
        }
        guard let value = Int64(text.hasPrefix("+") ? String(text.dropFirst()) : text) else {
            throw BerthError.invalidArgument("strconv.ParseInt: parsing \"\(text)\": value out of range")
        }
        return value
    }

    /// Now, in nanoseconds since the epoch.
    public static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}
