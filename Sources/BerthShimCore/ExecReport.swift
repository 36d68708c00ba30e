/// The records an exec's helper and process write on the report pipe (see
/// berth_exec_spawn): `pid N` and `error MESSAGE`, each ending in a NUL byte.
public enum ExecReport {
    /// The complete records in `bytes` (a record still being written is left out).
    public static func records(in bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var records: [ArraySlice<UInt8>] = []
        var start = 0
        for index in bytes.indices where bytes[index] == 0 {
            records.append(bytes[start..<index])
            start = index + 1
        }
        return records
    }

    /// The pid of a `pid N` record.
    public static func pid(in record: ArraySlice<UInt8>) -> Int32? {
        guard let digits = field(record, after: "pid "), !digits.isEmpty, digits.count <= 10 else { return nil }
        var value: Int64 = 0
        for byte in digits {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            value = value * 10 + Int64(byte - 0x30)
        }
        return value > 0 && value <= Int64(Int32.max) ? Int32(value) : nil
    }

    /// The message of an `error MESSAGE` record.
    public static func error(in record: ArraySlice<UInt8>) -> String? {
        field(record, after: "error ").map { String(decoding: $0, as: UTF8.self) }
    }

    private static func field(_ record: ArraySlice<UInt8>, after prefix: StaticString) -> ArraySlice<UInt8>? {
        let matches = prefix.withUTF8Buffer { record.starts(with: $0) }
        return matches ? record.dropFirst(prefix.utf8CodeUnitCount) : nil
    }
}
