/// Go's durations as Docker writes and reads them: `time.Duration.String()` ("1s", "1m30s",
/// "500ms"; dockerd's healthcheck timeout message) and `time.ParseDuration` (Dockerfile flags).
public enum GoDuration {
    public static func describe(nanoseconds: Int64) -> String {
        if nanoseconds == 0 { return "0s" }
        let sign = nanoseconds < 0 ? "-" : ""
        let magnitude = nanoseconds.magnitude
        if magnitude < 1_000_000_000 {
            let (unit, scale, digits): (String, UInt64, Int) =
                magnitude < 1_000 ? ("ns", 1, 0) : magnitude < 1_000_000 ? ("µs", 1_000, 3) : ("ms", 1_000_000, 6)
            return sign + decimal(magnitude / scale, fraction: magnitude % scale, digits: digits) + unit
        }
        let seconds = magnitude / 1_000_000_000
        var text = decimal(seconds % 60, fraction: magnitude % 1_000_000_000, digits: 9) + "s"
        let minutes = seconds / 60
        if minutes > 0 {
            text = "\(minutes % 60)m" + text
            if minutes / 60 > 0 { text = "\(minutes / 60)h" + text }
        }
        return sign + text
    }

    /// "1.5" from 1 and 500 of 3 digits; the fraction's trailing zeros dropped.
    private static func decimal(_ whole: UInt64, fraction: UInt64, digits: Int) -> String {
        guard fraction > 0 else { return String(whole) }
        var text = String(fraction)
        text = String(repeating: "0", count: digits - text.count) + text
        while text.hasSuffix("0") { text.removeLast() }
        return "\(whole).\(text)"
    }

    /// Go's `time.ParseDuration`: "1m30s", "1.5s", "500ms", "-2h", "0"; nil for what Go refuses.
    public static func nanoseconds(_ text: String) -> Int64? {
        var rest = Substring(text)
        var sign: Double = 1
        if let first = rest.first, first == "-" || first == "+" {
            sign = first == "-" ? -1 : 1
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { return nil }
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("μs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 6e10), ("h", 3.6e12)]
        var total: Double = 0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, number != ".", let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            // The longest unit that matches ("ms" before "m").
            guard let unit = units.filter({ rest.hasPrefix($0.0) }).max(by: { $0.0.count < $1.0.count }) else { return nil }
            rest = rest.dropFirst(unit.0.count)
            total += value * unit.1
        }
        return Int64((sign * total).rounded())
    }
}

