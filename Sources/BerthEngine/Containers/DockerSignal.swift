import BerthOCI

/// Signal names as Docker takes them (StopSignal, `docker kill -s`): "TERM", "SIGTERM",
/// "15", "RTMIN+3"; case-insensitive names.
public enum DockerSignal {
    static let numbers: [String: Int32] = {
        var table: [String: Int32] = [
            "HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "IOT": 6, "BUS": 7, "FPE": 8,
            "KILL": 9, "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15, "STKFLT": 16,
            "CHLD": 17, "CLD": 17, "CONT": 18, "STOP": 19, "TSTP": 20, "TTIN": 21, "TTOU": 22, "URG": 23,
            "XCPU": 24, "XFSZ": 25, "VTALRM": 26, "PROF": 27, "WINCH": 28, "IO": 29, "POLL": 29, "PWR": 30,
            "SYS": 31, "UNUSED": 31, "RTMIN": 34, "RTMAX": 64,
        ]
        for offset in 1...15 {
            table["RTMIN+\(offset)"] = 34 + Int32(offset)
            table["RTMAX-\(offset)"] = 64 - Int32(offset)
        }
        return table
    }()

    /// The signal's number, as Go's signal.ParseSignal reads it: any number but 0, or a name;
    /// current dockerd's "invalid signal: x" otherwise.
    public static func parse(_ text: String) throws -> Int32 {
        if let number = Int(text) {
            guard number != 0, let signal = Int32(exactly: number) else { throw BerthError.invalidArgument("invalid signal: \(text)") }
            return signal
        }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        guard let number = numbers[name] else { throw BerthError.invalidArgument("invalid signal: \(text)") }
        return number
    }

    /// Whether Linux has the signal (dockerd's ValidSignalForPlatform: 32 and 33 are the C library's).
    public static func existsOnLinux(_ number: Int32) -> Bool { numbers.values.contains(number) }
}
