import BerthOCI
import CSystemShims
import FoundationEssentials
import Glibc

/// The daemon's network settings, from daemon.json.
public struct NetworkOptions: Sendable {
    public var dataRoot: String
    public var execRoot: String
    /// The default bridge's device: berthd's own (made and removed by it), or one daemon.json's
    /// `bridge` names, which must exist and is never removed.
    public var bridgeName = "berth0"
    public var bridgeIsExternal = false
    /// daemon.json `"bridge": "none"`: no default bridge network at all.
    public var defaultBridgeDisabled = false
    /// daemon.json `bip`: the default bridge's gateway address and prefix.
    public var bip: IPv4Subnet?
    public var pools = PoolSpec.dockerDefaults
    /// Where `--ipv6` networks without a subnet get theirs (see IPv6PoolSpec); none: refused.
    public var pools6: [IPv6PoolSpec] = []
    /// daemon.json `iptables`: false leaves the firewall alone.
    public var firewall = true
    public var ipForward = true
    /// daemon.json `icc` and `ip-masq`: the default bridge's traffic between its containers
    /// and its NAT to the outside.
    public var icc = true
    public var ipMasquerade = true
    public var mtu = 1500
    /// daemon.json `host-gateway-ip`: what `host-gateway` in --add-host stands for (nil: the
    /// default bridge's gateway).
    public var hostGatewayIP: String?

    public init(dataRoot: String, execRoot: String) {
        self.dataRoot = dataRoot
        self.execRoot = execRoot
    }

    /// One nftables table per default bridge, so two daemons never share rules.
    public var tableName: String { bridgeName == "berth0" ? "berth" : "berth-" + bridgeName }
}

