// Docker's `container.HostConfig` (with `Resources` inline), as sent in the create body and
// shown by `docker inspect`.

/// The non-portable part of a container's configuration.
public struct HostConfig: Codable, Sendable, Equatable {
    public var Binds: [String]?
    public var ContainerIDFile: String?
    public var LogConfig: LogConfig?
    public var NetworkMode: String?
    public var PortBindings: [String: [PortBinding]?]?
    public var RestartPolicy: RestartPolicy?
    public var AutoRemove: Bool?
    public var VolumeDriver: String?
    public var VolumesFrom: [String]?
    public var ConsoleSize: [UInt]?
    public var Annotations: [String: String]?
    @StringOrList public var CapAdd: [String]?
    @StringOrList public var CapDrop: [String]?
    public var CgroupnsMode: String?
    public var Dns: [String]?
    public var DnsOptions: [String]?
    public var DnsSearch: [String]?
    public var ExtraHosts: [String]?
    public var GroupAdd: [String]?
    public var IpcMode: String?
    public var Cgroup: String?
    public var Links: [String]?
    public var OomScoreAdj: Int?
    public var PidMode: String?
    public var Privileged: Bool?
    public var PublishAllPorts: Bool?
    public var ReadonlyRootfs: Bool?
    public var SecurityOpt: [String]?
    public var StorageOpt: [String: String]?
    public var Tmpfs: [String: String]?
    public var UTSMode: String?
    public var UsernsMode: String?
    public var ShmSize: Int64?
    public var Sysctls: [String: String]?
    public var Runtime: String?
    public var Isolation: String?
    public var Mounts: [ContainerMount]?
    public var MaskedPaths: [String]?
    public var ReadonlyPaths: [String]?
    public var Init: Bool?

