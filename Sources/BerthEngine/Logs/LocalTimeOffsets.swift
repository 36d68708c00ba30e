import Glibc

/// The host's offsets from UTC for the years ahead, as the shim's syslog writer takes them
/// (UTCOffsets in BerthShimCore): found with the C library's local time, a day at a time, each
/// change narrowed down to its second. dockerd writes syslog times in its own local time; so
/// does berthd's shim, without loading the time zone code itself.
enum LocalTimeOffsets {
    static func offset(at seconds: Int) -> Int {
        var time = time_t(seconds)
        var parts = tm()
        localtime_r(&time, &parts)
        return Int(parts.tm_gmtoff)
    }

    /// `OFFSET[,START,OFFSET]...` from `now` for `days` days.
    static func describe(now: Int, days: Int = 3660) -> String {
        var text = String(offset(at: now))
        var last = offset(at: now)
        var previous = now
        for day in 1...days {
            let moment = now + day * 86_400
            let current = offset(at: moment)
            guard current != last else {
                previous = moment
                continue
            }
            // The change is in (previous, moment]: its first second.
            var low = previous, high = moment
            while high - low > 1 {
                let middle = low + (high - low) / 2
                if offset(at: middle) == last { low = middle } else { high = middle }
            }
            text += ",\(high),\(current)"
            last = current
            previous = moment
        }
        return text
    }
}