/// Networks and the network side of containers: bridges, veths, addresses, NAT and port
/// rules, userland proxies and the embedded DNS. All state changes go through this actor;
/// what restart needs is kept under `<dataRoot>/network/`.
public actor NetworkService {
    public nonisolated let options: NetworkOptions
    let log: @Sendable (String) -> Void
    var networks: [String: NetworkRecord] = [:]
    var sandboxes: [String: SandboxRecord] = [:]
    var attachments: [String: [Attachment]] = [:]
    /// Container ID → the endpoints it asked for at create whose network did not exist then,
    /// by the name it gave (Sandboxes: attachMissingAtCreate). Kept in memory only.
    var missingAtCreate: [String: [String: EndpointRequest]] = [:]
    var proxies: [String: [PortProxy]] = [:]
    /// The last host port handed out for `-p <port>` without one, per protocol and host IP.
    var lastEphemeralPort: [String: Int] = [:]
    var dnsServers: [String: DNSServer] = [:]
    /// Container ID → its own server at 127.0.0.11 (ContainerResolvers).
    var containerResolvers: [String: DNSServer] = [:]
    let dns = DNSTable()
    var appliedRuleset: String?
    /// What inspect and ps read without waiting on the actor.
    public nonisolated let views = NetworkViewStore()
    /// A namespace with its eth0, made ahead of the next container start.
    let reserve: NamespaceReserve

    /// Makes the next namespace ahead, unless one is ready or under way. Called once a
    /// container's start is over (or failed), not during it: made meanwhile, the namespace
    /// and its veth pair take a core and the kernel's network locks from the runtime's create.
    public nonisolated func refillReserve() {
        reserve.refill()
    }

    var directory: String { options.dataRoot + "/network" }
    func networkPath(_ id: String) -> String { directory + "/networks/" + id + ".json" }
    func sandboxPath(_ id: String) -> String { directory + "/sandboxes/" + id + ".json" }
    func attachmentsPath(_ id: String) -> String { directory + "/attachments/" + id + ".json" }
    var namespaceDirectory: String { options.execRoot + "/netns" }

    public init(options: NetworkOptions, log: @escaping @Sendable (String) -> Void) throws {
        self.options = options
        self.log = log
        reserve = NamespaceReserve(mtu: options.mtu, log: log)
        let fm = FileManager.default
        for sub in ["networks", "sandboxes", "attachments"] {
            try fm.createDirectory(atPath: options.dataRoot + "/network/" + sub, withIntermediateDirectories: true)
        }
        try fm.createDirectory(atPath: options.execRoot + "/netns", withIntermediateDirectories: true)
        func load<T: Decodable>(_ sub: String, _ type: T.Type) -> [String: T] {
            var result: [String: T] = [:]
            let folder = options.dataRoot + "/network/" + sub
            // A write a crash cut short (the record it was replacing, if any, is whole), or a
            // removed record not unlinked yet (releaseSandbox).
            for file in (try? fm.contentsOfDirectory(atPath: folder)) ?? []
            where file.hasSuffix(".json.tmp") || file.hasSuffix(".json.removed") {
                unlink(folder + "/" + file)
            }
            for file in (try? fm.contentsOfDirectory(atPath: folder)) ?? [] where file.hasSuffix(".json") {
                if let data = fm.contents(atPath: folder + "/" + file), let value = try? JSONDecoder().decode(T.self, from: data) {
                    result[String(file.dropLast(5))] = value
                }
            }
            return result
        }
        networks = load("networks", NetworkRecord.self)
        sandboxes = load("sandboxes", SandboxRecord.self)
        attachments = load("attachments", [Attachment].self)
    }

    // MARK: - daemon start

    /// Makes the predefined networks and the bridges, turns on forwarding, and brings back
    /// the proxies and names of the containers that kept running while berthd was down.
    public func start() throws {
        try SubnetChoiceLock.holding {
            try ensurePredefined()
            rebuildAllocations()
            if options.ipForward { enableForwarding() }
            for record in networks.values where record.driver == "bridge" {
                do {
                    try ensureBridge(record)
                    try startDNS(record)
                } catch {
                    log("network \(record.name): \(error)")
                }
            }
            restoreOwnParents()
        }
        for sandbox in sandboxes.values {
            startProxies(for: sandbox)
            refreshResolver(sandbox.containerID)
            refreshDNS(container: sandbox.containerID)
        }
        for id in Set(sandboxes.keys).union(attachments.keys) { refreshView(id) }
        removeStrayNamespaces()
        try applyFirewall()
        if HostForwardPolicy.dropsForwarding() {
            log(HostForwardPolicy.warning + " (add an accept rule for Berth's bridges to that chain, or change its policy)")
        }
        reserve.refill()
    }

    /// After the containers' recovery: sandboxes of containers that are not running go, and
    /// everything of containers that do not exist (a create or a removal cut short by a crash
    /// between the network's records and the container's own).
    public func reconcile(running: Set<String>, known: Set<String>) {
        for id in sandboxes.keys where !running.contains(id) {
            log("releasing the network of container \(id), which is not running")
            releaseSandbox(id)
        }
        for id in attachments.keys where !known.contains(id) {
            log("forgetting the network settings of container \(id), which does not exist")
            forgetContainer(id)
        }
    }

    /// The default bridge as daemon.json has it (or none at all), then host and none.
    func ensurePredefined() throws {
        if let record = defaultBridge, inUse(record.id) {
            // As dockerd: running containers keep the network they started on; changes wait.
            if settingsDiffer(record) { log("containers still use the default bridge: daemon.json's changes to it wait for them to stop") }
        } else if options.defaultBridgeDisabled {
            // `"bridge": "none"`: no default network (a stale one goes).
            if let record = defaultBridge {
                networks[record.id] = nil
                try? FileManager.default.removeItem(atPath: networkPath(record.id))
                deleteBridge(record)
            }
        } else {
            let previous = defaultBridge
            var record = previous ?? NetworkRecord(id: randomHex(64), name: "bridge", driver: "bridge", created: nowTimestamp())
            record.isDefaultBridge = true
            record.device = options.bridgeName
            record.deviceIsExternal = options.bridgeIsExternal ? true : nil
            let pool = try defaultBridgePool()
            if record.pool?.subnet != pool.subnet || record.pool?.gateway != pool.gateway { record.pool = pool }
            record.options = defaultBridgeOptions
            if let previous, previous.device != record.device { deleteBridge(previous) }
            if previous == nil || settingsDiffer(previous!) || previous!.pool != record.pool || previous!.deviceIsExternal != record.deviceIsExternal {
                try save(record)
            }
        }
        for (name, driver) in [("host", "host"), ("none", "null")] where networks.values.first(where: { $0.name == name && $0.driver == driver }) == nil {
            try save(NetworkRecord(id: randomHex(64), name: name, driver: driver, created: nowTimestamp()))
        }
        for (name, driver) in [("host", "host"), ("none", "null")] {
            if let record = networks.values.first(where: { $0.name == name && $0.driver == driver }) { views.setPredefined(name, id: record.id) }
        }
        views.setPredefined("bridge", id: defaultBridge?.id)
    }

    /// What `docker network inspect bridge` shows in Options, from daemon.json.
    var defaultBridgeOptions: [String: String] {
        [
            "com.docker.network.bridge.default_bridge": "true", BridgeOptions.enableICC: "\(options.icc)",
            BridgeOptions.enableIPMasquerade: "\(options.ipMasquerade)",
            "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
            BridgeOptions.name: options.bridgeName, "com.docker.network.driver.mtu": "\(options.mtu)",
        ]
    }

    func settingsDiffer(_ record: NetworkRecord) -> Bool {
        options.defaultBridgeDisabled || record.device != options.bridgeName || record.options != defaultBridgeOptions
            || (options.bip.map { record.pool?.subnet != $0.normalized || record.pool?.gateway != $0.address } ?? false)
    }

    var defaultBridge: NetworkRecord? { networks.values.first { $0.isDefaultBridge } }

    /// The addresses in use are those of the sandboxes on disk: no address is handed out
    /// twice after a restart, and none stays taken by a container that is gone.
    func rebuildAllocations() {
        for id in networks.keys where networks[id]?.pool != nil {
            networks[id]!.pool!.allocated = []
            for index in networks[id]!.morePools?.indices ?? [].indices { networks[id]!.morePools![index].allocated = [] }
        }
        for id in networks.keys where networks[id]?.pool6 != nil { networks[id]!.pool6!.allocated = [] }
        for sandbox in sandboxes.values {
            for endpoint in sandbox.endpoints {
                networks[endpoint.networkID]?.updatePool(containing: endpoint.address) { $0.allocated.append(endpoint.address) }
                if let address6 = endpoint.address6 { networks[endpoint.networkID]?.pool6?.allocated.append(address6) }
            }
        }
    }

    /// As dockerd elects it: bip; else the address the bridge device already has; else the
    /// pool the network had; else 172.17.0.0/16 unless a host route overlaps it, else the
    /// next free pool. A bridge named in daemon.json must exist.
    func defaultBridgePool() throws -> AddressPool {
        let device = options.bridgeName
        let netlink = try NetlinkSocket()
        let index = try netlink.linkIndex(device)
        if options.bridgeIsExternal && index == nil {
            throw NetworkError("Error creating default \"bridge\" network: bridge device with non default name \(device) must be created manually")
        }
        if let bip = options.bip { return try AddressPool(subnet: bip, gateway: bip.address) }
        if let index, let address = try netlink.ipv4Addresses(index: index).first {
            return try AddressPool(subnet: address, gateway: address.address)
        }
        if let record = defaultBridge, record.device == device, let pool = record.pool { return pool }
        let routes = HostRoutes.read(excludingDevices: [device])
        let inUse = networks.values.filter { !$0.isDefaultBridge }.compactMap { $0.pool?.subnet }
        guard let subnet = PoolSpec.choose(from: options.pools, inUse: inUse, hostRoutes: routes) else {
            throw NetworkError("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network")
        }
        return try AddressPool(subnet: subnet)
    }

    func enableForwarding() {
        let path = "/proc/sys/net/ipv4/ip_forward"
        if (try? String(contentsOfFile: path, encoding: .utf8))?.hasPrefix("1") == true { return }
        // As dockerd: forwarding is turned on and left on.
        if (try? "1\n".write(toFile: path, atomically: false, encoding: .utf8)) == nil {
            log("cannot enable IPv4 forwarding")
        }
    }

    func ensureBridge(_ record: NetworkRecord) throws {
        guard let device = record.device, let pool = record.pool else { return }
        let netlink = try NetlinkSocket()
        switch try netlink.linkKind(device) {
        case nil: try netlink.createBridge(device, mtu: nil)
        case "bridge": break
        // Taking over another kind of link would strip its addresses; dockerd refuses too.
        default: throw NetworkError("existing interface \(device) is not a bridge")
        }
        guard let index = try netlink.linkIndex(device) else { throw NetworkError("bridge \(device) vanished") }
        // Set apart from the creation, the kernel keeps it when ports come and go (the bridge
        // looks right before the first one joins). Not fatal: the ports' MTU is what counts.
        if let mtu = record.mtu {
            do { try netlink.perform(.setMTU(index, mtu), what: "set the MTU of \(device)") } catch { log("\(error)") }
        }
        let change = BridgeAddressChange(current: try netlink.ipv4Addresses(index: index), wanted: pool.gatewayAddress)
        if let old = change.remove {
            do {
                try netlink.perform(.removeAddress(old, index: index), what: "remove address \(old.addressDescription)")
            } catch {
                throw NetworkError("failed to remove current ip address from bridge: \(error)")
            }
        }
        if let new = change.add { try netlink.addAddress(new, index: index) }
        if let pool6 = record.pool6 {
            // IPv6 on the bridge (a host whose default has it off), and its gateway address.
            let knob = "/proc/sys/net/ipv6/conf/\(device)/disable_ipv6"
            if (try? String(contentsOfFile: knob, encoding: .utf8))?.hasPrefix("1") == true {
                try? "0\n".write(toFile: knob, atomically: false, encoding: .utf8)
            }
            let gateway = pool6.gatewayAddress
            try netlink.perform(.addAddress(gateway, index: index), what: "add address \(gateway.addressDescription)")
        }
        let pinned = record.deviceIsExternal == true ? nil : BridgeHardwareAddress.unpinned(device)
        try netlink.perform(.setUp(index, address: pinned), what: "set \(device) up")
    }

    /// Only berthd's own bridges: one named in daemon.json, or one that was there before
    /// `network create` named it, stays, as dockerd leaves it.
    func deleteBridge(_ record: NetworkRecord) {
        guard let device = record.device, record.deviceIsExternal != true else { return }
        do {
            try NetlinkSocket().deleteLink(device)
        } catch {
            log("cannot delete bridge \(device): \(error)")
        }
    }

    /// User networks have name resolution; the default bridge does not (as in Docker).
    func startDNS(_ record: NetworkRecord) throws {
        guard !record.isDefaultBridge, record.driver == "bridge", let pool = record.pool, dnsServers[record.id] == nil else { return }
        dnsServers[record.id] = try DNSServer(network: .init(id: record.id, name: record.name, subnet: pool.subnet),
                                              address: pool.gateway, table: dns, upstreams: Self.hostNameservers())
    }

    /// The host's resolvers (systemd-resolved's upstream list when /etc has only its stub).
    static func hostNameservers() -> [IPv4Address] {
        func servers(_ path: String) -> [IPv4Address] {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { line in
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                return fields.count >= 2 && fields[0] == "nameserver" ? IPv4Address(fields[1]) : nil
            }
        }
        let etc = servers("/etc/resolv.conf")
        if etc.allSatisfy({ $0.value >> 24 == 127 }) { return servers("/run/systemd/resolve/resolv.conf") }
        return etc
    }

    func removeStrayNamespaces() {
        let known = Set(sandboxes.values.map(\.namespacePath))
        for file in (try? FileManager.default.contentsOfDirectory(atPath: namespaceDirectory)) ?? [] {
            let path = namespaceDirectory + "/" + file
            if !known.contains(path) { _ = berth_netns_remove(path) }
        }
    }

    // MARK: - persistence

    func save(_ record: NetworkRecord) throws {
        networks[record.id] = record
        try AtomicFile.write(JSONEncoder().encode(record), to: networkPath(record.id))
    }

    /// Written at every start, without fsync: a sandbox matters only while its container
    /// runs, and a power loss ends every container (the rename still keeps it whole across a
    /// crash of berthd, the one case it must survive).
    func saveSandbox(_ record: SandboxRecord) throws {
        sandboxes[record.containerID] = record
        try AtomicFile.write(JSONEncoder().encode(record), to: sandboxPath(record.containerID), durable: false)
    }

    func saveAttachments(_ id: String) throws {
        if let list = attachments[id] {
            try AtomicFile.write(JSONEncoder().encode(list), to: attachmentsPath(id))
        } else {
            try? FileManager.default.removeItem(atPath: attachmentsPath(id))
        }
    }

    // MARK: - lookup

    /// By full ID, exact name, or unique ID prefix, as dockerd finds networks.
    public func find(_ nameOrID: String) throws -> NetworkRecord {
        if let record = networks[nameOrID] { return record }
        if let record = networks.values.first(where: { $0.name == nameOrID }) { return record }
        let matches = networks.values.filter { $0.id.hasPrefix(nameOrID) }
        if matches.count == 1, !nameOrID.isEmpty { return matches[0] }
        if matches.count > 1 { throw NetworkLookupError.ambiguous(nameOrID) }
        throw NetworkLookupError.notFound(nameOrID)
    }

    /// The network of a NetworkMode ("", "default" → the default bridge).
    func network(forMode mode: String) throws -> NetworkRecord {
        if Self.isDefaultBridgeMode(mode) {
            guard let bridge = defaultBridge else { throw NetworkLookupError.notFound("bridge") }
            return bridge
        }
        return try find(mode)
    }
}

