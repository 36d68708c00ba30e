import BerthOCI
import BerthRuntime
import FoundationEssentials
import Glibc

/// Everything the OCI spec of one container is made from.
public struct SpecBuildInput {
    public var containerID: String
    /// The request's config merged with the image's (`ContainerConfig.merged(withImage:)`).
    public var config: ContainerConfig
    /// The validated HostConfig, with daemon defaults applied (`withDaemonDefaults`).
    public var hostConfig: HostConfig
    /// The container's root filesystem, already mounted by the caller.
    public var rootfsPath: String
    /// The generated files (`ContainerFiles`), bind-mounted over /etc/hostname, /etc/hosts
    /// and /etc/resolv.conf. The caller also creates /.dockerenv and the working directory
    /// in the rootfs.
    public var hostnamePath: String
    public var hostsPath: String
    public var resolvConfPath: String
    /// The berth-init binary, bound read-only at /sbin/docker-init for `--init`.
    public var initPath: String?
    public var cgroupV2: Bool
    /// linux.cgroupsPath, e.g. "/berth/<id>".
    public var cgroupsPath: String
    public var defaults: DaemonSpecDefaults
    /// The pid of a running container by name or ID, for `container:<x>` namespace modes.
    public var containerPID: (String) throws -> Int32
    /// A network namespace made by the network service, joined instead of a new one.
    public var networkNamespacePath: String?
    /// A host directory bound at /dev/shm instead of a fresh tmpfs (see IPCShm).
    public var shmPath: String?
    /// The bind mounts of the container's volumes (`ContainerService.volumeSpecMounts`).
    public var volumeMounts: [Spec.Mount] = []
    /// Read-only binds (`-v` and `--mount`) at their top only (a container made by a client before API 1.44).
    public var readOnlyNonRecursiveBinds = false
    /// The data root: binds of it follow the host (DaemonRootBinds).
    public var daemonRoot: String?
    /// Whether a host path exists (bind sources).
    public var pathExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }
    /// Whether /proc/sys has this sysctl: Docker's default net sysctls are only set when it does.
    public var hostHasSysctl: (String) -> Bool = { FileManager.default.fileExists(atPath: "/proc/sys/" + $0.replacing(".", with: "/")) }
    /// The host's device nodes, for privileged containers.
    public var hostDevices: () -> [Spec.Device] = { ContainerDevices.hostDevices() }

    public init(containerID: String, config: ContainerConfig, hostConfig: HostConfig, rootfsPath: String,
                hostnamePath: String, hostsPath: String, resolvConfPath: String, initPath: String?,
                cgroupV2: Bool, cgroupsPath: String, defaults: DaemonSpecDefaults,
                containerPID: @escaping (String) throws -> Int32) {
        self.containerID = containerID
        self.config = config
        self.hostConfig = hostConfig
        self.rootfsPath = rootfsPath
        self.hostnamePath = hostnamePath
        self.hostsPath = hostsPath
        self.resolvConfPath = resolvConfPath
        self.initPath = initPath
        self.cgroupV2 = cgroupV2
        self.cgroupsPath = cgroupsPath
        self.defaults = defaults
        self.containerPID = containerPID
    }
}

/// The spec and what the caller must do before starting the container.
public struct BuiltContainerSpec: Sendable, Equatable {
    public var spec: Spec
    /// `-v` sources that do not exist on the host yet; dockerd creates them as directories.
    public var hostDirectoriesToCreate: [String]
    /// The signal `docker stop` sends (Config.StopSignal, default SIGTERM); not part of the spec.
    public var stopSignal: String
}

/// Docker's create request → OCI runtime spec, following what dockerd's spec options do.
public enum SpecBuilder {
    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    public static let initPathInContainer = "/sbin/docker-init"

