import BerthOCI
import FoundationEssentials
import Glibc

/// A network as berthd keeps it in `<dataRoot>/network/networks/<id>.json`.
public struct NetworkRecord: Codable, Sendable {
    public var id: String
    public var name: String
    /// "bridge", "host", "null", "macvlan" or "ipvlan".
    public var driver: String
    public var created: String
    /// The bridge device of a bridge network.
    public var device: String?
    public var pool: AddressPool?
    /// `--ipv6`: the network's IPv6 subnet and addresses.
    public var pool6: AddressPool6?
    public var isInternal = false
    public var attachable = false
    public var labels: [String: String] = [:]
    public var options: [String: String] = [:]
    /// IPAM.Options as created, shown back in inspect.
    public var ipamOptions: [String: String]?
    /// The daemon's default `bridge` network (no name resolution, no isolation opt-out).
    public var isDefaultBridge = false
    /// true: the device was there before berthd (daemon.json `bridge`, or a bridge that
    /// existed when `network create` named it), and stays after it.
    public var deviceIsExternal: Bool?
    /// Whether `network create` named the IPv4 subnet and gateway (nil: a record from before
    /// Berth kept this). dockerd shows only what was asked for in IPAM.Config, and takes a
    /// container's own address (`--ip`) only on a network whose subnet the user gave.
    public var subnetIsGiven: Bool?
    public var gatewayIsGiven: Bool?
    /// macvlan and ipvlan: the parent link, and whether berthd made it (the dummy of a
    /// network that named none, or a VLAN subinterface), to remove with the last network on it.
    public var parent: String?
    public var parentIsOwn: Bool?
    /// macvlan and ipvlan: the IPv4 subnets after the first (`pool`), in the order given.
    public var morePools: [AddressPool]?
    /// A configuration network's settings (`--config-only`); nil on every other network.
    public var configuration: NetworkConfiguration?
    /// `--config-from`: the name of the configuration network this one was made from.
    public var configFrom: String?

    /// dockerd's check of a container's own addresses on this network, at create and connect:
    /// only on a subnet the user gave, and inside it (several problems as one list, as its
    /// multierror writes them).
    func checkRequestedAddresses(ipv4: String?, ipv6: String?) throws {
        let unconfigured = "user specified IP address is supported only when connecting to networks with user configured subnets"
        var problems: [String] = []
        if let text = ipv4, !text.isEmpty, pool != nil, subnetIsGiven != nil {
            if subnetIsGiven != true {
                problems.append(unconfigured)
            } else if let address = IPv4Address(text), !pools.contains(where: { $0.subnet.contains(address) }) {
                problems.append("no configured subnet contains IP address \(text)")
            }
        }
        if let text = ipv6, !text.isEmpty, driver == "bridge" || linkSettings != nil {
            // An IPv6 subnet is always the user's: Berth has no default IPv6 pools.
            if let pool6 {
                if let address = IPv6Address(text), !pool6.subnet.contains(address) {
                    problems.append("no configured subnet contains IP address \(text)")
                }
            } else {
                problems.append(unconfigured)
            }
        }
        switch problems.count {
        case 0: return
        case 1: throw NetworkRequestError(kind: .invalid, description: "invalid endpoint settings:\n" + problems[0])
        default: throw NetworkRequestError(kind: .invalid, description: "invalid endpoint settings:\n* " + problems.joined(separator: "\n* "))
        }
    }

    /// `-o com.docker.network.driver.mtu`: the MTU of its bridge and of both ends of its
    /// containers' veths; nil: the daemon's.
    public var mtu: Int? { (try? BridgeOptions.mtu(options)).flatMap { $0 > 0 ? $0 : nil } }

    /// Every IPv4 subnet of the network, the first one first.
    public var pools: [AddressPool] { (pool.map { [$0] } ?? []) + (morePools ?? []) }

    /// The subnet an address of this network is in.
    func pool(containing address: IPv4Address) -> AddressPool? {
        pools.first { $0.subnet.contains(address) }
    }

    /// Applies `change` to the subnet holding `address` (the first one when none does).
    mutating func updatePool(containing address: IPv4Address, _ change: (inout AddressPool) -> Void) {
        if let index = morePools?.firstIndex(where: { $0.subnet.contains(address) }), pool?.subnet.contains(address) != true {
            change(&morePools![index])
        } else if pool != nil {
            change(&pool!)
        }
    }

    /// The macvlan or ipvlan driver's options; nil on other drivers (or options a record
    /// could not have been created with).
    public var linkSettings: LinkDriverSettings? { (try? LinkDriverSettings(driver: driver, options: options)) ?? nil }

    /// Whether a container's first interface on this network gets a default route through
    /// the gateway (the gateway shown in its inspect): not on internal networks, nor on
    /// macvlan and ipvlan networks without a gateway of their own.
    public var routesThroughGateway: Bool {
        guard !isInternal else { return false }
        return linkSettings.map { $0.reservesGateway(internal: false) } ?? true
    }