extension NetworkService {
    static func isDefaultBridgeMode(_ mode: String) -> Bool { mode.isEmpty || mode == "default" || mode == "bridge" }
}

public enum NetworkLookupError: Error, CustomStringConvertible {
    case notFound(String), ambiguous(String)
    public var description: String {
        switch self {
        case .notFound(let name): return "network \(name) not found"
        case .ambiguous(let name): return "network \(name) is ambiguous"
        }
    }
}

/// The containers' network views, readable under a lock.
public final class NetworkViewStore: @unchecked Sendable {
    private let lock = Lock()
    private var views: [String: ContainerNetworkView] = [:]
    private var changes = 0
    /// "bridge" (the default one), "host" and "none" → their network IDs: inspect shows them
    /// for stopped containers in those modes.
    private var predefined: [String: String] = [:]

    public init() {}

    public func predefinedNetworkID(_ name: String) -> String? { lock.withLock { predefined[name] } }
    func setPredefined(_ name: String, id: String?) { lock.withLock { predefined[name] = id } }

    public func view(_ containerID: String) -> ContainerNetworkView? { lock.withLock { views[containerID] } }
    /// Counts every change, so that cached answers built from the views know they are stale.
    public var version: Int { lock.withLock { changes } }
    func set(_ containerID: String, _ view: ContainerNetworkView?) {
        lock.withLock {
            views[containerID] = view
            changes += 1
        }
    }
}
