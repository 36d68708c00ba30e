import BerthOCI
import FoundationEssentials
import Glibc

/// A create request that passed validation: the HostConfig with what this host cannot do
/// discarded (as dockerd discards it), and the warnings `docker create` prints.
public struct ValidatedCreate: Sendable, Equatable {
    public var hostConfig: HostConfig
    public var warnings: [String]
}

/// dockerd's checks on POST /containers/create, with its error texts (those of dockerd
/// 20.10, the reference daemon, where later versions reworded them).
public enum CreateValidation {
    static let minimumMemory: Int64 = 6 * 1024 * 1024
    static let minimumHealthcheckDuration: Int64 = 1_000_000  // 1ms in nanoseconds

    /// Validates a request (config already merged with the image's or not: the checks do not
    /// depend on it). `pathExists` answers for bind sources on the host.
    public static func validate(config: ContainerConfig, hostConfig: HostConfig, host: HostFacts,
                                pathExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) })
        throws -> ValidatedCreate {
        try validateNetworkMode(config: config, hostConfig: hostConfig)
        try validateRealtime(hostConfig, host: host)
        try validateConfig(config)
        try validateHostConfig(hostConfig, pathExists: pathExists, host: host)
        var hostConfig = hostConfig
        var warnings = try validateResources(&hostConfig, host: host)
        warnings += try validatePlatform(&hostConfig, host: host)
        warnings += try SecurityOptions(parsing: hostConfig.SecurityOpt).warnings
        return ValidatedCreate(hostConfig: hostConfig, warnings: warnings)
    }

    // MARK: Container names

    /// Docker's name rule; returns the name with its leading "/".
    @discardableResult
    public static func validateName(_ name: String) throws -> String {
        let bare = name.hasPrefix("/") ? name.dropFirst() : Substring(name)
        let valid = bare.count >= 2 && bare.first.map(isNameStart) == true && bare.dropFirst().allSatisfy(isNameChar)
        guard valid else {
            throw BerthError.invalidArgument("Invalid container name (\(name)), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
        }
        return "/" + bare
    }

    static func isNameStart(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber)
    }

    static func isNameChar(_ c: Character) -> Bool {
        isNameStart(c) || c == "_" || c == "." || c == "-"
    }

    // MARK: Network mode conflicts (checked by dockerd when it decodes the body)

    static func validateNetworkMode(config: ContainerConfig, hostConfig: HostConfig) throws {
        let mode = NetworkModeKind(hostConfig.NetworkMode)
        if (hostConfig.NetworkMode ?? "").hasPrefix("container"),
           (hostConfig.NetworkMode ?? "").split(separator: ":", omittingEmptySubsequences: false).first == "container" {
            let parts = (hostConfig.NetworkMode ?? "").split(separator: ":", omittingEmptySubsequences: false)
            if parts.count < 2 || parts[1].isEmpty {
                throw BerthError.invalidArgument("Invalid network mode: invalid container format container:<name|id>")
            }
        }
        let isContainer = mode.isContainer
        func conflict(_ text: String) -> BerthError { .invalidArgument(text) }
        if isContainer && !(config.Hostname ?? "").isEmpty {
            throw conflict("conflicting options: hostname and the network mode")
        }
        if isContainer && !(hostConfig.Links ?? []).isEmpty {
            throw conflict("conflicting options: container type network can't be used with links. This would result in undefined behavior")
        }
        if isContainer && !(hostConfig.Dns ?? []).isEmpty { throw conflict("conflicting options: dns and the network mode") }
        if isContainer && !(hostConfig.ExtraHosts ?? []).isEmpty {
            throw conflict("conflicting options: custom host-to-IP mapping and the network mode")
        }
        if (isContainer || mode == .host) && !(config.MacAddress ?? "").isEmpty {
            throw conflict("conflicting options: mac-address and the network mode")
        }
        if isContainer && (!(hostConfig.PortBindings ?? [:]).isEmpty || hostConfig.PublishAllPorts == true) {
            throw conflict("conflicting options: port publishing and the container type network mode")
        }
        if isContainer && !(config.ExposedPorts ?? [:]).isEmpty {
            throw conflict("conflicting options: port exposing and the container type network mode")
        }
        if hostConfig.UTSMode == "host" && !(config.Hostname ?? "").isEmpty {
            throw conflict("conflicting options: hostname and the UTS mode")
        }
        if mode == .host && !(hostConfig.Links ?? []).isEmpty {
            throw conflict("conflicting options: host type networking can't be used with links. This would result in undefined behavior")
        }
    }

    static func validateRealtime(_ hostConfig: HostConfig, host: HostFacts) throws {
        let period = hostConfig.CpuRealtimePeriod ?? 0, runtime = hostConfig.CpuRealtimeRuntime ?? 0
        if (period != 0 || runtime != 0) && !host.cpuRealtime {
            throw BerthError.invalidArgument("Your kernel does not support CPU real-time scheduler")
        }
        if period != 0 && runtime != 0 && runtime > period {
            throw BerthError.invalidArgument("cpu real-time runtime cannot be higher than cpu real-time period")
        }
    }

    // MARK: Config

    static func validateConfig(_ config: ContainerConfig) throws {
        if let dir = config.WorkingDir, !dir.isEmpty, !dir.hasPrefix("/") {
            throw BerthError.invalidArgument("the working directory '\(dir)' is invalid, it needs to be an absolute path")
        }
        if let signal = config.StopSignal, !signal.isEmpty { _ = try DockerSignal.parse(signal) }
        for entry in config.Env ?? [] where entry.hasPrefix("=") || entry.isEmpty {
            throw BerthError.invalidArgument("invalid environment variable: \(entry)")
        }
        if let health = config.Healthcheck {
            for (name, value) in [("Interval", health.Interval), ("Timeout", health.Timeout),
                                  ("StartPeriod", health.StartPeriod), ("StartInterval", health.StartInterval)] {
                if let value, value != 0, value < minimumHealthcheckDuration {
                    throw BerthError.invalidArgument("\(name) in Healthcheck cannot be less than 1ms")
                }
            }
            if let retries = health.Retries, retries < 0 {
                throw BerthError.invalidArgument("Retries in Healthcheck cannot be negative")
            }
        }
    }

    // MARK: HostConfig, platform independent

    static func validateHostConfig(_ hostConfig: HostConfig, pathExists: (String) -> Bool, host: HostFacts) throws {
        let restart = hostConfig.RestartPolicy ?? RestartPolicy()
        if hostConfig.AutoRemove == true && !(restart.Name.isEmpty || restart.Name == "no") {
            throw BerthError.invalidArgument("can't create 'AutoRemove' container with restart policy")
        }
        for mount in hostConfig.Mounts ?? [] {
            try MountValidation.validate(mount, exists: pathExists)
        }
        for extraHost in hostConfig.ExtraHosts ?? [] {
            _ = try ExtraHost.parse(extraHost)
        }
        try validatePortBindings(hostConfig.PortBindings)
        try validateRestartPolicy(restart)
        try ContainerCapabilities.validate(add: hostConfig.CapAdd, drop: hostConfig.CapDrop,
                                           lastCapability: host.lastCapability)
        if let isolation = hostConfig.Isolation, !isolation.isEmpty, isolation != "default" {
            // Current dockerd's request check (20.10: "Invalid isolation: \"x\" - linux only supports 'default'").
            throw BerthError.invalidArgument("invalid isolation (\(isolation)): linux only supports 'default'")
        }
        if hostConfig.Annotations?.keys.contains("") == true {
            throw BerthError.invalidArgument("invalid Annotations: the empty string is not permitted as an annotation key")
        }
    }

    public static func validateRestartPolicy(_ policy: RestartPolicy) throws {
        switch policy.Name {
        case "always", "unless-stopped", "no":
            if policy.MaximumRetryCount != 0 {
                throw BerthError.invalidArgument("maximum retry count cannot be used with restart policy '\(policy.Name)'")
            }
        case "on-failure":
            if policy.MaximumRetryCount < 0 {
                throw BerthError.invalidArgument("maximum retry count cannot be negative")
            }
        case "":
            break
        default:
            throw BerthError.invalidArgument("invalid restart policy '\(policy.Name)'")
        }
    }

    static func validatePortBindings(_ bindings: [String: [PortBinding]?]?) throws {
        for (key, list) in bindings ?? [:] {
            let port = key.split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
            if !port.isEmpty && UInt16(port) == nil {
                throw BerthError.invalidArgument("invalid port specification: \"\(port)\"")
            }
            if UInt16(port) == 0 {
                // Current dockerd (moby 29.2 on) refuses container port 0 at create; v28 took it
                // and published a host port to port 0, which nothing can listen on.
                let proto = key.split(separator: "/", maxSplits: 1).dropFirst().first.map { $0.lowercased() } ?? ""
                throw BerthError.invalidArgument("invalid port specification: \"0/\(proto.isEmpty ? "tcp" : proto)\"")
            }
            for binding in list ?? [] {
                let hostPort = (binding.HostPort ?? "").split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
                if !isPortOrRange(hostPort) {
                    throw BerthError.invalidArgument("invalid port specification: \"\(binding.HostPort ?? "")\"")
                }
            }
        }
    }

    static func isPortOrRange(_ text: String) -> Bool {
        if text.isEmpty { return true }
        let bounds = text.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(bounds.count), let low = UInt16(bounds[0]), let high = UInt16(bounds.last!) else { return false }
        return low <= high
    }

    // MARK: Resources (dockerd's verifyPlatformContainerResources)

    /// Also `docker update`'s checks (`update`: a swap limit alone is fine there, the memory
    /// limit already set counts).
    static func validateResources(_ hc: inout HostConfig, host: HostFacts, update: Bool = false) throws -> [String] {
        var warnings: [String] = []
        func fail(_ text: String) -> BerthError { .invalidArgument(text) }
        if hc.MemorySwappiness == -1 { hc.MemorySwappiness = nil }

        let memory = hc.Memory ?? 0
        if memory != 0 && memory < minimumMemory { throw fail("Minimum memory limit allowed is 6MB") }
        if memory > 0 && !host.memoryLimit {
            warnings.append("Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.")
            hc.Memory = 0
            hc.MemorySwap = -1
        }
        if (hc.Memory ?? 0) > 0 && (hc.MemorySwap ?? 0) != -1 && !host.swapLimit {
            warnings.append("Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.")
            hc.MemorySwap = -1
        }
        let swap = hc.MemorySwap ?? 0
        if (hc.Memory ?? 0) > 0 && swap > 0 && swap < (hc.Memory ?? 0) {
            throw fail("Minimum memoryswap limit should be larger than memory limit, see usage")
        }
        if (hc.Memory ?? 0) == 0 && swap > 0 && !update {
            throw fail("You should always set the Memory limit when using Memoryswap limit, see usage")
        }
        if hc.MemorySwappiness != nil && !host.memorySwappiness {
            warnings.append("Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.")
            hc.MemorySwappiness = nil
        }
        if let swappiness = hc.MemorySwappiness, !(0...100).contains(swappiness) {
            throw fail("Invalid value: \(swappiness), valid memory swappiness range is 0-100")
        }
        if (hc.MemoryReservation ?? 0) > 0 && !host.memoryReservation {
            warnings.append("Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.")
            hc.MemoryReservation = 0
        }
        let reservation = hc.MemoryReservation ?? 0
        if reservation > 0 && reservation < minimumMemory { throw fail("Minimum memory reservation allowed is 6MB") }
        if (hc.Memory ?? 0) > 0 && reservation > 0 && (hc.Memory ?? 0) < reservation {
            throw fail("Minimum memory limit can not be less than memory reservation limit, see usage")
        }
        if (hc.KernelMemory ?? 0) > 0 {
            // Kernel memory limits do not exist on cgroup v2 and are deprecated on v1.
            warnings.append("Specifying a kernel memory limit is deprecated and will be removed in a future release.")
            warnings.append("Your kernel does not support kernel memory limit capabilities or the cgroup is not mounted. Limitation discarded.")
            hc.KernelMemory = 0
        }
        if hc.OomKillDisable != nil && !host.oomKillDisable {
            if hc.OomKillDisable == true {
                warnings.append("Your kernel does not support OomKillDisable. OomKillDisable discarded.")
            }
            hc.OomKillDisable = nil
        }
        if hc.OomKillDisable == true && (hc.Memory ?? 0) == 0 {
            warnings.append("OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.")
        }
        if hc.PidsLimit != nil && !host.pidsLimit {
            if (hc.PidsLimit ?? 0) > 0 {
                warnings.append("Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.")
            }
            hc.PidsLimit = nil
        }

        let nanoCPUs = hc.NanoCpus ?? 0
        if nanoCPUs > 0 && (hc.CpuPeriod ?? 0) > 0 { throw fail("Conflicting options: Nano CPUs and CPU Period cannot both be set") }
        if nanoCPUs > 0 && (hc.CpuQuota ?? 0) > 0 { throw fail("Conflicting options: Nano CPUs and CPU Quota cannot both be set") }
        if nanoCPUs > 0 && !host.cpuCFS {
            throw fail("NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted")
        }
        if nanoCPUs < 0 || nanoCPUs > Int64(host.cpuCount) * 1_000_000_000 {
            throw fail("Range of CPUs is from 0.01 to \(host.cpuCount).00, as there are only \(host.cpuCount) CPUs available")
        }
        if (hc.CpuShares ?? 0) > 0 && !host.cpuShares {
            warnings.append("Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.")
            hc.CpuShares = 0
        }
        if ((hc.CpuPeriod ?? 0) != 0 || (hc.CpuQuota ?? 0) != 0) && !host.cpuCFS {
            warnings.append("Your kernel does not support CPU CFS scheduler. CPU period/quota discarded.")
            hc.CpuPeriod = 0
            hc.CpuQuota = 0
        }
        let period = hc.CpuPeriod ?? 0
        if period != 0 && (period < 1000 || period > 1_000_000) {
            throw fail("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)")
        }
        let quota = hc.CpuQuota ?? 0
        if quota > 0 && quota < 1000 { throw fail("CPU cfs quota can not be less than 1ms (i.e. 1000)") }
        if (hc.CpuPercent ?? 0) > 0 {
            warnings.append("linux does not support CPU percent. Percent discarded.")
            hc.CpuPercent = 0
        }

        if (!(hc.CpusetCpus ?? "").isEmpty || !(hc.CpusetMems ?? "").isEmpty) && !host.cpuset {
            warnings.append("Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.")
            hc.CpusetCpus = ""
            hc.CpusetMems = ""
        }
        try checkAvailable(hc.CpusetCpus ?? "", within: host.onlineCPUs, field: "cpus",
                           unavailable: "Requested CPUs are not available")
        try checkAvailable(hc.CpusetMems ?? "", within: host.onlineMems, field: "mems",
                           unavailable: "Requested memory nodes are not available")

        let weight = hc.BlkioWeight ?? 0
        if weight > 0 && !host.blkioWeight {
            warnings.append("Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.")
            hc.BlkioWeight = 0
        } else if weight > 0 && !(10...1000).contains(weight) {
            throw fail("Range of blkio weight is from 10 to 1000")
        }
        // Where the host cannot apply them, dropped with dockerd's warnings.
        if !(hc.BlkioWeightDevice ?? []).isEmpty && !host.blkioWeightDevice {
            warnings.append("Your kernel does not support Block I/O weight_device or the cgroup is not mounted. Weight-device discarded.")
            hc.BlkioWeightDevice = []
        }
        let throttles: [(field: WritableKeyPath<HostConfig, [ThrottleDevice]?>, supported: Bool, limit: String, discarded: String)] = [
            (\.BlkioDeviceReadBps, host.blkioReadBpsDevice, "BPS Block I/O read limit", "Block I/O BPS read limit"),
            (\.BlkioDeviceWriteBps, host.blkioWriteBpsDevice, "BPS Block I/O write limit", "Block I/O BPS write limit"),
            (\.BlkioDeviceReadIOps, host.blkioReadIOpsDevice, "IOPS Block read limit", "Block I/O IOPS read limit"),
            (\.BlkioDeviceWriteIOps, host.blkioWriteIOpsDevice, "IOPS Block write limit", "Block I/O IOPS write limit"),
        ]
        for throttle in throttles where !throttle.supported && !(hc[keyPath: throttle.field] ?? []).isEmpty {
            warnings.append("Your kernel does not support \(throttle.limit) or the cgroup is not mounted. \(throttle.discarded) discarded.")
            hc[keyPath: throttle.field] = []
        }
        if (hc.IOMaximumBandwidth ?? 0) != 0 || (hc.IOMaximumIOps ?? 0) != 0 {
            throw fail("Invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum IO IOps")
        }
        return warnings
    }

    static func checkAvailable(_ requested: String, within available: String, field: String, unavailable: String) throws {
        guard !requested.isEmpty else { return }
        let wanted: Set<Int>
        do {
            wanted = try NumberList.parse(requested)
        } catch {
            throw BerthError.invalidArgument("Invalid value \(requested) for cpuset \(field): \(error)")
        }
        let online = (try? NumberList.parse(available)) ?? []
        if !wanted.isSubset(of: online) {
            throw BerthError.invalidArgument("\(unavailable) - requested \(requested), available: \(available)")
        }
    }

    // MARK: Namespaces, shm, oom score, tmpfs (dockerd's verifyPlatformContainerSettings)

    static func validatePlatform(_ hc: inout HostConfig, host: HostFacts) throws -> [String] {
        var warnings: [String] = []
        let ipc = hc.IpcMode ?? ""
        let validIPC = ["", "none", "private", "host", "shareable"].contains(ipc) || ipc.hasPrefix("container:")
        if !validIPC { throw BerthError.invalidArgument("invalid IPC mode: \(ipc)") }
        let pid = hc.PidMode ?? ""
        if !(pid.isEmpty || pid == "host" || (pid.hasPrefix("container:") && pid.count > "container:".count)) {
            throw BerthError.invalidArgument("invalid PID mode: \(pid)")
        }
        if (hc.ShmSize ?? 0) < 0 { throw BerthError.invalidArgument("SHM size can not be less than 0") }
        let uts = hc.UTSMode ?? ""
        if !(uts.isEmpty || uts == "host") { throw BerthError.invalidArgument("invalid UTS mode: \(uts)") }
        let score = hc.OomScoreAdj ?? 0
        if score < -1000 || score > 1000 {
            throw BerthError.invalidArgument("Invalid value \(score), range for oom score adj is [-1000, 1000]")
        }
        // Forwarding does not matter to a container on the host's network or on none.
        let mode = NetworkModeKind(hc.NetworkMode)
        if !host.ipv4Forwarding && mode != .host && mode != .none {
            warnings.append("IPv4 forwarding is disabled. Networking will not work.")
        }
        if mode == .host && !(hc.PortBindings ?? [:]).isEmpty {
            warnings.append("Published ports are discarded when using host network mode")
        }
        for destination in (hc.Tmpfs ?? [:]).keys.sorted() {
            try MountValidation.validateTarget(destination)
        }
        let cgroupns = hc.CgroupnsMode ?? ""
        if !["", "private", "host"].contains(cgroupns) {
            throw BerthError.invalidArgument("invalid cgroup namespace mode: \(cgroupns)")
        }
        if cgroupns == "private" && !host.cgroupNamespaces {
            warnings.append("Your kernel does not support cgroup namespaces.  Cgroup namespace setting discarded.")
        }
        return warnings
    }
}

/// Where a container's network namespace comes from (HostConfig.NetworkMode).
public enum NetworkModeKind: Equatable, Sendable {
    case host, none, container(String), bridge, userDefined(String)

    public init(_ mode: String?) {
        let mode = mode ?? ""
        switch mode {
        case "host": self = .host
        case "none": self = .none
        case "", "default", "bridge": self = .bridge
        default:
            if mode.hasPrefix("container:") { self = .container(String(mode.dropFirst("container:".count))) }
            else { self = .userDefined(mode) }
        }
    }

    public var isContainer: Bool {
        if case .container = self { return true }
        return false
    }

    /// A mode in which the container gets a network namespace of its own.
    public var isPrivate: Bool { self != .host && !isContainer }
}