    /// The predefined `none` (a configuration network has the driver "null" too).
    var isNone: Bool { driver == "null" && configuration == nil }

    public var isPredefined: Bool { ["bridge", "host", "none"].contains(name) && (isDefaultBridge || driver != "bridge") }
}

/// One container's interface on one network.
public struct EndpointRecord: Codable, Sendable {
    public var id: String
    public var networkID: String
    public var address: IPv4Address
    /// On an IPv6 network, its IPv6 address too.
    public var address6: IPv6Address?
    public var mac: String
    /// The veth end in the host's namespace, on the bridge.
    public var hostInterface: String
    /// eth0, eth1, … in the container.
    public var interfaceName: String
    public var aliases: [String]
}

/// A running container's network namespace and what was set up for it, in
/// `<dataRoot>/network/sandboxes/<container id>.json`: what a daemon restart needs to bring
/// back its proxies and names, or to clean it up.
public struct SandboxRecord: Codable, Sendable {
    public var containerID: String
    public var name: String
    public var namespacePath: String
    public var endpoints: [EndpointRecord]
    public var ports: [PublishedPort]
    /// The network whose address the published ports forward to.
    public var portsNetworkID: String?
    /// Legacy links opened through a bridge whose icc is off, as written by berthd before
    /// `linked` (their addresses fixed at this container's start).
    public var links: [FirewallRuleset.Link]?
    /// The containers of its `--link`s with their exposed ports: the firewall openings follow
    /// their addresses as they stop and start again.
    public var linked: [LinkedContainer]?
    /// dockerd's SandboxID (its first 12 digits name the namespace file); nil in records
    /// written before, whose file was named after the container.
    public var sandboxID: String?
    /// The container's hostname, one of its names on user networks as in dockerd; nil in
    /// records written before.
    public var hostname: String?
    /// `--dns`: on a user network, where its own DNS server forwards names it does not know
    /// (the network's resolvers otherwise), as with dockerd.
    public var dns: [String]?
    /// The container's exposed ports ("80/tcp"), so that inspect's NetworkSettings.Ports
    /// still lists the unpublished ones after berthd restarts; nil in records written before.
    public var exposed: [String]? = nil

    /// The names other containers of a user network find it by, in dockerd's order (the
    /// first one answers reverse lookups): its name, aliases, short ID and hostname, once each.
    func dnsNames(aliases: [String]) -> [String] {
        var names: [String] = []
        for candidate in [self.name] + aliases + [String(containerID.prefix(12))] + (hostname.map { [$0] } ?? [])
        where !names.contains(candidate) {
            names.append(candidate)
        }
        return names
    }
}

/// A container named by a `--link`, and the ports ("80/tcp") it exposes.
public struct LinkedContainer: Codable, Sendable, Equatable {
    public var containerID: String
    public var exposed: [String]
}

/// The networks a container asked for (NetworkMode, `--network-alias`, `--ip`,
/// `docker network connect` while stopped), kept until it is removed.
public struct Attachment: Codable, Sendable, Equatable {
    public var networkID: String
    public var aliases: [String]
    public var ipv4Address: String?
    /// `--ip6`, on an IPv6 network.
    public var ipv6Address: String?
    /// `--link target:alias` as the endpoint's Links name them: on a user network, names
    /// only this container resolves (dockerd's endpoint aliases); nil in older records.
    public var links: [String]?
    /// `--mac-address`: the container's interface's hardware address on this network, in
    /// place of the one made from its IPv4 address.
    public var macAddress: String?
    /// The endpoint's DriverOpts, kept and shown as dockerd keeps them.
    public var driverOpts: [String: String]?
    /// `--link-local-ip`: more addresses on the container's interface (IPAMConfig.LinkLocalIPs).
    public var linkLocalIPs: [String]?
    /// The EndpointSettings fields a `network connect` sent as empty objects ("IPAMConfig",
    /// "Aliases", "DriverOpts"): dockerd keeps the request as sent, so inspect shows `{}` and
    /// `[]` there, not null; nil in records of a create.
    public var sentEmpty: [String]?
    /// Connected while the container was stopped, and not started since: dockerd shows the
    /// settings as sent until the start, with no NetworkID.
    public var beforeStart: Bool?

    public init(networkID: String, aliases: [String] = [], ipv4Address: String? = nil, ipv6Address: String? = nil,
                links: [String]? = nil, macAddress: String? = nil, driverOpts: [String: String]? = nil,
                linkLocalIPs: [String]? = nil) {
        self.networkID = networkID
        self.aliases = aliases
        self.ipv4Address = ipv4Address
        self.ipv6Address = ipv6Address
        self.links = links.flatMap { $0.isEmpty ? nil : $0 }
        self.macAddress = macAddress.flatMap { $0.isEmpty ? nil : $0 }
        self.driverOpts = driverOpts.flatMap { $0.isEmpty ? nil : $0 }
        self.linkLocalIPs = linkLocalIPs.flatMap { $0.isEmpty ? nil : $0 }
    }

