/// The host's local time for syslog messages, without the C library's time zone code (which
/// costs the shim about 190 KiB of memory): berthd reads the zone's offsets from UTC for the
/// years ahead and gives them as `OFFSET[,START,OFFSET]...` — the offset in seconds east of
/// UTC now, then each change's time (seconds since the epoch) and the offset from then on.
public struct UTCOffsets: Sendable {
    /// Offsets from their start, in order; the first holds from the beginning of time.
    public private(set) var changes: [(start: Int64, offset: Int)]

    public init(changes: [(start: Int64, offset: Int)]) {
        self.changes = changes.isEmpty ? [(Int64.min, 0)] : changes
    }

    public init?(parsing text: String) {
        var numbers: [Int64] = []
        for part in text.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            var value: Int64 = 0
            var negative = false
            var digits = 0
            for (index, byte) in part.enumerated() {
                if index == 0 && byte == UInt8(ascii: "-") {
                    negative = true
                    continue
                }
                guard byte >= 48, byte <= 57, digits < 18 else { return nil }
                value = value * 10 + Int64(byte - 48)
                digits += 1
            }
            guard digits > 0 else { return nil }
            numbers.append(negative ? -value : value)
        }
        guard numbers.count % 2 == 1 else { return nil }
        var changes: [(start: Int64, offset: Int)] = [(Int64.min, Int(numbers[0]))]
        var index = 1
        while index < numbers.count {
            guard numbers[index] > changes[changes.count - 1].start else { return nil }
            changes.append((numbers[index], Int(numbers[index + 1])))
            index += 2
        }
        self.init(changes: changes)
    }

    public func offset(at seconds: Int64) -> Int {
        var result = changes[0].offset
        for change in changes where change.start <= seconds { result = change.offset }
        return result
    }

    /// The local time at `seconds`.`nanoseconds` since the epoch.
    public func localTime(seconds: Int64, nanoseconds: Int64) -> SyslogMessage.LocalTime {
        let offset = offset(at: seconds)
        let local = seconds + Int64(offset)
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let second = local - days * 86_400
        let (year, month, day) = Timestamp.civilDate(daysSinceEpoch: days)
        return SyslogMessage.LocalTime(year: Int(year), month: Int(month), day: Int(day), hour: Int(second / 3600),
                                       minute: Int(second / 60 % 60), second: Int(second % 60),
                                       microsecond: Int(nanoseconds / 1000), utcOffset: offset)
    }
}
