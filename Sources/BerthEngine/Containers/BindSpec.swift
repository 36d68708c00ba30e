import BerthOCI

/// One `-v`/`--volume` entry of HostConfig.Binds: `source:destination[:mode]`, where mode is a
/// comma list of rw|ro, z|Z, a propagation mode, nocopy, and a consistency mode. A source that
/// is not an absolute path names a volume; a lone destination is an anonymous volume.
public struct BindSpec: Sendable, Equatable {
    public var source: String
    public var destination: String
    public var readOnly: Bool
    public var propagation: String
    /// The propagation mode the user wrote, if any (`propagation` is then the same).
    public var givenPropagation: String?
    public var mode: String

    /// True when the source names a (possibly anonymous) volume rather than a host path.
    public var isVolume: Bool { !source.hasPrefix("/") }

    static let readWriteModes: Set<String> = ["rw", "ro"]
    static let labelModes: Set<String> = ["z", "Z"]
    static let propagationModes: Set<String> = ["private", "rprivate", "slave", "rslave", "shared", "rshared"]
    static let copyModes: Set<String> = ["nocopy"]
    static let consistencyModes: Set<String> = ["consistent", "cached", "delegated"]

    /// Parses like dockerd's linux mount parser, with its error texts.
    public static func parse(_ raw: String) throws -> BindSpec {
        let invalidSpec = "invalid volume specification: '\(raw)'"
        guard raw.filter({ $0 == ":" }).count <= 2 else { throw BerthError.invalidArgument(invalidSpec) }
        let parts = raw.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard !parts[0].isEmpty else { throw BerthError.invalidArgument(invalidSpec) }
        var source = "", destination = "", mode = ""
        switch parts.count {
        case 1:
            destination = parts[0]
        case 2:
            // "/foo:rw" is a destination with a mode, which a volume cannot have.
            if isValidMode(parts[1]) { throw BerthError.invalidArgument(invalidSpec) }
            source = parts[0]
            destination = parts[1]
        default:
            source = parts[0]
            destination = parts[1]
            mode = parts[2]
        }
        guard isValidMode(mode) else { throw BerthError.invalidArgument("invalid mode: \(mode)") }
        let type = source.hasPrefix("/") ? "bind" : "volume"
        do {
            try MountValidation.validateTarget(destination)
            if type == "bind" { try MountValidation.validateAbsolute(source) }
            // nocopy is a volume option: a bind has no volume to fill.
            if type == "bind" && mode.split(separator: ",").contains("nocopy") {
                throw BerthError.invalidArgument("field VolumeOptions must not be specified")
            }
        } catch let error as BerthError {
            throw BerthError.invalidArgument("\(invalidSpec): invalid mount config for type \"\(type)\": \(error.message)")
        }
        let options = mode.split(separator: ",").map(String.init)
        let given = options.first(where: propagationModes.contains)
        // Only a host path is cleaned: a volume's name is taken as given, so "./rel" is refused
        // as a name rather than becoming the volume "rel".
        return BindSpec(source: type == "bind" ? MountValidation.clean(source) : source,
                        destination: MountValidation.clean(destination),
                        readOnly: options.contains("ro"),
                        propagation: given ?? "rprivate", givenPropagation: given,
                        mode: mode)
    }

    /// At most one of each kind of mode, and nothing unknown.
    static func isValidMode(_ mode: String) -> Bool {
        if mode.isEmpty { return true }
        var counts = [0, 0, 0, 0, 0]
        for option in mode.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            if readWriteModes.contains(option) { counts[0] += 1 }
            else if labelModes.contains(option) { counts[1] += 1 }
            else if propagationModes.contains(option) { counts[2] += 1 }
            else if copyModes.contains(option) { counts[3] += 1 }
            else if consistencyModes.contains(option) { counts[4] += 1 }
            else { return false }
        }
        return counts.allSatisfy { $0 <= 1 }
    }
}

/// Checks on mount destinations and HostConfig.Mounts entries, in dockerd's words.
public enum MountValidation {
    public static func validateTarget(_ target: String) throws {
        if clean(target) == "/" { throw BerthError.invalidArgument("invalid specification: destination can't be '/'") }
        try validateAbsolute(target)
    }

    public static func validateAbsolute(_ path: String) throws {
        guard path.hasPrefix("/") else {
            throw BerthError.invalidArgument("invalid mount path: '\(path)' mount path must be absolute")
        }
    }

    /// One HostConfig.Mounts entry. `exists` answers whether a bind source exists on the host.
    public static func validate(_ mount: ContainerMount, exists: (String) -> Bool) throws {
        let type = mount.Type ?? ""
        func fail(_ reason: String) -> BerthError {
            .invalidArgument("invalid mount config for type \"\(type)\": \(reason)")
        }
        let target = mount.Target ?? ""
        if target.isEmpty { throw fail("field Target must not be empty") }
        do { try validateTarget(target) } catch let error as BerthError { throw fail(error.message) }
        switch type {
        case "bind":
            let source = mount.Source ?? ""
            if source.isEmpty { throw fail("field Source must not be empty") }
            if let propagation = mount.BindOptions?.Propagation, !propagation.isEmpty,
               !BindSpec.propagationModes.contains(propagation) {
                throw fail("invalid propagation mode: \(propagation)")
            }
            if mount.VolumeOptions != nil { throw fail("field VolumeOptions must not be specified") }
            do { try validateAbsolute(source) } catch let error as BerthError { throw fail(error.message) }
            // `bind-create-src`: a missing source is made at start, as for `-v`.
            if !exists(source) && mount.BindOptions?.CreateMountpoint != true {
                throw fail("bind source path does not exist: \(source)")
            }
        case "volume":
            if mount.BindOptions != nil { throw fail("field BindOptions must not be specified") }
            if let subpath = mount.VolumeOptions?.Subpath, !subpath.isEmpty {
                if (mount.Source ?? "").isEmpty { throw fail("must not set Subpath when using anonymous volumes") }
                if !VolumeSubpath.isLocal(subpath) { throw fail("subpath must be a relative path within the volume") }
            }
            if (mount.Source ?? "").isEmpty && mount.ReadOnly == true {
                throw fail("must not set ReadOnly mode when using anonymous volumes")
            }
        case "image":
            if (mount.Source ?? "").isEmpty { throw fail("field Source must not be empty") }
            if let subpath = mount.ImageOptions?.Subpath, !subpath.isEmpty, !VolumeSubpath.isLocal(subpath) {
                throw fail("subpath must be a relative path within the volume")
            }
        case "tmpfs":
            if mount.BindOptions != nil { throw fail("field BindOptions must not be specified") }
            if !(mount.Source ?? "").isEmpty { throw fail("field Source must not be specified") }
        default:
            throw fail("mount type unknown")
        }
    }

    /// path.Clean for absolute paths: no empty, "." or trailing components; ".." resolved.
    public static func clean(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        return path.hasPrefix("/") ? "/" + joined : (joined.isEmpty ? "." : joined)
    }
}