    init(networkID: String, _ request: EndpointRequest, links: [String]?) {
        self.init(networkID: networkID, aliases: request.aliases, ipv4Address: request.ipv4, ipv6Address: request.ipv6,
                  links: links, macAddress: request.macAddress, driverOpts: request.driverOpts, linkLocalIPs: request.linkLocalIPs)
    }
}

/// What a container asks of one network at create or `network connect` (its
/// EndpointSettings): aliases, addresses, links and hardware address.
public struct EndpointRequest: Sendable, Equatable {
    public var aliases: [String]
    public var ipv4: String?
    public var ipv6: String?
    public var links: [String]
    public var macAddress: String?
    public var driverOpts: [String: String]?
    public var linkLocalIPs: [String]

    public init(aliases: [String] = [], ipv4: String? = nil, ipv6: String? = nil, links: [String] = [], macAddress: String? = nil,
                driverOpts: [String: String]? = nil, linkLocalIPs: [String] = []) {
        self.linkLocalIPs = linkLocalIPs
        self.aliases = aliases
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.links = links
        self.macAddress = macAddress
        self.driverOpts = driverOpts
    }

    /// Nothing but the defaults: a plain default-bridge container needs no record.
    var isPlain: Bool {
        aliases.isEmpty && (ipv4 ?? "").isEmpty && (ipv6 ?? "").isEmpty && (macAddress ?? "").isEmpty && (driverOpts ?? [:]).isEmpty && linkLocalIPs.isEmpty
    }

    /// The hardware address asked for, as Go's net.ParseMAC reads a 48-bit one
    /// ("02:42:ac:11:00:02" or with dashes); refused in dockerd's words.
    static func hardwareAddress(_ text: String?) throws -> [UInt8]? {
        guard let text, !text.isEmpty else { return nil }
        let parts = text.split(separator: text.contains("-") ? "-" : ":", omittingEmptySubsequences: false)
        let bytes = parts.compactMap { $0.count == 2 ? UInt8($0, radix: 16) : nil }
        guard parts.count == 6, bytes.count == 6 else {
            throw NetworkRequestError(kind: .invalid, description: "invalid MAC address \(text)")
        }
        return bytes
    }
}

/// What a container start needs from the network: where its namespace is and what goes
/// into its /etc/hosts and /etc/resolv.conf.
public struct Sandbox: Sendable {
    /// nil: the runtime makes a fresh namespace with loopback only (`--network none`).
    public var namespacePath: String?
    /// The container's addresses, one /etc/hosts line each.
    public var addresses: [String]
    /// The embedded DNS server on a user network; nil on the default bridge.
    public var nameserver: String?
    /// What `host-gateway` in --add-host stands for (see NetworkService.hostGateway).
    public var hostGateway: String?
    /// On the default bridge of a daemon without one (`"bridge": "none"`): the container
    /// runs with loopback only, as dockerd's does with Config.NetworkDisabled.
    public var networkDisabled = false
}

/// A start's network settings request.
public struct SandboxRequest: Sendable {
    public var containerID: String
    public var name: String
    public var hostname: String
    /// HostConfig.NetworkMode: "", "default", "bridge", "none" or a network name or ID.
    public var mode: String
    public var ports: [PortRequest]
    /// "80/tcp" keys of the exposed ports, shown in NetworkSettings.Ports even unpublished.
    public var exposed: [String]
    /// The containers of `--link` and their exposed ports ("80/tcp"): on a bridge whose icc
    /// is off, those ports are opened to this container.
    public var links: [(containerID: String, exposed: [String])]
    /// HostConfig.Dns (see SandboxRecord.dns).
    public var dns: [String]

    public init(containerID: String, name: String, hostname: String, mode: String, ports: [PortRequest], exposed: [String],
                links: [(containerID: String, exposed: [String])] = [], dns: [String] = []) {
        self.dns = dns
        self.containerID = containerID
        self.name = name
        self.hostname = hostname
        self.mode = mode
        self.ports = ports
        self.exposed = exposed
        self.links = links
    }
}

func randomHex(_ count: Int) -> String {
    // A 64-bit draw (one getrandom) per 16 digits: a byte at a time cost a call per byte.
    var generator = SystemRandomNumberGenerator()
    var text = ""
    while text.count < count { text += withUnsafeBytes(of: generator.next() as UInt64) { Array($0) }.hexString }
    return String(text.prefix(count))
}

/// Now, as Go's RFC3339Nano writes it (dockerd's network `Created`).
func nowTimestamp() -> String {
    LogTimestamp.now().rfc3339(fixedFraction: false)
}
