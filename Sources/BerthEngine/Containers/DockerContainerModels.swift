import BerthOCI

// The body of POST /containers/create and the `Config` of `docker inspect`, with Docker's
// field names. Every field is optional because clients leave out or send `null` for what they
// do not set; `encode(to:)` writes what dockerd writes (Go's field rules: fields without
// `omitempty` always appear, as `null` when unset).

/// Docker's `container.Config`: the portable part of a container's configuration.
public struct ContainerConfig: Codable, Sendable, Equatable {
    public var Hostname: String?
    public var Domainname: String?
    public var User: String?
    public var AttachStdin: Bool?
    public var AttachStdout: Bool?
    public var AttachStderr: Bool?
    public var ExposedPorts: [String: EmptyObject]?
    public var Tty: Bool?
    public var OpenStdin: Bool?
    public var StdinOnce: Bool?
    public var Env: [String]?
    @StringOrList public var Cmd: [String]?
    public var Healthcheck: HealthConfig?
    public var ArgsEscaped: Bool?
    public var Image: String?
    public var Volumes: [String: EmptyObject]?
    public var WorkingDir: String?
    @StringOrList public var Entrypoint: [String]?
    public var NetworkDisabled: Bool?
    public var MacAddress: String?
    public var OnBuild: [String]?
    public var Labels: [String: String]?
    public var StopSignal: String?
    public var StopTimeout: Int?
    @StringOrList public var Shell: [String]?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case Hostname, Domainname, User, AttachStdin, AttachStdout, AttachStderr, ExposedPorts, Tty, OpenStdin
        case StdinOnce, Env, Cmd, Healthcheck, ArgsEscaped, Image, Volumes, WorkingDir, Entrypoint
        case NetworkDisabled, MacAddress, OnBuild, Labels, StopSignal, StopTimeout, Shell
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Hostname ?? "", forKey: .Hostname)
        try c.encode(Domainname ?? "", forKey: .Domainname)
        try c.encode(User ?? "", forKey: .User)
        try c.encode(AttachStdin ?? false, forKey: .AttachStdin)
        try c.encode(AttachStdout ?? false, forKey: .AttachStdout)
        try c.encode(AttachStderr ?? false, forKey: .AttachStderr)
        try c.encodeUnlessEmpty(ExposedPorts, forKey: .ExposedPorts)
        try c.encode(Tty ?? false, forKey: .Tty)
        try c.encode(OpenStdin ?? false, forKey: .OpenStdin)
        try c.encode(StdinOnce ?? false, forKey: .StdinOnce)
        try c.encodeOrNull(Env, forKey: .Env)
        try c.encodeOrNull(Cmd, forKey: .Cmd)
        try c.encodeIfPresent(Healthcheck, forKey: .Healthcheck)
        try c.encodeUnlessZero(ArgsEscaped, zero: false, forKey: .ArgsEscaped)
        try c.encode(Image ?? "", forKey: .Image)
        try c.encodeOrNull(Volumes, forKey: .Volumes)
        try c.encode(WorkingDir ?? "", forKey: .WorkingDir)
        try c.encodeOrNull(Entrypoint, forKey: .Entrypoint)
        try c.encodeUnlessZero(NetworkDisabled, zero: false, forKey: .NetworkDisabled)
        try c.encodeUnlessZero(MacAddress, zero: "", forKey: .MacAddress)
        try c.encodeOrNull(OnBuild, forKey: .OnBuild)
        try c.encodeOrNull(Labels, forKey: .Labels)
        try c.encodeUnlessZero(StopSignal, zero: "", forKey: .StopSignal)
        try c.encodeIfPresent(StopTimeout, forKey: .StopTimeout)
        try c.encodeUnlessEmpty(Shell, forKey: .Shell)
    }
}

/// `NetworkingConfig` of the create body: the networks to connect at creation, by name.
public struct NetworkingConfig: Codable, Sendable, Equatable {
    public var EndpointsConfig: [String: EndpointSettings?]?
    public init(EndpointsConfig: [String: EndpointSettings?]? = nil) {
        self.EndpointsConfig = EndpointsConfig
    }
}

/// One network's settings in a create body (and, filled in, in `NetworkSettings.Networks`).
public struct EndpointSettings: Codable, Sendable, Equatable {
    public var IPAMConfig: EndpointIPAMConfig?
    public var Links: [String]?
    public var MacAddress: String?
    public var Aliases: [String]?
    public var DriverOpts: [String: String]?
    public var GwPriority: Int?
    public var NetworkID: String?
    public var EndpointID: String?
    public var Gateway: String?
    public var IPAddress: String?
    public var IPPrefixLen: Int?
    public var IPv6Gateway: String?
    public var GlobalIPv6Address: String?
    public var GlobalIPv6PrefixLen: Int?
    public var DNSNames: [String]?
    public init() {}
}

public struct EndpointIPAMConfig: Codable, Sendable, Equatable {
    public var IPv4Address: String?
    public var IPv6Address: String?
    public var LinkLocalIPs: [String]?
    public init(IPv4Address: String? = nil, IPv6Address: String? = nil, LinkLocalIPs: [String]? = nil) {
        self.IPv4Address = IPv4Address
        self.IPv6Address = IPv6Address
        self.LinkLocalIPs = LinkLocalIPs
    }
}

/// The body of POST /containers/create: the ContainerConfig fields at the top level, plus
/// `HostConfig` and `NetworkingConfig`.
public struct ContainerCreateRequest: Codable, Sendable, Equatable {
    public var config: ContainerConfig
    public var hostConfig: HostConfig
    public var networkingConfig: NetworkingConfig?
    /// Set for clients before API 1.44, whose read-only binds were read-only at their
    /// top only (not part of the body).
    public var readOnlyNonRecursiveBinds = false

    public init(config: ContainerConfig = ContainerConfig(), hostConfig: HostConfig = HostConfig(),
                networkingConfig: NetworkingConfig? = nil) {
        self.config = config
        self.hostConfig = hostConfig
        self.networkingConfig = networkingConfig
    }

    enum CodingKeys: String, CodingKey { case HostConfig, NetworkingConfig }

    public init(from decoder: any Decoder) throws {
        config = try ContainerConfig(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hostConfig = try c.decodeIfPresent(BerthEngine.HostConfig.self, forKey: .HostConfig) ?? BerthEngine.HostConfig()
        networkingConfig = try c.decodeIfPresent(BerthEngine.NetworkingConfig.self, forKey: .NetworkingConfig)
    }

    public func encode(to encoder: any Encoder) throws {
        try config.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(hostConfig, forKey: .HostConfig)
        try c.encodeIfPresent(networkingConfig, forKey: .NetworkingConfig)
    }
}
