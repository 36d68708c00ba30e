import BerthOCI
import FoundationEssentials
import Glibc

/// What `docker network create` sends.
public struct NetworkCreateRequest: Decodable, Sendable {
    public struct IPAMConfig: Codable, Sendable {
        public var Subnet: String?
        public var IPRange: String?
        public var Gateway: String?
        public var AuxiliaryAddresses: [String: String]?
    }
    public struct IPAM: Decodable, Sendable {
        public var Driver: String?
        public var Config: [IPAMConfig]?
        public var Options: [String: String]?
    }
    public var Name: String
    public var Driver: String?
    public var Internal: Bool?
    public var Attachable: Bool?
    public var EnableIPv6: Bool?
    public var IPAM: IPAM?
    public var Options: [String: String]?
    public var Labels: [String: String]?
    /// "local" (or none) here; "swarm" needs a swarm.
    public var Scope: String?
    public var ConfigOnly: Bool?
    public struct ConfigReference: Decodable, Sendable { public var Network: String? }
    public var ConfigFrom: ConfigReference?
    public var Ingress: Bool?
}

/// A refusal with the HTTP meaning the API gives it.
public struct NetworkRequestError: Error, CustomStringConvertible, Sendable {
    /// `unavailable`: 503, what needs a swarm. `notImplemented`: 501, what dockerd has and
    /// Berth has not yet. (A 500 is a NetworkError.)
    public enum Kind: Sendable { case invalid, conflict, forbidden, notFound, unavailable, notImplemented }
    public let kind: Kind
    public let description: String

    /// dockerd's refusal of "none" next to another network, at create and at connect.
    public static let noNetworkWithOthers = NetworkRequestError(
        kind: .invalid, description: "container cannot be connected to multiple networks with one of the networks in private (none) mode")
}

/// The network endpoints of the Engine API: list, inspect, create, remove, prune,
/// connect, disconnect.
extension NetworkService {
    public func view(_ record: NetworkRecord) -> NetworkView {
        var containers: [String: NetworkView.ContainerEntry] = [:]
        for sandbox in sandboxes.values {
            for endpoint in sandbox.endpoints where endpoint.networkID == record.id {
                containers[sandbox.containerID] = .init(
                    Name: sandbox.name, EndpointID: endpoint.id, MacAddress: endpoint.mac,
                    IPv4Address: "\(endpoint.address)/\(record.pool(containing: endpoint.address)?.subnet.prefixLength ?? 32)",
                    IPv6Address: endpoint.address6.map { "\($0)/\(record.pool6?.subnet.prefixLength ?? 128)" } ?? "")
            }
        }
        // A subnet the user gave shows its gateway only if given too, as in dockerd; a
        // default one shows it when the network holds one back.
        let showsGateway = record.subnetIsGiven != true || record.gatewayIsGiven != false
        var config = record.pools.enumerated().map { index, pool in
            let shown = record.linkSettings == nil ? showsGateway
                : pool.gatewayIsGiven == true || (record.subnetIsGiven != true && pool.reservesGateway != false)
            return NetworkView.IPAMConfig(Subnet: pool.subnet.description, IPRange: pool.range?.description,
                                          Gateway: shown ? pool.gateway.description : nil,
                                          AuxiliaryAddresses: pool.auxiliary?.mapValues(\.description))
        }
        if let pool6 = record.pool6 {
            config.append(.init(Subnet: pool6.subnet.description, Gateway: pool6.gatewayIsGiven ? pool6.gateway.description : nil))
        }
        if let configuration = record.configuration {
            // A configuration network shows its configs as given (those with a subnet).
            config = configuration.ipam.compactMap { given in
                guard let subnet = given.Subnet, !subnet.isEmpty else { return nil }
                return .init(Subnet: subnet, IPRange: given.IPRange.flatMap { $0.isEmpty ? nil : $0 },
                             Gateway: given.Gateway.flatMap { $0.isEmpty ? nil : $0 },
                             AuxiliaryAddresses: given.AuxiliaryAddresses.flatMap { $0.isEmpty ? nil : $0 })
            }
        }
        return NetworkView(Name: record.name, Id: record.id, Created: record.created, Driver: record.driver,
                           EnableIPv6: record.pool6 != nil || record.configuration?.enableIPv6 == true,
                           IPAM: .init(Options: record.ipamOptions, Config: config), Internal: record.isInternal, Attachable: record.attachable,
                           ConfigFrom: .init(Network: record.configFrom ?? ""), ConfigOnly: record.configuration != nil,
                           Containers: containers, Options: record.options, Labels: record.labels)
    }

