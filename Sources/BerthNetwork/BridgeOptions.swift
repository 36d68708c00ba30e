/// The bridge driver's options (`docker network create -o`), read as dockerd reads them.
public enum BridgeOptions {
    public static let name = "com.docker.network.bridge.name"
    public static let enableICC = "com.docker.network.bridge.enable_icc"
    public static let enableIPMasquerade = "com.docker.network.bridge.enable_ip_masquerade"
    public static let mtu = "com.docker.network.driver.mtu"

    /// `-o com.docker.network.driver.mtu=N`: nil when absent, read as Go's strconv.Atoi reads
    /// it and refused in dockerd's words (0 means the daemon's MTU).
    public static func mtu(_ options: [String: String]) throws -> Int? {
        guard let value = options[mtu] else { return nil }
        let digits = value.first == "+" || value.first == "-" ? value.dropFirst() : Substring(value)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw NetworkRequestError(kind: .invalid, description:
                "failed to parse \(mtu) value: \(value) (strconv.Atoi: parsing \"\(value)\": invalid syntax)")
        }
        guard let number = Int(value.first == "+" ? String(digits) : value) else {
            throw NetworkRequestError(kind: .invalid, description:
                "failed to parse \(mtu) value: \(value) (strconv.Atoi: parsing \"\(value)\": value out of range)")
        }
        guard number >= 0 else { throw NetworkRequestError(kind: .invalid, description: "invalid MTU number: \(number)") }
        return number
    }

    /// A boolean option, true when absent, in the spellings Go's strconv.ParseBool takes and
    /// with the refusal dockerd gives for others.
    public static func flag(_ options: [String: String], _ key: String) throws -> Bool {
        guard let value = options[key] else { return true }
        switch value {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        default:
            throw NetworkRequestError(kind: .invalid,
                                      description: "failed to parse \(key) value: \(value) (strconv.ParseBool: parsing \"\(value)\": invalid syntax)")
        }
    }
}
