/// The bridge driver's options (`docker network create -o`), read as dockerd reads them.
public enum BridgeOptions {
    public static let name = "com.docker.network.bridge.name"
    public static let enableICC = "com.docker.network.bridge.enable_icc"
    public static let enableIPMasquerade = "com.docker.network.bridge.enable_ip_masquerade"

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