    public func inspect(_ nameOrID: String) throws -> NetworkView { view(try find(nameOrID)) }

    /// `docker network ls` with its filters: name and id (regular expressions), driver, label, type.
    public func list(filters: [String: [String]]) throws -> [NetworkView] {
        for key in filters.keys where !["name", "id", "driver", "label", "type", "scope", "dangling"].contains(key) {
            throw NetworkRequestError(kind: .invalid, description: "invalid filter '\(key)'")
        }
        if let dangling = filters["dangling"] {
            guard dangling.count == 1 else {
                throw NetworkRequestError(kind: .invalid, description: #"got more than one value for filter key "dangling""#)
            }
            guard ["true", "1", "false", "0"].contains(dangling[0]) else {
                throw NetworkRequestError(kind: .invalid, description: #"invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")"#)
            }
        }
        for type in filters["type"] ?? [] where type != "custom" && type != "builtin" {
            throw NetworkRequestError(kind: .invalid, description: "invalid filter: 'type'='\(type)'")
        }
        let records = networks.values.filter { record in
            if let names = filters["name"], !FilterPattern.matches(names, record.name) { return false }
            if let ids = filters["id"], !FilterPattern.matches(ids, record.id) { return false }
            if let drivers = filters["driver"], !drivers.contains(record.driver) { return false }
            if let scopes = filters["scope"], !scopes.contains("local") { return false }
            if let types = filters["type"] {
                let type = record.isPredefined ? "builtin" : "custom"
                if !types.contains(type) { return false }
            }
            for label in filters["label"] ?? [] {
                let parts = label.split(separator: "=", maxSplits: 1).map(String.init)
                guard let value = record.labels[parts[0]] else { return false }
                if parts.count == 2 && value != parts[1] { return false }
            }
            if let dangling = filters["dangling"]?.first {
                let unused = !record.isPredefined && !inUse(record.id)
                if (dangling == "true" || dangling == "1") != unused { return false }
            }
            return true
        }
        return records.sorted { $0.created < $1.created }.map { record in
            var summary = view(record)
            summary.Containers = nil
            return summary
        }
    }

    func inUse(_ networkID: String) -> Bool {
        sandboxes.values.contains { $0.endpoints.contains { $0.networkID == networkID } }
    }

    public func create(_ request: NetworkCreateRequest) throws -> (id: String, warning: String) {
        try SubnetChoiceLock.holding { try createHoldingSubnetLock(request) }
    }

    private func createHoldingSubnetLock(_ request: NetworkCreateRequest) throws -> (id: String, warning: String) {
        let name = request.Name
        // dockerd checks the IPAM configs first, before the name.
        if let refusal = IPAMConfigCheck.refusal(request.IPAM?.Config ?? [], ipv6: request.EnableIPv6 == true) { throw refusal }
        guard !name.allSatisfy(\.isWhitespace) else { throw NetworkRequestError(kind: .invalid, description: "invalid name: name is empty") }
        let driver = (request.Driver ?? "").isEmpty ? "bridge" : request.Driver!
        if networks.values.contains(where: { $0.name == name }) {
            throw NetworkRequestError(kind: .conflict, description: "network with name \(name) already exists")
        }
        if request.Ingress == true && request.ConfigOnly != true {
            // A swarm's routing mesh: a local driver cannot carry it.
            throw NetworkRequestError(kind: .forbidden, description: "Ingress network can only be global scope network")
        }
        if request.ConfigOnly == true && driver != "overlay" {
            // Settings under a name: the driver is not even looked at (dockerd makes it "null").
            return (try createConfigurationNetwork(request), "")
        }
        if request.Scope == "swarm" {
            throw NetworkRequestError(kind: .forbidden, description: "cannot create a swarm scoped network when swarm is not active")
        }
        let configFrom = request.ConfigFrom?.Network ?? ""
        if !configFrom.isEmpty { try Self.checkDependsOnlyOnConfiguration(request) }
        switch driver {
        case "bridge", "macvlan", "ipvlan": break
        case "host", "null":
            throw NetworkRequestError(kind: .forbidden, description: "only one instance of \"\(driver)\" network is allowed")
        case "overlay":
            // A swarm's driver; Berth is, as far as dockerd would tell, a node outside any swarm.
            throw NetworkRequestError(kind: .unavailable, description: #"This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again."#)
        default:
            throw NetworkRequestError(kind: .notFound, description: "plugin \"\(driver)\" not found")
        }
        let request = configFrom.isEmpty ? request : try applyingConfiguration(named: configFrom, to: request)
        let pool6 = try request.EnableIPv6 == true ? ipv6Pool(request.IPAM?.Config ?? []) : nil
        let configs = (request.IPAM?.Config ?? []).filter { !($0.Subnet ?? "").contains(":") }
        let isLinkDriver = driver == "macvlan" || driver == "ipvlan"
        // macvlan and ipvlan take several subnets, as dockerd's drivers do; bridges one.
        guard configs.count <= 1 || isLinkDriver else {
            throw NetworkRequestError(kind: .forbidden, description: "bridge driver doesn't support multiple subnets")
        }
        var inUse = networks.values.flatMap { $0.pools.map(\.subnet) }
        var pools: [AddressPool] = []
        for config in configs {
            if let subnetText = config.Subnet, !subnetText.isEmpty {
                let pool = try givenPool(config, subnet: subnetText, inUse: inUse)
                inUse.append(pool.subnet)
                pools.append(pool)
            } else if !(config.Gateway ?? "").isEmpty || !(config.IPRange ?? "").isEmpty || !(config.AuxiliaryAddresses ?? [:]).isEmpty {
                throw NetworkRequestError(kind: .invalid, description: "ip-range and gateway need a subnet")
            }
        }
        if pools.isEmpty {
            let routes = HostRoutes.read(excludingDevices: Set(networks.values.compactMap(\.device)))
            guard let subnet = PoolSpec.choose(from: options.pools, inUse: inUse, hostRoutes: routes) else {
                throw NetworkRequestError(kind: .forbidden, description: "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network")
            }
            pools = [try AddressPool(subnet: subnet)]
        }
        let id = unusedNetworkID()
        var record = NetworkRecord(id: id, name: name, driver: driver, created: nowTimestamp())
        record.pool = pools[0]
        record.subnetIsGiven = !(configs.first?.Subnet ?? "").isEmpty
        record.gatewayIsGiven = !(configs.first?.Gateway ?? "").isEmpty
        record.pool6 = pool6
        record.isInternal = request.Internal ?? false
        record.attachable = request.Attachable ?? false
        record.labels = request.Labels ?? [:]
        record.options = request.Options ?? [:]
        record.ipamOptions = request.IPAM?.Options
        if !configFrom.isEmpty { record.configFrom = configFrom }
        if isLinkDriver {
            try createLinkDriverNetwork(&record, pools: pools, configs: configs)
            return (id, "")
        }
        for key in [BridgeOptions.enableICC, BridgeOptions.enableIPMasquerade] { _ = try BridgeOptions.flag(record.options, key) }
        _ = try BridgeOptions.mtu(record.options)
        let device = record.options[BridgeOptions.name] ?? "br-" + id.prefix(12)
        guard !device.isEmpty, device.utf8.count < 16 else {
            throw NetworkRequestError(kind: .invalid, description: "invalid bridge name \(device)")
        }
        if let other = networks.values.first(where: { $0.device == device }) {
            throw NetworkRequestError(kind: .forbidden, description:
                "cannot create network \(id) (\(device)): conflicts with network \(other.id) (\(device)): networks have same bridge name")
        }
        record.device = device
        // A bridge that is there already is the user's: it is used as it is and stays after
        // `network rm` (dockerd's "created by user"); kept in the record across restarts.
        if try NetlinkSocket().linkKind(device) != nil { record.deviceIsExternal = true }
        try ensureBridge(record)
        do {
            try save(record)
            try startDNS(record)
            try applyFirewall()
        } catch {
            stopDNS(id)
            deleteBridge(record)
            networks[id] = nil
            try? FileManager.default.removeItem(atPath: networkPath(id))
            throw error
        }
        return (id, "")
    }

    /// An IPv4 subnet the request names, with its gateway, `--ip-range` and `--aux-address`.
    func givenPool(_ config: NetworkCreateRequest.IPAMConfig, subnet subnetText: String, inUse: [IPv4Subnet]) throws -> AddressPool {
        guard let subnet = IPv4Subnet(subnetText) else {
            throw NetworkRequestError.invalidSubnet(subnetText)
        }
        if inUse.contains(where: { $0.overlaps(subnet) }) {
            throw NetworkRequestError(kind: .forbidden, description: "invalid pool request: Pool overlaps with other one on this address space")
        }
        var gateway: IPv4Address?
        if let text = config.Gateway, !text.isEmpty {
            guard let parsed = IPv4Address(text) else { throw NetworkRequestError(kind: .invalid, description: "invalid gateway address \(text)") }
            gateway = parsed
        }
        var range: IPv4Subnet?
        if let text = config.IPRange, !text.isEmpty {
            guard let parsed = IPv4Subnet(text) else { throw NetworkRequestError(kind: .invalid, description: "invalid CIDR address: \(text)") }
            range = parsed
        }
        var pool: AddressPool
        do {
            pool = try AddressPool(subnet: subnet, gateway: gateway, range: range)
        } catch {
            throw NetworkRequestError(kind: .invalid, description: "\(error)")
        }
        // The subnet's first and last addresses are never handed out: dockerd's IPAM holds them.
        if let gateway, pool.subnet.prefixLength < 31, gateway == pool.subnet.network || gateway == pool.subnet.broadcast {
            throw NetworkError("failed to allocate gateway (\(gateway)): Address already in use")
        }
        pool.auxiliary = try Self.auxiliaryAddresses(config.AuxiliaryAddresses, subnet: pool.subnet)
        return pool
    }

    /// `--ipv6`: the one IPv6 subnet of the request (Docker has no default IPv6 pools).
    /// `--aux-address`: each an IPv4 address of the subnet, checked in dockerd's words.
    static func auxiliaryAddresses(_ given: [String: String]?, subnet: IPv4Subnet) throws -> [String: IPv4Address]? {
        guard let given, !given.isEmpty else { return nil }
        var addresses: [String: IPv4Address] = [:]
        for (name, text) in given.sorted(by: { $0.key < $1.key }) {
            guard let address = IPv4Address(text) else {
                // dockerd reads the body into netip.Addr values: Go's parse error, as a bad body.
                throw NetworkRequestError(kind: .invalid, description: "invalid JSON: ParseAddr(\"\(text)\"): unable to parse IP")
            }
            guard subnet.contains(address) else {
                throw NetworkRequestError(kind: .invalid, description: "invalid network config:\ninvalid auxiliary address \(name): parent subnet \(subnet) doesn't contain this address")
            }
            addresses[name] = address
        }
        return addresses
    }

    func ipv6Pool(_ configs: [NetworkCreateRequest.IPAMConfig]) throws -> AddressPool6 {
        let configs = configs.filter { ($0.Subnet ?? "").contains(":") }
        guard configs.count <= 1 else {
            throw NetworkRequestError(kind: .forbidden, description: "bridge driver doesn't support multiple subnets")
        }
        guard let config = configs.first, let text = config.Subnet else {
            // None given: the next free one of the default pools, its gateway shown as dockerd does.
            guard let subnet = IPv6PoolSpec.choose(from: options.pools6, inUse: networks.values.compactMap { $0.pool6?.subnet }) else {
                throw NetworkRequestError(kind: .forbidden, description: "could not find an available, non-overlapping IPv6 address pool among the defaults to assign to the network")
            }
            return try AddressPool6(subnet: subnet, gateway: subnet.network.adding(1))
        }
        guard let subnet = IPv6Subnet(text) else {
            throw NetworkRequestError.invalidSubnet(text)
        }
        if networks.values.contains(where: { $0.pool6?.subnet.overlaps(subnet) == true }) {
            throw NetworkRequestError(kind: .forbidden, description: "invalid pool request: Pool overlaps with other one on this address space")
        }
        var gateway: IPv6Address?
        if let text = config.Gateway, !text.isEmpty {
            guard let parsed = IPv6Address(text) else { throw NetworkRequestError(kind: .invalid, description: "invalid gateway address \(text)") }
            gateway = parsed
        }
        do {
            return try AddressPool6(subnet: subnet, gateway: gateway)
        } catch {
            throw NetworkRequestError(kind: .invalid, description: "\(error)")
        }
    }

    /// A new network's ID, one no network has.
    func unusedNetworkID() -> String {
        var id = randomHex(64)
        while networks[id] != nil { id = randomHex(64) }
        return id
    }

    func stopDNS(_ id: String) {
        dnsServers[id]?.stop()
        dnsServers[id] = nil
        dns.remove(network: id)
    }

    public func remove(_ nameOrID: String) throws {
        let record = try find(nameOrID)
        if record.isPredefined {
            throw NetworkRequestError(kind: .forbidden, description: "\(record.name) is a pre-defined network and cannot be removed")
        }
        try checkConfigurationUnused(record)
        if inUse(record.id) {
            // Each endpoint by its container's name and its endpoint's short ID, as dockerd lists them.
            let endpoints = sandboxes.values.sorted { $0.name < $1.name }.flatMap { sandbox in
                sandbox.endpoints.filter { $0.networkID == record.id }.map { "name:\"\(sandbox.name)\" id:\"\($0.id.prefix(12))\"" }
            }
            throw NetworkRequestError(kind: .forbidden, description:
                "error while removing network: network \(record.name) has active endpoints (\(endpoints.joined(separator: ", ")))")
        }
        stopDNS(record.id)
        networks[record.id] = nil
        try? FileManager.default.removeItem(atPath: networkPath(record.id))
        deleteBridge(record)
        removeOwnParent(record)
        try applyFirewall()
        for (container, list) in attachments where list.contains(where: { $0.networkID == record.id }) {
            refreshView(container)
        }
    }

    /// `docker network prune`: user networks without endpoints; returns their names.
    public func prune(filters: [String: [String]]) throws -> [String] {
        var removed: [String] = []
        for record in networks.values.sorted(by: { $0.created < $1.created })
        where !record.isPredefined && record.configuration == nil && !inUse(record.id) {
            var matches = true
            for label in filters["label"] ?? [] {
                let parts = label.split(separator: "=", maxSplits: 1).map(String.init)
                if record.labels[parts[0]] == nil || (parts.count == 2 && record.labels[parts[0]] != parts[1]) { matches = false }
            }
            for label in filters["label!"] ?? [] {
                let parts = label.split(separator: "=", maxSplits: 1).map(String.init)
                if let value = record.labels[parts[0]], parts.count == 1 || value == parts[1] { matches = false }
            }
            // `until` (Unix seconds): only networks created before it.
            if let limit = filters["until"]?.last.flatMap(Double.init), let created = LogTimestamp(rfc3339: record.created),
               Double(created.seconds) + Double(created.nanoseconds) / 1e9 >= limit {
                matches = false
            }
            guard matches else { continue }
            try remove(record.id)
            removed.append(record.name)
        }
        return removed
    }

    /// `docker network connect`: recorded for the container; added live when it runs.
    /// `mode` is its HostConfig.NetworkMode (host and none are networks it starts on, which
    /// it may leave and join as dockerd allows); `process`, a running container's, whose own
    /// namespace is joined when berthd made none for it (`--network none`).
    public func connect(_ nameOrID: String, containerID: String, running: Bool, aliases: [String], ipv4: String?, ipv6: String? = nil,
                        links: [String] = [], macAddress: String? = nil, driverOpts: [String: String]? = nil,
                        linkLocalIPs: [String] = [], mode: String = "", process: ContainerProcess? = nil,
                        sentEmpty: [String] = []) throws {
        _ = try EndpointRequest.hardwareAddress(macAddress)
        if isDisabledDefaultBridge(nameOrID) { return }
        let record = try find(nameOrID)
        // Kept for a stopped container, as dockerd does; its start fails then.
        if running && record.configuration != nil { throw NetworkRequestError.endpointOnConfigNetwork }
        if record.driver == "host" && mode != "host" { throw NetworkRequestError.hostNetworkJoin }
        // The host's namespace takes no interfaces of a bridge, whatever the container's list says.
        if mode == "host" && record.driver != "host" { throw NetworkRequestError.sharedNamespace }
        let specifiesIP = !(ipv4 ?? "").isEmpty || !(ipv6 ?? "").isEmpty
        if record.isPredefined && (specifiesIP || !aliases.isEmpty) {
            throw NetworkRequestError(kind: .invalid, description: specifiesIP
                ? "user specified IP address is supported on user defined networks only"
                : "network-scoped alias is supported only for containers in user defined networks")
        }
        try EndpointRequest.checkLinkLocal(linkLocalIPs)
        try record.checkRequestedAddresses(ipv4: ipv4, ipv6: ipv6)
        var list = attachments[containerID] ?? defaultAttachments(containerID, mode: mode)
        if list.contains(where: { $0.networkID == record.id }) {
            // As dockerd: a stopped container's settings have it already, nothing to do.
            guard running else { return }
            let name = sandboxes[containerID]?.name ?? String(containerID.prefix(12))
            throw NetworkRequestError(kind: .forbidden, description: "endpoint with name \(name) already exists in network \(record.name)")
        }
        try checkJoinable(record, alongside: list)
        var attachment = Attachment(networkID: record.id, aliases: aliases, ipv4Address: ipv4, ipv6Address: ipv6, links: links,
                                    macAddress: macAddress, driverOpts: driverOpts, linkLocalIPs: linkLocalIPs)
        if !sentEmpty.isEmpty { attachment.sentEmpty = sentEmpty }
        if !running { attachment.beforeStart = true }
        let live = running && (record.driver == "bridge" || record.linkSettings != nil)
        if live, mode == "none", sandboxes[containerID] == nil, let process { try adoptNamespace(of: process, containerID: containerID) }
        if live, var sandbox = sandboxes[containerID] {
            let inside = try NetlinkSocket(namespacePath: sandbox.namespacePath)
            let used = Set(sandbox.endpoints.map(\.interfaceName))
            var number = 0
            while used.contains("eth\(number)") { number += 1 }
            let endpoint = try attach(record, attachment: attachment, namespacePath: sandbox.namespacePath, inside: inside,
                                      interface: "eth\(number)", withRoute: sandbox.endpoints.isEmpty, containerName: sandbox.name)
            sandbox.endpoints.append(endpoint)
            try saveSandbox(sandbox)
        }
        list.append(attachment)
        attachments[containerID] = list
        try saveAttachments(containerID)
        // After the attachment is kept: its links are read from there.
        if live, sandboxes[containerID] != nil {
            refreshDNS(container: containerID)
            refreshResolver(containerID)
        }
        refreshView(containerID)
    }

    /// `bridge` on a daemon without one, which dockerd takes at connect and leaves the
    /// container's network disabled.
    func isDisabledDefaultBridge(_ nameOrID: String) -> Bool {
        nameOrID == "bridge" && defaultBridge == nil && options.defaultBridgeDisabled
    }

    /// `docker network disconnect`; `mode` as for `connect`.
    public func disconnect(_ nameOrID: String, containerID: String, containerName: String, running: Bool = false,
                           mode: String = "") throws {
        let record = try find(nameOrID)
        if running && mode == "host" && record.driver == "host" { throw NetworkRequestError.hostNetworkLeave }
        var list = attachments[containerID] ?? defaultAttachments(containerID, mode: mode)
        guard list.contains(where: { $0.networkID == record.id }) else {
            // dockerd's two wordings: a running container's endpoint, a stopped one's settings.
            throw NetworkError("container \(containerID) is not connected to \(running ? "" : "the ")network \(record.name)")
        }
        if var sandbox = sandboxes[containerID], let index = sandbox.endpoints.firstIndex(where: { $0.networkID == record.id }) {
            let endpoint = sandbox.endpoints.remove(at: index)
            let hadPorts = sandbox.portsNetworkID == record.id && !sandbox.ports.isEmpty
            if sandbox.portsNetworkID == record.id {
                for proxy in proxies[containerID] ?? [] { proxy.stop() }
                proxies[containerID] = nil
                sandbox.ports = []
            }
            detach(endpoint)
            if endpoint.hostInterface.isEmpty {
                // A macvlan or ipvlan link: it goes from the namespace, which stays.
                try? NetlinkSocket(namespacePath: sandbox.namespacePath).deleteLink(endpoint.interfaceName)
            }
            try saveSandbox(sandbox)
            refreshDNS(container: containerID)
            refreshResolver(containerID)
            if hadPorts { try applyFirewall() }
        }
        list.removeAll { $0.networkID == record.id }
        attachments[containerID] = list
        try saveAttachments(containerID)
        refreshView(containerID)
    }

    /// A container recorded nothing at create: it is on the network of its mode (host or
    /// none), or on the default bridge.
    func defaultAttachments(_ containerID: String, mode: String = "") -> [Attachment] {
        if mode.hasPrefix("container:") { return [] }
        if mode == "host" || mode == "none" {
            return networks.values.first { $0.name == mode && $0.driver != "bridge" }.map { [Attachment(networkID: $0.id)] } ?? []
        }
        if let sandbox = sandboxes[containerID] {
            return sandbox.endpoints.map { Attachment(networkID: $0.networkID, aliases: $0.aliases) }
        }
        return defaultBridge.map { [Attachment(networkID: $0.id)] } ?? []
    }

    /// A container's address on its first network, for legacy links.
    public func primaryAddress(_ containerID: String) -> String? {
        sandboxes[containerID]?.endpoints.first?.address.description
    }

    /// A running container's addresses (IPv4, then IPv6) on one network, by its name or ID.
    public func addresses(of containerID: String, on nameOrID: String) -> [String] {
        guard let record = try? find(nameOrID),
              let endpoint = sandboxes[containerID]?.endpoints.first(where: { $0.networkID == record.id }) else { return [] }
        return [endpoint.address.description] + (endpoint.address6.map { [$0.description] } ?? [])
    }

    /// A container's address on the default bridge, the one legacy links name.
    public func defaultBridgeAddress(_ containerID: String) -> String? {
        guard let bridge = defaultBridge else { return nil }
        return sandboxes[containerID]?.endpoints.first { $0.networkID == bridge.id }?.address.description
    }

    /// At daemon shutdown: the proxies and DNS servers end with the process; bridges and
    /// rules stay for live containers, and go when there are none (made again at start).
    public func shutdown() {
        reserve.drain()
        defer { Self.teardowns.sync {} }  // the exited containers' veths and namespace files
        guard sandboxes.isEmpty else { return }
        teardown()
    }

    /// Removes every bridge and the rules of this daemon's networks (records stay).
    public func teardown() {
        reserve.drain()
        for id in Array(sandboxes.keys) { releaseSandbox(id) }
        Self.teardowns.sync {}
        for record in networks.values where record.driver == "bridge" {
            stopDNS(record.id)
            deleteBridge(record)
        }
        if options.firewall {
            try? FirewallRuleset.apply(FirewallRuleset(table: options.tableName, bridges: [], forwards: []).deletionScript())
        }
        appliedRuleset = nil
    }
}
