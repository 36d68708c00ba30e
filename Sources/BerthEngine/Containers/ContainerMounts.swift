import BerthOCI
import FoundationEssentials
import Glibc

/// The mounts a container gets on top of the defaults: Binds, Mounts, Tmpfs and the
/// generated /etc/hostname, /etc/hosts and /etc/resolv.conf, as dockerd turns them into OCI
/// mounts.
public enum ContainerMounts {
    /// Options every --tmpfs mount starts from; the user's options override them.
    static let tmpfsDefaults = ["noexec", "nosuid", "nodev", "rprivate"]

    /// The user's mounts, sorted parents before children, and the bind sources that do not
    /// exist yet (dockerd creates `-v` sources; the caller does, before the container starts).
    /// `volumes` are the bind mounts of the container's volumes (`volumeSpecMounts`).
    /// `daemonRoot`: the data root, whose binds follow the host (DaemonRootBinds).
    static func userMounts(hostConfig: HostConfig, networkFiles: [(destination: String, source: String)],
                           volumes: [Spec.Mount] = [], daemonRoot: String? = nil,
                           readOnlyNonRecursiveBinds: Bool = false, pathExists: (String) -> Bool) throws -> (mounts: [Spec.Mount], missingSources: [String]) {
        var mounts: [Spec.Mount] = []
        var missing: [String] = []
        var destinations = Set<String>()
        let tmpfs = hostConfig.Tmpfs ?? [:]
        let tmpfsDestinations = Set(tmpfs.keys.map(MountValidation.clean))
        func claim(_ destination: String) throws {
            guard destinations.insert(destination).inserted, tmpfs[destination] == nil else {
                throw BerthError.invalidArgument("Duplicate mount point: \(destination)")
            }
        }

        for raw in hostConfig.Binds ?? [] {
            let bind = try BindSpec.parse(raw)
            try claim(bind.destination)
            if bind.isVolume { continue }  // among `volumes`
            if !pathExists(bind.source) { missing.append(bind.source) }
            let propagation = try DaemonRootBinds.mountPropagation(source: bind.source, given: bind.givenPropagation,
                                                                   daemonRoot: daemonRoot)
            let readOnly = bind.readOnly
                ? try RecursiveReadOnly.option(nonRecursive: readOnlyNonRecursiveBinds, forceRecursive: false) : nil
            mounts.append(bindMount(source: bind.source, destination: bind.destination, readOnlyOption: readOnly,
                                    propagation: propagation, recursive: true))
        }

        for mount in hostConfig.Mounts ?? [] {
            try MountValidation.validate(mount, exists: pathExists)
            let destination = MountValidation.clean(mount.Target ?? "")
            // dockerd lets a `--mount` share its target with a `--tmpfs` (not with another
            // mount), and the tmpfs is what the container gets there.
            guard destinations.insert(destination).inserted else {
                throw BerthError.invalidArgument("Duplicate mount point: \(destination)")
            }
            if tmpfsDestinations.contains(destination) { continue }
            switch mount.Type {
            case "volume":
                continue  // among `volumes`
            case "bind":
                let source = MountValidation.clean(mount.Source ?? "")
                try RecursiveReadOnly.checkOptions(mount)
                // `bind-create-src`: made at start like a `-v` source (validation let it through).
                if mount.BindOptions?.CreateMountpoint == true && !pathExists(source) { missing.append(source) }
                let propagation = try DaemonRootBinds.mountPropagation(source: source, given: mount.BindOptions?.Propagation,
                                                                       daemonRoot: daemonRoot)
                let readOnly = mount.ReadOnly == true
                    ? try RecursiveReadOnly.option(nonRecursive: mount.BindOptions?.ReadOnlyNonRecursive == true || readOnlyNonRecursiveBinds,
                                                   forceRecursive: mount.BindOptions?.ReadOnlyForceRecursive == true)
                    : nil
                mounts.append(bindMount(source: source, destination: destination, readOnlyOption: readOnly,
                                        propagation: propagation, recursive: mount.BindOptions?.NonRecursive != true))
            case "tmpfs":
                let data = tmpfsData(mount.TmpfsOptions, readOnly: mount.ReadOnly == true)
                mounts.append(.init(destination: destination, type: "tmpfs", source: "tmpfs",
                                    options: try mergeTmpfsOptions(tmpfsDefaults + data)))
            case "image":
                continue  // among `volumes` (ImageMounts)
            default:
                throw BerthError.notImplemented("mounts of type \"\(mount.Type ?? "")\" are not implemented yet in this version of Berth")
            }
        }
        // The container's volumes, decided at create (an image VOLUME another mount covers is not among them).
        for volume in volumes where !tmpfsDestinations.contains(volume.destination) {
            destinations.insert(volume.destination)
            mounts.append(volume)
        }

        // The generated files, unless the user mounts something there.
        let writable = hostConfig.ReadonlyRootfs != true
        for file in networkFiles where !destinations.contains(file.destination) && tmpfs[file.destination] == nil {
            mounts.append(bindMount(source: file.source, destination: file.destination, readOnly: !writable,
                                    propagation: "rprivate", recursive: true))
        }

        for destination in tmpfs.keys.sorted() {
            try MountValidation.validateTarget(destination)
            let data = tmpfs[destination].map { $0.split(separator: ",").map(String.init) } ?? []
            mounts.append(.init(destination: MountValidation.clean(destination), type: "tmpfs", source: "tmpfs",
                                options: try mergeTmpfsOptions(tmpfsDefaults + data)))
        }

        // Parents before children, so a mount never hides one made inside it.
        let sorted = mounts.enumerated().sorted { lhs, rhs in
            let left = depth(lhs.element.destination), right = depth(rhs.element.destination)
            return left != right ? left < right : lhs.offset < rhs.offset
        }.map(\.element)
        return (sorted, missing)
    }