    // Resources (inline in Docker's JSON).
    public var CpuShares: Int64?
    public var Memory: Int64?
    public var NanoCpus: Int64?
    public var CgroupParent: String?
    public var BlkioWeight: UInt16?
    public var BlkioWeightDevice: [WeightDevice]?
    public var BlkioDeviceReadBps: [ThrottleDevice]?
    public var BlkioDeviceWriteBps: [ThrottleDevice]?
    public var BlkioDeviceReadIOps: [ThrottleDevice]?
    public var BlkioDeviceWriteIOps: [ThrottleDevice]?
    public var CpuPeriod: Int64?
    public var CpuQuota: Int64?
    public var CpuRealtimePeriod: Int64?
    public var CpuRealtimeRuntime: Int64?
    public var CpusetCpus: String?
    public var CpusetMems: String?
    public var Devices: [DeviceMapping]?
    public var DeviceCgroupRules: [String]?
    public var DeviceRequests: [DeviceRequest]?
    public var KernelMemory: Int64?
    public var KernelMemoryTCP: Int64?
    public var MemoryReservation: Int64?
    public var MemorySwap: Int64?
    public var MemorySwappiness: Int64?
    public var OomKillDisable: Bool?
    public var PidsLimit: Int64?
    public var Ulimits: [Ulimit]?
    public var CpuCount: Int64?
    public var CpuPercent: Int64?
    public var IOMaximumIOps: UInt64?
    public var IOMaximumBandwidth: UInt64?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case Binds, ContainerIDFile, LogConfig, NetworkMode, PortBindings, RestartPolicy, AutoRemove, VolumeDriver
        case VolumesFrom, ConsoleSize, Annotations, CapAdd, CapDrop, CgroupnsMode, Dns, DnsOptions, DnsSearch
        case ExtraHosts, GroupAdd, IpcMode, Cgroup, Links, OomScoreAdj, PidMode, Privileged, PublishAllPorts
        case ReadonlyRootfs, SecurityOpt, StorageOpt, Tmpfs, UTSMode, UsernsMode, ShmSize, Sysctls, Runtime
        case Isolation, Mounts, MaskedPaths, ReadonlyPaths, Init
        case CpuShares, Memory, NanoCpus, CgroupParent, BlkioWeight, BlkioWeightDevice, BlkioDeviceReadBps
        case BlkioDeviceWriteBps, BlkioDeviceReadIOps, BlkioDeviceWriteIOps, CpuPeriod, CpuQuota
        case CpuRealtimePeriod, CpuRealtimeRuntime, CpusetCpus, CpusetMems, Devices, DeviceCgroupRules
        case DeviceRequests, KernelMemory, KernelMemoryTCP, MemoryReservation, MemorySwap, MemorySwappiness
        case OomKillDisable, PidsLimit, Ulimits, CpuCount, CpuPercent, IOMaximumIOps, IOMaximumBandwidth
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeOrNull(Binds, forKey: .Binds)
        try c.encode(ContainerIDFile ?? "", forKey: .ContainerIDFile)
        try c.encode(LogConfig ?? BerthEngine.LogConfig(), forKey: .LogConfig)
        try c.encode(NetworkMode ?? "", forKey: .NetworkMode)
        try c.encodeOrNull(PortBindings, forKey: .PortBindings)
        try c.encode(RestartPolicy ?? BerthEngine.RestartPolicy(), forKey: .RestartPolicy)
        try c.encode(AutoRemove ?? false, forKey: .AutoRemove)
        try c.encode(VolumeDriver ?? "", forKey: .VolumeDriver)
        try c.encodeOrNull(VolumesFrom, forKey: .VolumesFrom)
        try c.encode(ConsoleSize ?? [0, 0], forKey: .ConsoleSize)
        try c.encodeUnlessEmpty(Annotations, forKey: .Annotations)
        try c.encodeOrNull(CapAdd, forKey: .CapAdd)
        try c.encodeOrNull(CapDrop, forKey: .CapDrop)
        try c.encode(CgroupnsMode ?? "", forKey: .CgroupnsMode)
        try c.encodeOrNull(Dns, forKey: .Dns)
        try c.encodeOrNull(DnsOptions, forKey: .DnsOptions)
        try c.encodeOrNull(DnsSearch, forKey: .DnsSearch)
        try c.encodeOrNull(ExtraHosts, forKey: .ExtraHosts)
        try c.encodeOrNull(GroupAdd, forKey: .GroupAdd)
        try c.encode(IpcMode ?? "", forKey: .IpcMode)
        try c.encode(Cgroup ?? "", forKey: .Cgroup)
        try c.encodeOrNull(Links, forKey: .Links)
        try c.encode(OomScoreAdj ?? 0, forKey: .OomScoreAdj)
        try c.encode(PidMode ?? "", forKey: .PidMode)
        try c.encode(Privileged ?? false, forKey: .Privileged)
        try c.encode(PublishAllPorts ?? false, forKey: .PublishAllPorts)
        try c.encode(ReadonlyRootfs ?? false, forKey: .ReadonlyRootfs)
        try c.encodeOrNull(SecurityOpt, forKey: .SecurityOpt)
        try c.encodeUnlessEmpty(StorageOpt, forKey: .StorageOpt)
        try c.encodeUnlessEmpty(Tmpfs, forKey: .Tmpfs)
        try c.encode(UTSMode ?? "", forKey: .UTSMode)
        try c.encode(UsernsMode ?? "", forKey: .UsernsMode)
        try c.encode(ShmSize ?? 0, forKey: .ShmSize)
        try c.encodeUnlessEmpty(Sysctls, forKey: .Sysctls)
        try c.encodeUnlessZero(Runtime, zero: "", forKey: .Runtime)
        try c.encode(Isolation ?? "", forKey: .Isolation)
        try c.encode(CpuShares ?? 0, forKey: .CpuShares)
        try c.encode(Memory ?? 0, forKey: .Memory)
        try c.encode(NanoCpus ?? 0, forKey: .NanoCpus)
        try c.encode(CgroupParent ?? "", forKey: .CgroupParent)
        try c.encode(BlkioWeight ?? 0, forKey: .BlkioWeight)
        try c.encodeOrNull(BlkioWeightDevice, forKey: .BlkioWeightDevice)
        try c.encodeOrNull(BlkioDeviceReadBps, forKey: .BlkioDeviceReadBps)
        try c.encodeOrNull(BlkioDeviceWriteBps, forKey: .BlkioDeviceWriteBps)
        try c.encodeOrNull(BlkioDeviceReadIOps, forKey: .BlkioDeviceReadIOps)
        try c.encodeOrNull(BlkioDeviceWriteIOps, forKey: .BlkioDeviceWriteIOps)
        try c.encode(CpuPeriod ?? 0, forKey: .CpuPeriod)
        try c.encode(CpuQuota ?? 0, forKey: .CpuQuota)
        try c.encode(CpuRealtimePeriod ?? 0, forKey: .CpuRealtimePeriod)
        try c.encode(CpuRealtimeRuntime ?? 0, forKey: .CpuRealtimeRuntime)
        try c.encode(CpusetCpus ?? "", forKey: .CpusetCpus)
        try c.encode(CpusetMems ?? "", forKey: .CpusetMems)
        try c.encodeOrNull(Devices, forKey: .Devices)
        try c.encodeOrNull(DeviceCgroupRules, forKey: .DeviceCgroupRules)
        try c.encodeOrNull(DeviceRequests, forKey: .DeviceRequests)
        try c.encodeUnlessZero(KernelMemory, zero: 0, forKey: .KernelMemory)
        try c.encodeUnlessZero(KernelMemoryTCP, zero: 0, forKey: .KernelMemoryTCP)
        try c.encode(MemoryReservation ?? 0, forKey: .MemoryReservation)
        try c.encode(MemorySwap ?? 0, forKey: .MemorySwap)
        try c.encodeOrNull(MemorySwappiness, forKey: .MemorySwappiness)
        try c.encodeOrNull(OomKillDisable, forKey: .OomKillDisable)
        try c.encode(PidsLimit, forKey: .PidsLimit)  // a pointer without omitempty in dockerd: null when unset
        try c.encodeOrNull(Ulimits, forKey: .Ulimits)
        try c.encode(CpuCount ?? 0, forKey: .CpuCount)
        try c.encode(CpuPercent ?? 0, forKey: .CpuPercent)
        try c.encode(IOMaximumIOps ?? 0, forKey: .IOMaximumIOps)
        try c.encode(IOMaximumBandwidth ?? 0, forKey: .IOMaximumBandwidth)
        try c.encodeUnlessEmpty(Mounts, forKey: .Mounts)
        try c.encodeOrNull(MaskedPaths, forKey: .MaskedPaths)
        try c.encodeOrNull(ReadonlyPaths, forKey: .ReadonlyPaths)
        try c.encodeIfPresent(Init, forKey: .Init)
    }
}

