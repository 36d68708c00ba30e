import BerthOCI

/// The options of the local driver (`docker volume create -o`), checked as dockerd checks
/// them: known keys only, a size it cannot enforce, and the options that need each other.
enum VolumeDriverOptions {
    static func validate(_ options: [String: String]) throws {
        guard !options.isEmpty else { return }
        if let key = options.keys.sorted().first(where: { !["type", "o", "device", "size"].contains($0) }) {
            throw BerthError.invalidArgument("invalid option: \"\(key)\"")
        }
        if let size = options["size"] {
            let bytes: Int64
            do { bytes = try GoUnitsSize.binary(size) } catch { throw BerthError.invalidArgument(error.message) }
            // Quotas need xfs project quotas on the data root, which Berth does not set up.
            if bytes > 0 { throw BerthError.invalidArgument("quota size requested but no quota support") }
        }
        // A mount needs its device and type; mount options need both.
        let needs: [(option: String, required: [String])] = [("device", ["type"]), ("type", ["device"]), ("o", ["device", "type"])]
        for (option, required) in needs where options[option] != nil {
            if let missing = required.first(where: { options[$0] == nil }) {
                throw BerthError.invalidArgument("missing required option: \"\(missing)\"")
            }
        }
    }
}
