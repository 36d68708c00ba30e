import BerthOCI

/// One `--volumes-from container[:mode]` entry, parsed as dockerd does: the mode is any valid
/// `-v` mode but a propagation or copy mode, and none means rw.
struct VolumesFromSpec: Equatable {
    var container: String
    var mode: String

    /// Whether the inherited mounts are read-only for this container.
    var readOnly: Bool { mode.split(separator: ",").contains("ro") }

    static func parse(_ raw: String) throws -> VolumesFromSpec {
        if raw.isEmpty { throw BerthError.invalidArgument("volumes-from specification cannot be an empty string") }
        let parts = raw.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let mode = parts.count > 1 ? parts[1] : ""
        if mode.isEmpty { return VolumesFromSpec(container: parts[0], mode: "rw") }
        let options = mode.split(separator: ",").map(String.init)
        guard BindSpec.isValidMode(mode),
              !options.contains(where: { BindSpec.propagationModes.contains($0) || BindSpec.copyModes.contains($0) }) else {
            throw BerthError.invalidArgument("invalid mode: \(mode)")
        }
        return VolumesFromSpec(container: parts[0], mode: mode)
    }
}