public struct LogConfig: Codable, Sendable, Equatable {
    public var `Type`: String
    public var Config: [String: String]?
    public init(Type: String = "", Config: [String: String]? = nil) {
        self.`Type` = `Type`
        self.Config = Config
    }
    enum CodingKeys: String, CodingKey { case `Type`, Config }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        `Type` = try c.decodeIfPresent(String.self, forKey: .`Type`) ?? ""
        Config = try c.decodeIfPresent([String: String].self, forKey: .Config)
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(`Type`, forKey: .`Type`)
        try c.encodeOrNull(Config, forKey: .Config)
    }
}

/// `""` and `"no"` both mean never restart.
public struct RestartPolicy: Codable, Sendable, Equatable {
    public var Name: String
    public var MaximumRetryCount: Int
    public init(Name: String = "", MaximumRetryCount: Int = 0) {
        self.Name = Name
        self.MaximumRetryCount = MaximumRetryCount
    }
    enum CodingKeys: String, CodingKey { case Name, MaximumRetryCount }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        Name = try c.decodeIfPresent(String.self, forKey: .Name) ?? ""
        MaximumRetryCount = try c.decodeIfPresent(Int.self, forKey: .MaximumRetryCount) ?? 0
    }
}

public struct PortBinding: Codable, Sendable, Equatable {
    public var HostIp: String?
    public var HostPort: String?
    public init(HostIp: String? = nil, HostPort: String? = nil) {
        self.HostIp = HostIp
        self.HostPort = HostPort
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(HostIp ?? "", forKey: .HostIp)
        try c.encode(HostPort ?? "", forKey: .HostPort)
    }
    enum CodingKeys: String, CodingKey { case HostIp, HostPort }
}

/// `--device /dev/x:/dev/y:rwm`, as the CLI sends it already split.
public struct DeviceMapping: Codable, Sendable, Equatable {
    public var PathOnHost: String
    public var PathInContainer: String
    public var CgroupPermissions: String
    public init(PathOnHost: String, PathInContainer: String = "", CgroupPermissions: String = "rwm") {
        self.PathOnHost = PathOnHost
        self.PathInContainer = PathInContainer
        self.CgroupPermissions = CgroupPermissions
    }
    enum CodingKeys: String, CodingKey { case PathOnHost, PathInContainer, CgroupPermissions }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        PathOnHost = try c.decodeIfPresent(String.self, forKey: .PathOnHost) ?? ""
        PathInContainer = try c.decodeIfPresent(String.self, forKey: .PathInContainer) ?? ""
        CgroupPermissions = try c.decodeIfPresent(String.self, forKey: .CgroupPermissions) ?? ""
    }
}

/// `--gpus`: kept for inspect; Berth has no device drivers.
public struct DeviceRequest: Codable, Sendable, Equatable {
    public var Driver: String?
    public var Count: Int?
    public var DeviceIDs: [String]?
    public var Capabilities: [[String]]?
    public var Options: [String: String]?
    public init() {}
}

public struct Ulimit: Codable, Sendable, Equatable {
    public var Name: String
    public var Soft: Int64
    public var Hard: Int64
    public init(Name: String, Soft: Int64, Hard: Int64) {
        self.Name = Name
        self.Soft = Soft
        self.Hard = Hard
    }
}

public struct WeightDevice: Codable, Sendable, Equatable {
    public var Path: String
    public var Weight: UInt16
    public init(Path: String, Weight: UInt16) {
        self.Path = Path
        self.Weight = Weight
    }
}

public struct ThrottleDevice: Codable, Sendable, Equatable {
    public var Path: String
    public var Rate: UInt64
    public init(Path: String, Rate: UInt64) {
        self.Path = Path
        self.Rate = Rate
    }
}