    public static func build(_ input: SpecBuildInput) throws -> BuiltContainerSpec {
        let config = input.config
        let host = input.hostConfig
        let security = try SecurityOptions(parsing: host.SecurityOpt)
        let privileged = host.Privileged == true
        let utsHost = host.UTSMode == "host"
        let hostname = nonEmpty(config.Hostname) ?? String(input.containerID.prefix(12))

        // The host's domainname is not the container's to set (runc's check and words).
        if utsHost && nonEmpty(config.Domainname) != nil {
            throw BerthError.invalidArgument("unable to set domainname without a private UTS namespace")
        }
        var spec = Spec()
        spec.hostname = utsHost ? nil : hostname
        spec.domainname = utsHost ? nil : nonEmpty(config.Domainname)
        spec.root = .init(path: input.rootfsPath, readonly: host.ReadonlyRootfs == true)
        spec.annotations = host.Annotations.flatMap { $0.isEmpty ? nil : $0 }

        let capabilities = try ContainerCapabilities.effective(add: host.CapAdd, drop: host.CapDrop, privileged: privileged,
                                                                lastCapability: input.defaults.lastCapability)
        let namespaces = try namespaces(host, input: input)
        let privatePID = !(host.PidMode == "host" || (host.PidMode ?? "").hasPrefix("container:"))

        var args = config.commandLine
        guard !args.isEmpty else { throw BerthError.invalidArgument("No command specified") }
        let wantsInit = host.Init ?? input.defaults.initByDefault
        var mounts = defaultMounts(host: host, privileged: privileged, shmPath: input.shmPath)
        if wantsInit && privatePID {
            guard let initPath = input.initPath else {
                throw BerthError.internalError("--init needs berth-init, which this daemon cannot find")
            }
            args = [initPathInContainer, "--"] + args
            mounts.append(.init(destination: initPathInContainer, type: "bind", source: initPath, options: ["bind", "ro"]))
        }

        spec.process = Spec.Process(
            terminal: config.Tty == true,
            consoleSize: consoleSize(host.ConsoleSize, tty: config.Tty == true),
            user: try ContainerUser.resolve(user: config.User, groupAdd: host.GroupAdd, rootfs: input.rootfsPath),
            args: args,
            env: environment(config: config, hostname: hostname),
            cwd: nonEmpty(config.WorkingDir) ?? "/",
            capabilities: .init(bounding: capabilities, effective: capabilities, permitted: capabilities),
            rlimits: try rlimits(host.Ulimits, defaults: input.defaults),
            noNewPrivileges: security.noNewPrivileges,
            oomScoreAdj: host.OomScoreAdj ?? 0)

        let networkFiles = [("/etc/resolv.conf", input.resolvConfPath), ("/etc/hostname", input.hostnamePath),
                            ("/etc/hosts", input.hostsPath)]
        let user = try ContainerMounts.userMounts(hostConfig: host, networkFiles: networkFiles.map { ($0.0, $0.1) },
                                                  volumes: input.volumeMounts, daemonRoot: input.daemonRoot,
                                                  readOnlyNonRecursiveBinds: input.readOnlyNonRecursiveBinds,
                                                  pathExists: input.pathExists)
        for mount in user.mounts where mount.type == "bind" {
            for propagation in mount.options ?? [] { try MountPropagationCheck.check(source: mount.source ?? "", propagation: propagation) }
        }
        let userDestinations = Set(user.mounts.map(\.destination))
        // A user mount replaces the default at the same place; a user /dev replaces all of /dev.
        mounts = mounts.filter { mount in
            !userDestinations.contains(mount.destination)
                && !(userDestinations.contains("/dev") && mount.destination.hasPrefix("/dev/"))
        }
        spec.mounts = mounts + user.mounts

        var devices: [Spec.Device] = []
        var deviceRules: [Spec.DeviceRule]
        if privileged {
            devices = input.hostDevices()
            for mapping in host.Devices ?? [] where mapping.PathOnHost != (nonEmpty(mapping.PathInContainer) ?? mapping.PathOnHost) {
                devices += try ContainerDevices.fromPath(mapping.PathOnHost, containerPath: mapping.PathInContainer,
                                                         permissions: "rwm").devices
            }
            deviceRules = [.init(allow: true, access: "rwm")]
        } else {
            deviceRules = DefaultSpec.deviceRules
            for mapping in host.Devices ?? [] {
                let found = try ContainerDevices.fromPath(mapping.PathOnHost,
                                                          containerPath: nonEmpty(mapping.PathInContainer) ?? mapping.PathOnHost,
                                                          permissions: mapping.CgroupPermissions)
                devices += found.devices
                deviceRules += found.rules
            }
            deviceRules += try (host.DeviceCgroupRules ?? []).map(ContainerDevices.parseCgroupRule)
        }
        // `--gpus`: Berth has no device driver (nvidia, CDI), so a request finds none, as on a
        // dockerd without one, rather than running without the devices.
        if let request = host.DeviceRequests?.first {
            let capabilities = (request.Capabilities ?? []).map { "[" + $0.joined(separator: " ") + "]" }.joined(separator: " ")
            throw BerthError.invalidArgument("could not select device driver \"\(request.Driver ?? "")\" with capabilities: [\(capabilities)]")
        }

        var resources = try resources(host)
        resources.devices = deviceRules

        spec.linux = Spec.Linux(
            sysctl: try sysctls(host, namespaces: namespaces, hostHasSysctl: input.hostHasSysctl),
            resources: resources,
            cgroupsPath: input.cgroupsPath,
            namespaces: namespaces,
            devices: devices.isEmpty ? nil : devices,
            seccomp: try seccomp(security, privileged: privileged, capabilities: capabilities, defaults: input.defaults),
            maskedPaths: privileged ? nil : (host.MaskedPaths ?? DefaultSpec.maskedPaths),
            readonlyPaths: privileged ? nil : (host.ReadonlyPaths ?? DefaultSpec.readonlyPaths))

        return BuiltContainerSpec(spec: spec, hostDirectoriesToCreate: user.missingSources,
                                  stopSignal: nonEmpty(config.StopSignal) ?? "SIGTERM")
    }

