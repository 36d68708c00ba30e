import BerthOCI

/// Names of local volumes, checked as dockerd's local driver checks them.
public enum VolumeName {
    /// `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, with dockerd's texts (the caller adds "create NAME: ").
    public static func validate(_ name: String) throws {
        if name.count == 1 {
            throw BerthError.invalidArgument("volume name is too short, names should be at least two alphanumeric characters")
        }
        func alphanumeric(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
        }
        let bytes = Array(name.utf8)
        let valid = bytes.count >= 2 && alphanumeric(bytes[0])
            && bytes.dropFirst().allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
        guard valid else {
            throw BerthError.invalidArgument("\"\(name)\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path")
        }
    }
}
