import BerthOCI
/// `GET /networks` and `GET /networks/{id}` bodies (the API's Network object).
public struct NetworkView: Encodable, Sendable {
    public struct IPAMConfig: Encodable, Sendable {
        public var Subnet: String
        public var IPRange: String?
        public var Gateway: String?
        public var AuxiliaryAddresses: [String: String]?
    }
    public struct IPAM: Encodable, Sendable {
        public var Driver = "default"
        public var Options: [String: String]? = nil
        public var Config: [IPAMConfig]

        enum CodingKeys: String, CodingKey { case Driver, Options, Config }

        /// Options is null when there are none, as dockerd writes it (not left out).
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(Driver, forKey: .Driver)
            try c.encode(Options, forKey: .Options)
            try c.encode(Config, forKey: .Config)
        }
    }
    public struct ContainerEntry: Encodable, Sendable {
        public var Name: String
        public var EndpointID: String
        public var MacAddress: String
        public var IPv4Address: String
        public var IPv6Address = ""

        public init(Name: String, EndpointID: String, MacAddress: String = "", IPv4Address: String = "", IPv6Address: String = "") {
            self.Name = Name
            self.EndpointID = EndpointID
            self.MacAddress = MacAddress
            self.IPv4Address = IPv4Address
            self.IPv6Address = IPv6Address
        }
    }
    public struct ConfigReference: Encodable, Sendable { public var Network = "" }

    public var Name: String
    public var Id: String
    public var Created: String
    public var Scope = "local"
    public var Driver: String
    public var EnableIPv4 = true
    public var EnableIPv6 = false
    public var IPAM: IPAM
    public var Internal: Bool
    public var Attachable: Bool
    public var Ingress = false
    public var ConfigFrom = ConfigReference()
    public var ConfigOnly = false
    /// Inspect's only: a list's entries (the API's network.Summary) have none.
    public var Containers: [String: ContainerEntry]?
    public var Options: [String: String]
    public var Labels: [String: String]
}

/// One network of a container in `NetworkSettings.Networks` (the API's EndpointSettings).
public struct EndpointView: Encodable, Sendable {
    public struct IPAMConfigView: Encodable, Sendable {
        public var IPv4Address: String?
        public var IPv6Address: String?
        public var LinkLocalIPs: [String]?
    }
    public var IPAMConfig: IPAMConfigView?
    public var Links: [String]?
    public var Aliases: [String]?
    public var MacAddress = ""
    public var DriverOpts: [String: String]?
    public var GwPriority = 0
    public var NetworkID: String
    public var EndpointID = ""
    public var Gateway = ""
    public var IPAddress = ""
    public var IPPrefixLen = 0
    public var IPv6Gateway = ""
    public var GlobalIPv6Address = ""
    public var GlobalIPv6PrefixLen = 0
    public var DNSNames: [String]?

    enum CodingKeys: String, CodingKey {
        case IPAMConfig, Links, Aliases, MacAddress, DriverOpts, GwPriority, NetworkID, EndpointID, Gateway, IPAddress
        case IPPrefixLen, IPv6Gateway, GlobalIPv6Address, GlobalIPv6PrefixLen, DNSNames
    }

    /// The optional lists and maps are written as null when unset, as Go writes nil ones, so
    /// that `--format` templates naming them print `<nil>` as they do against dockerd.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(IPAMConfig, forKey: .IPAMConfig)
        try c.encode(Links, forKey: .Links)
        try c.encode(Aliases, forKey: .Aliases)
        try c.encode(MacAddress, forKey: .MacAddress)
        try c.encode(DriverOpts, forKey: .DriverOpts)
        try c.encode(GwPriority, forKey: .GwPriority)
        try c.encode(NetworkID, forKey: .NetworkID)
        try c.encode(EndpointID, forKey: .EndpointID)
        try c.encode(Gateway, forKey: .Gateway)
        try c.encode(IPAddress, forKey: .IPAddress)
        try c.encode(IPPrefixLen, forKey: .IPPrefixLen)
        try c.encode(IPv6Gateway, forKey: .IPv6Gateway)
        try c.encode(GlobalIPv6Address, forKey: .GlobalIPv6Address)
        try c.encode(GlobalIPv6PrefixLen, forKey: .GlobalIPv6PrefixLen)
        try c.encode(DNSNames, forKey: .DNSNames)
    }
}

extension EndpointView {
    public init(NetworkID: String) { self.NetworkID = NetworkID }

    /// What dockerd keeps of an endpoint once the container stops: no address, gateway,
    /// endpoint or MAC (its cleanOperationalData).
    var withoutOperationalData: EndpointView {
        var endpoint = EndpointView(NetworkID: NetworkID)
        endpoint.IPAMConfig = IPAMConfig
        endpoint.Links = Links
        endpoint.Aliases = Aliases
        endpoint.DriverOpts = DriverOpts
        endpoint.GwPriority = GwPriority
        endpoint.DNSNames = DNSNames
        return endpoint
    }
}

/// `HostIp`/`HostPort` pairs of NetworkSettings.Ports.
public struct PortBindingView: Encodable, Sendable, Equatable {
    public var HostIp: String
    public var HostPort: String
}

/// A container's network state as inspect and ps show it.
public struct ContainerNetworkView: Sendable {
    public var sandboxKey = ""
    public var sandboxID = ""
    /// Port key ("80/tcp") → bindings; nil for exposed but unpublished ports.
    public var ports: [String: [PortBindingView]?] = [:]
    public var published: [PublishedPort] = []
    /// Network name → endpoint.
    public var networks: [String: EndpointView] = [:]
    /// The default bridge's endpoint, mirrored in NetworkSettings' top-level fields.
    public var bridgeEndpoint: EndpointView?
    /// Whether the networks are the container's own list (kept since its create or a
    /// connect or disconnect), not the one its mode implies: an empty list shows no network.
    public var isRecorded = false
}