    static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }

    // MARK: Process

    /// PATH, HOSTNAME and (with a TTY) TERM first, then the config's Env replacing them by
    /// name or adding to them; a bare `NAME` removes the variable, as in Docker.
    static func environment(config: ContainerConfig, hostname: String) -> [String] {
        var env = ["PATH=" + defaultPath, "HOSTNAME=" + hostname]
        if config.Tty == true { env.append("TERM=xterm") }
        for entry in config.Env ?? [] {
            let name = ContainerConfig.envName(entry)
            if !entry.contains("=") {
                env.removeAll { ContainerConfig.envName($0) == name }
            } else if let index = env.firstIndex(where: { ContainerConfig.envName($0) == name }) {
                env[index] = entry
            } else {
                env.append(entry)
            }
        }
        return env
    }

    static func consoleSize(_ size: [UInt]?, tty: Bool) -> Spec.ConsoleSize? {
        guard tty, let size, size.count == 2, size[0] > 0 || size[1] > 0 else { return nil }
        return .init(height: UInt16(clamping: size[0]), width: UInt16(clamping: size[1]))
    }

    /// The request's ulimits, then the daemon's defaults for the others, then the daemon's
    /// own nofile/nproc; defaults never exceed the daemon's own hard limit.
    static func rlimits(_ requested: [Ulimit]?, defaults: DaemonSpecDefaults) throws -> [Spec.Rlimit]? {
        var limits: [Spec.Rlimit] = []
        var named = Set<String>()
        func add(_ ulimit: Ulimit, ceiling: DaemonSpecDefaults.ProcessLimit?) throws {
            let name = ulimit.Name.lowercased()
            guard Self.ulimitNames.contains(name) else { throw BerthError.invalidArgument("invalid ulimit type: \(ulimit.Name)") }
            guard ulimit.Soft <= ulimit.Hard || ulimit.Hard < 0 else {
                throw BerthError.invalidArgument("ulimit soft limit must be less than or equal to hard limit: \(ulimit.Soft) > \(ulimit.Hard)")
            }
            guard named.insert(name).inserted else { return }
            var soft = UInt64(bitPattern: ulimit.Soft), hard = UInt64(bitPattern: ulimit.Hard)
            if let ceiling { soft = min(soft, ceiling.hard); hard = min(hard, ceiling.hard) }
            limits.append(.init(type: "RLIMIT_" + name.uppercased(), hard: hard, soft: soft))
        }
        func ceiling(_ name: String) -> DaemonSpecDefaults.ProcessLimit? {
            name == "nofile" ? defaults.nofile : name == "nproc" ? defaults.nproc : nil
        }
        for ulimit in requested ?? [] { try add(ulimit, ceiling: nil) }
        for (name, ulimit) in defaults.ulimits.sorted(by: { $0.key < $1.key }) where !named.contains(name.lowercased()) {
            try add(ulimit, ceiling: ceiling(name.lowercased()))
        }
        for (name, own) in [("nofile", defaults.nofile), ("nproc", defaults.nproc)] {
            guard let own, !named.contains(name) else { continue }
            try add(Ulimit(Name: name, Soft: Int64(bitPattern: own.soft), Hard: Int64(bitPattern: own.hard)), ceiling: own)
        }
        return limits.isEmpty ? nil : limits
    }

    static let ulimitNames: Set<String> = [
        "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio",
        "rttime", "sigpending", "stack", "as",
    ]

    // MARK: Mounts

    /// Docker's default mounts with this container's /dev/shm (a tmpfs of its size, or the
    /// shared one at `shmPath`); read-only everywhere but /proc and /dev with a read-only
    /// rootfs; /sys and cgroups writable when privileged.
    static func defaultMounts(host: HostConfig, privileged: Bool, shmPath: String? = nil) -> [Spec.Mount] {
        let shmSize = (host.ShmSize ?? 0) > 0 ? host.ShmSize! : 64 * 1024 * 1024
        var mounts: [Spec.Mount] = []
        for var mount in DefaultSpec.mounts {
            if mount.destination == "/dev/shm" {
                // --ipc none: no /dev/shm at all.
                if host.IpcMode == "none" { continue }
                if let shmPath {
                    mounts.append(Spec.Mount(destination: "/dev/shm", type: "bind", source: shmPath, options: ["rbind", "rprivate"]))
                    continue
                }
                mount.options = (mount.options ?? []).filter { !$0.hasPrefix("size=") } + ["size=\(shmSize)"]
            }
            if privileged && (mount.destination == "/sys" || mount.type == "cgroup") {
                mount.options = mount.options?.filter { $0 != "ro" }
            }
            if host.ReadonlyRootfs == true,
               !["/proc", "/dev/pts", "/dev/shm", "/dev/mqueue", "/dev"].contains(mount.destination),
               !(mount.options ?? []).contains("ro") {
                mount.options = (mount.options ?? []) + ["ro"]
            }
            mounts.append(mount)
        }
        return mounts
    }

    // MARK: Namespaces

    /// What `containerPID` throws for a `container:<name>` mode whose container is not running.
    public struct PeerNotRunning: Error {
        public var name: String
        public var status: String
        public init(name: String, status: String) { self.name = name; self.status = status }
    }

    static func namespaces(_ host: HostConfig, input: SpecBuildInput) throws -> [Spec.Namespace] {
        var namespaces: [Spec.Namespace] = [.init(type: "mount")]
        func joined(_ type: String, _ target: String, _ file: String) throws -> Spec.Namespace {
            do {
                let pid = try input.containerPID(target)
                return .init(type: type, path: "/proc/\(pid)/ns/\(file)")
            } catch let peer as PeerNotRunning {
                // dockerd words the network case its own way.
                guard type == "network" else { throw BerthError.conflict("container \(target) is not running") }
                throw BerthError.conflict("cannot join network namespace of a non running container: container \(peer.name) is \(peer.status)")
            }
        }
        switch NetworkModeKind(host.NetworkMode) {
        case .host: break
        case .container(let target): namespaces.append(try joined("network", target, "net"))
        default: namespaces.append(.init(type: "network", path: input.networkNamespacePath))
        }
        let ipc = host.IpcMode ?? ""
        if ipc.hasPrefix("container:") {
            namespaces.append(try joined("ipc", String(ipc.dropFirst("container:".count)), "ipc"))
        } else if ipc != "host" {
            namespaces.append(.init(type: "ipc"))
        }
        let pid = host.PidMode ?? ""
        if pid.hasPrefix("container:") {
            namespaces.append(try joined("pid", String(pid.dropFirst("container:".count)), "pid"))
        } else if pid != "host" {
            namespaces.append(.init(type: "pid"))
        }
        if host.UTSMode != "host" { namespaces.append(.init(type: "uts")) }
        let cgroupns = host.CgroupnsMode ?? ""
        if cgroupns == "private" || (cgroupns.isEmpty && input.cgroupV2) { namespaces.append(.init(type: "cgroup")) }
        return namespaces
    }

    // MARK: Resources

    static func resources(_ host: HostConfig) throws -> Spec.Resources {
        var memory = Spec.Memory()
        let limit = host.Memory ?? 0
        if limit > 0 { memory.limit = limit }
        if let reservation = host.MemoryReservation, reservation > 0 { memory.reservation = reservation }
        let swap = host.MemorySwap ?? 0
        if swap > 0 { memory.swap = swap }
        else if swap == 0 && limit > 0 { memory.swap = limit * 2 }
        else if swap == -1 && limit > 0 { memory.swap = -1 }
        if let swappiness = host.MemorySwappiness, swappiness >= 0 { memory.swappiness = UInt64(swappiness) }
        if host.OomKillDisable == true { memory.disableOOMKiller = true }

        var cpu = Spec.CPU()
        let shares = host.CpuShares ?? 0
        if shares < 0 { throw BerthError.invalidArgument("shares: invalid argument") }
        if shares > 0 { cpu.shares = UInt64(shares) }
        if let cpus = nonEmpty(host.CpusetCpus) { cpu.cpus = cpus }
        if let mems = nonEmpty(host.CpusetMems) { cpu.mems = mems }
        if let nano = host.NanoCpus, nano > 0 {
            cpu.period = 100_000
            cpu.quota = nano * 100_000 / 1_000_000_000
        }
        if let period = host.CpuPeriod, period != 0 { cpu.period = UInt64(period) }
        if let quota = host.CpuQuota, quota != 0 { cpu.quota = quota }
        if let period = host.CpuRealtimePeriod, period != 0 { cpu.realtimePeriod = UInt64(period) }
        if let runtime = host.CpuRealtimeRuntime, runtime != 0 { cpu.realtimeRuntime = runtime }

        var resources = Spec.Resources()
        if memory != Spec.Memory() { resources.memory = memory }
        if cpu != Spec.CPU() { resources.cpu = cpu }
        // 0 and -1 both mean unlimited in Docker's API; -1 also clears an earlier limit.
        if let pids = host.PidsLimit { resources.pids = .init(limit: pids <= 0 ? -1 : pids) }
        var blockIO = Spec.BlockIO()
        if let weight = host.BlkioWeight, weight > 0 { blockIO.weight = weight }
        try BlockIOLimits.apply(host, to: &blockIO)
        if blockIO != Spec.BlockIO() { resources.blockIO = blockIO }
        return resources
    }

    // MARK: Sysctls

    static let ipcSysctls: Set<String> = [
        "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax",
        "kernel.shmmni", "kernel.shm_rmid_forced",
    ]

    /// Docker's defaults for a private network namespace (ping and low ports without
    /// capabilities; with `none`, no IPv6 at all, loopback's ::1 included, as dockerd's
    /// sandboxes have it), then the request's; only namespaced sysctls pass, with runc's texts.
    static func sysctls(_ host: HostConfig, namespaces: [Spec.Namespace],
                        hostHasSysctl: (String) -> Bool) throws -> [String: String]? {
        var sysctls: [String: String] = [:]
        let mode = NetworkModeKind(host.NetworkMode)
        if mode.isPrivate {
            var defaults = [("net.ipv4.ping_group_range", "0 2147483647"), ("net.ipv4.ip_unprivileged_port_start", "0")]
            // (Not when it left none for networks of berthd's: their namespace is set up already.)
            let ownNamespace = namespaces.first { $0.type == "network" }?.path == nil
            if mode == .none && ownNamespace {
                defaults += [("net.ipv6.conf.all.disable_ipv6", "1"), ("net.ipv6.conf.default.disable_ipv6", "1")]
            }
            for (key, value) in defaults where hostHasSysctl(key) {
                sysctls[key] = value
            }
        }
        let types = Set(namespaces.map(\.type))
        let hostNetwork = !types.contains("network")
        for (key, value) in host.Sysctls ?? [:] {
            let name = dotted(key)
            if ipcSysctls.contains(name) || name.hasPrefix("fs.mqueue.") {
                if !types.contains("ipc") { throw BerthError.invalidArgument("sysctl \"\(name)\" is not allowed in the hosts ipc namespace") }
            } else if name.hasPrefix("net.") {
                if hostNetwork { throw BerthError.invalidArgument("sysctl \"\(name)\" not allowed in host network namespace") }
            } else if types.contains("uts") && name == "kernel.domainname" {
                // namespaced, and set like the domainname field
            } else if types.contains("uts") && name == "kernel.hostname" {
                throw BerthError.invalidArgument("sysctl \"\(name)\" is not allowed as it conflicts with the OCI \"hostname\" field")
            } else if name.hasPrefix("user.") {
                throw BerthError.invalidArgument("setting ucounts without a user namespace not allowed: \(name)")
            } else {
                throw BerthError.invalidArgument("sysctl \"\(name)\" is not in a separate kernel namespace")
            }
            sysctls[key] = value
        }
        return sysctls.isEmpty ? nil : sysctls
    }

    /// "net/ipv4/ip_forward" → "net.ipv4.ip_forward" (runc accepts both spellings).
    static func dotted(_ key: String) -> String {
        guard let first = key.firstIndex(where: { $0 == "." || $0 == "/" }), key[first] == "/" else { return key }
        return String(key.map { $0 == "/" ? "." : $0 == "." ? "/" : $0 })
    }

    // MARK: Seccomp

    /// No filter when unconfined, or privileged without a profile of its own; otherwise the
    /// given profile (`builtin`: the built-in one, whatever the daemon's), the daemon's (none
    /// when it runs unconfined), or the built-in one, resolved for these capabilities.
    static func seccomp(_ security: SecurityOptions, privileged: Bool, capabilities: [String],
                        defaults: DaemonSpecDefaults) throws -> Spec.Seccomp? {
        let own = security.seccompProfile.flatMap { $0.isEmpty ? nil : $0 }
        if security.seccompUnconfined { return nil }
        if privileged && (own == nil || own == "builtin") { return nil }
        let text: String?
        switch own {
        case "builtin": text = nil
        case nil where defaults.seccompUnconfined: return nil
        case nil: text = defaults.seccompProfile
        default: text = own
        }
        do {
            let profile = try text.map(SeccompProfile.init(json:)) ?? SeccompProfile.builtIn()
            return profile.isEmpty ? nil : profile.resolve(capabilities: capabilities)
        } catch {
            throw BerthError.invalidArgument("Decoding seccomp profile failed: \(error)")
        }
    }
}
