import BerthOCI

/// dockerd's rule for binds of the daemon's root, or of a directory that holds it: a private
/// copy in a container would keep the mounts Berth makes there (other containers' roots, their
/// volumes) alive inside it, and Berth could not take them down. Such a bind follows the host
/// (rslave) unless it asks for rshared; any other mode is refused. Sources are compared as
/// dockerd compares them, as plain string prefixes.
enum DaemonRootBinds {
    /// The propagation a bind is shown with and asks for; `given` is the one the user set.
    static func propagation(source: String, given: String?, daemonRoot: String?) throws -> String {
        let given = given.flatMap { $0.isEmpty ? nil : $0 }
        guard let daemonRoot, source.hasPrefix(daemonRoot) || daemonRoot.hasPrefix(source) else { return given ?? "rprivate" }
        guard let given else { return "rslave" }
        guard given == "rslave" || given == "rshared" else {
            throw BerthError.invalidArgument(
                "invalid mount config: must use either propagation mode \"rslave\" or \"rshared\" when mount source is within "
                    + "the daemon root, daemon root: \"\(daemonRoot)\", bind mount source: \"\(source)\", propagation: \"\(given)\"")
        }
        return given
    }

    /// What the mount is made with: an rslave the user did not ask for, on a host mount that
    /// is neither shared nor a slave (so nothing could follow it), falls back to rprivate, as
    /// dockerd's does.
    static func mountPropagation(source: String, given: String?, daemonRoot: String?) throws -> String {
        let propagation = try propagation(source: source, given: given, daemonRoot: daemonRoot)
        guard propagation == "rslave", (given ?? "").isEmpty else { return propagation }
        return (try? MountPropagationCheck.check(source: source, propagation: propagation)) == nil ? "rprivate" : propagation
    }

    /// At create: every bind of `-v` and `--mount`, as dockerd refuses them.
    static func check(_ hostConfig: HostConfig, daemonRoot: String) throws {
        for raw in hostConfig.Binds ?? [] {
            guard let bind = try? BindSpec.parse(raw), !bind.isVolume else { continue }
            _ = try propagation(source: bind.source, given: bind.givenPropagation, daemonRoot: daemonRoot)
        }
        for mount in hostConfig.Mounts ?? [] where mount.Type == "bind" {
            _ = try propagation(source: MountValidation.clean(mount.Source ?? ""), given: mount.BindOptions?.Propagation,
                                daemonRoot: daemonRoot)
        }
    }
}