    /// dockerd's check at create: a `-v` target taken twice or by a `--tmpfs`, a `--mount`
    /// target taken by a `-v` or another `--mount` (a `--tmpfs` may share one with a `--mount`).
    static func checkDuplicateTargets(_ hostConfig: HostConfig) throws {
        var taken = Set<String>()
        let tmpfs = hostConfig.Tmpfs ?? [:]
        for raw in hostConfig.Binds ?? [] {
            let destination = try BindSpec.parse(raw).destination
            guard taken.insert(destination).inserted, tmpfs[destination] == nil else {
                throw BerthError.invalidArgument("Duplicate mount point: \(destination)")
            }
        }
        for mount in hostConfig.Mounts ?? [] {
            guard taken.insert(MountValidation.clean(mount.Target ?? "")).inserted else {
                throw BerthError.invalidArgument("Duplicate mount point: \(mount.Target ?? "")")
            }
        }
    }

    static func depth(_ path: String) -> Int {
        MountValidation.clean(path).split(separator: "/").count
    }

    /// A bind as dockerd gives it to runc; a read-only one is read-only recursively (`rro`)
    /// when the kernel can (RecursiveReadOnly).
    static func bindMount(source: String, destination: String, readOnly: Bool, propagation: String,
                          recursive: Bool) -> Spec.Mount {
        bindMount(source: source, destination: destination, readOnlyOption: readOnly ? (RecursiveReadOnly.isSupported ? "rro" : "ro") : nil,
                  propagation: propagation, recursive: recursive)
    }

    /// `readOnlyOption`: "ro", "rro", or nil for a writable bind.
    static func bindMount(source: String, destination: String, readOnlyOption: String?, propagation: String,
                          recursive: Bool) -> Spec.Mount {
        var options = [recursive ? "rbind" : "bind"]
        if let readOnlyOption { options.append(readOnlyOption) }
        options.append(propagation)
        return Spec.Mount(destination: destination, type: "bind", source: source, options: options)
    }

    /// `--mount type=tmpfs` options as dockerd writes them: ro, mode (octal), size (with the
    /// largest unit that divides it).
    static func tmpfsData(_ options: ContainerMount.TmpfsOptions?, readOnly: Bool) -> [String] {
        var data: [String] = readOnly ? ["ro"] : []
        if let mode = options?.Mode, mode != 0 { data.append("mode=" + String(mode, radix: 8)) }
        if let size = options?.SizeBytes, size != 0 {
            let unit = [("g", Int64(1) << 30), ("m", Int64(1) << 20), ("k", Int64(1) << 10)].first { size % $0.1 == 0 }
            data.append(unit.map { "size=\(size / $0.1)\($0.0)" } ?? "size=\(size)")
        }
        for option in options?.Options ?? [] where !option.isEmpty {
            data.append(option.joined(separator: "="))
        }
        return data
    }

    /// Mount flags and the kernel flag each sets or clears: a later option for the same flag
    /// replaces an earlier one ("exec" after the default "noexec").
    static let tmpfsFlags: [String: String] = [
        "ro": "rdonly", "rw": "rdonly", "suid": "nosuid", "nosuid": "nosuid", "dev": "nodev", "nodev": "nodev",
        "exec": "noexec", "noexec": "noexec", "sync": "sync", "async": "sync", "dirsync": "dirsync",
        "remount": "remount", "mand": "mand", "nomand": "mand", "atime": "noatime", "noatime": "noatime",
        "diratime": "nodiratime", "nodiratime": "nodiratime", "relatime": "relatime", "norelatime": "relatime",
        "strictatime": "strictatime", "nostrictatime": "strictatime",
        "bind": "propagation", "rbind": "propagation", "unbindable": "propagation", "runbindable": "propagation",
        "private": "propagation", "rprivate": "propagation", "shared": "propagation", "rshared": "propagation",
        "slave": "propagation", "rslave": "propagation",
    ]
    static let tmpfsDataKeys: Set<String> = ["", "size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol"]

    /// dockerd's MergeTmpfsOptions: the last option for each flag or data key wins, in the
    /// order the winners were given. Unknown options fail with dockerd's text.
    static func mergeTmpfsOptions(_ options: [String]) throws -> [String] {
        var seenFlags = Set<String>(), seenKeys = Set<String>()
        var merged: [String] = []
        for option in options.reversed() where option != "defaults" {
            if let flag = tmpfsFlags[option] {
                if seenFlags.insert(flag).inserted { merged.insert(option, at: 0) }
                continue
            }
            let parts = option.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, tmpfsDataKeys.contains(parts[0]) else {
                let quoted = parts.map { "\"\($0)\"" }.joined(separator: " ")
                throw BerthError.invalidArgument("invalid tmpfs option [\(quoted)]")
            }
            if seenKeys.insert(parts[0]).inserted { merged.insert(option, at: 0) }
        }
        return merged
    }
}
