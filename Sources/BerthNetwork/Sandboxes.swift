import BerthOCI
import CSystemShims
import FoundationEssentials
import Dispatch
import Glibc

/// Containers on networks: their namespaces, interfaces, published ports and names.
extension NetworkService {
    // MARK: - container create and remove

    /// Records the networks a new container asked for; refuses unknown ones as dockerd does.
    public func registerContainer(_ id: String, mode: String, endpoints: [String: EndpointRequest]) throws {
        for (name, request) in endpoints.sorted(by: { $0.key < $1.key }) {
            if let text = LinkLocalAddresses.refusal(LinkLocalAddresses.problems(request.linkLocalIPs)) {
                throw NetworkRequestError(kind: .invalid, description: "invalid config for network \(name): \(text)")
            }
        }
        let named = Set(endpoints.keys).union(mode.isEmpty ? [] : [mode])
        if named.contains("none") && named.count > 1 { throw NetworkRequestError.noNetworkWithOthers }
        guard modeHasOwnNetwork(mode) else { return }
        for request in endpoints.values { _ = try EndpointRequest.hardwareAddress(request.macAddress) }
        // The plain default bridge needs no record: it follows from the mode at each start.
        let plain = endpoints.allSatisfy { ($0.key == mode || $0.key == "default") && $0.value.isPlain }
        if plain && (mode.isEmpty || mode == "default" || mode == "bridge") { return }
        let primary = try network(forMode: mode)
        var list: [Attachment] = []
        let primaryConfig = endpoints[mode] ?? endpoints[primary.name] ?? endpoints[primary.id] ?? (primary.isDefaultBridge ? endpoints["default"] : nil)
        if primary.isDefaultBridge, !(primaryConfig?.ipv4 ?? "").isEmpty || !(primaryConfig?.ipv6 ?? "").isEmpty {
            throw NetworkError("user specified IP address is supported on user defined networks only")
        }
        if primary.isDefaultBridge, !(primaryConfig?.aliases ?? []).isEmpty {
            throw NetworkError("network-scoped alias is supported only for containers in user defined networks")
        }
        try primary.checkRequestedAddresses(ipv4: primaryConfig?.ipv4, ipv6: primaryConfig?.ipv6)
        // Links on the default bridge are legacy ones, kept by the container (HostConfig.Links).
        list.append(Attachment(networkID: primary.id, primaryConfig ?? EndpointRequest(),
                               links: primary.isDefaultBridge ? nil : primaryConfig?.links))
        var missing: [String: EndpointRequest] = [:]
        for (name, config) in endpoints.sorted(by: { $0.key < $1.key }) {
            if name == mode || name == "default" { continue }
            let record: NetworkRecord
            do {
                record = try network(forMode: name)
            } catch NetworkLookupError.notFound(_) {
                missing[name] = config
                continue
            }
            if record.id == primary.id { continue }
            try record.checkRequestedAddresses(ipv4: config.ipv4, ipv6: config.ipv6)
            list.append(Attachment(networkID: record.id, config, links: config.links))
        }
        attachments[id] = list
        missingAtCreate[id] = missing.isEmpty ? nil : missing
        try saveAttachments(id)
        refreshView(id)
    }

    /// The endpoints whose network was not there at create: as dockerd, the container joins
    /// them if they are there by its start, and the start fails ("network x not found") if not.
    func attachMissingAtCreate(_ id: String) throws {
        guard let missing = missingAtCreate[id] else { return }
        var list = attachments[id] ?? []
        for (name, config) in missing.sorted(by: { $0.key < $1.key }) {
            let record = try network(forMode: name)
            try record.checkRequestedAddresses(ipv4: config.ipv4, ipv6: config.ipv6)
            if !list.contains(where: { $0.networkID == record.id }) {
                list.append(Attachment(networkID: record.id, config, links: config.links))
            }
        }
        attachments[id] = list
        missingAtCreate[id] = nil
        try saveAttachments(id)
    }

    /// At a start, the networks connected while the container was stopped become its own.
    func startAttachments(_ id: String) throws {
        guard var list = attachments[id], list.contains(where: { $0.beforeStart != nil }) else { return }
        for index in list.indices { list[index].beforeStart = nil }
        attachments[id] = list
        try saveAttachments(id)
    }

    /// The container is gone: its network state goes too.
    public func forgetContainer(_ id: String) {
        releaseSandbox(id)
        attachments[id] = nil
        missingAtCreate[id] = nil
        try? saveAttachments(id)
        views.set(id, nil)
    }

    func modeHasOwnNetwork(_ mode: String) -> Bool {
        !(mode == "host" || mode == "none" || mode.hasPrefix("container:"))
    }

    // MARK: - start and exit

    /// Before the runtime creates the container: a namespace with an interface on each of
    /// its networks, its published ports, and its names in the networks' DNS.
    public func prepareSandbox(_ request: SandboxRequest) throws -> Sandbox {
        // `--network none` gets a namespace of berthd's too, with loopback only, as with dockerd:
        // its SandboxKey is where users put interfaces of their own (and where a later
        // `network connect` puts a bridge's).
        guard modeHasOwnNetwork(request.mode) || request.mode == "none" else {
            return Sandbox(namespacePath: nil, addresses: [], hostGateway: hostGateway)
        }
        releaseSandbox(request.containerID)
        try attachMissingAtCreate(request.containerID)
        try startAttachments(request.containerID)
        if attachments[request.containerID] == nil, Self.isDefaultBridgeMode(request.mode), defaultBridge == nil,
           options.defaultBridgeDisabled {
            return disabledSandbox(request.containerID)
        }
        let list = try attachments[request.containerID] ?? [Attachment(networkID: network(forMode: request.mode).id)]
        if list.contains(where: { networks[$0.networkID]?.configuration != nil }) { throw NetworkRequestError.endpointOnConfigNetwork }
        let wanted = interfaceAttachments(list)
        // A new sandbox each start, named as dockerd names them; its namespace file is
        // removed in the background after the exit, so a path is never used twice.
        let sandboxID = randomHex(64)
        let path = namespaceDirectory + "/" + sandboxID.prefix(12)
        // The namespace made ahead, when its eth0 is what the first network needs; the next
        // one is made when the caller says the start is over (refillReserve).
        // (Its veth has the daemon's MTU: not for a network with an MTU of its own.)
        let first = wanted.first.flatMap { networks[$0.networkID] }
        let ready = first.map { isPlainBridge($0) && ($0.mtu ?? options.mtu) == options.mtu } == true ? reserve.take() : nil
        let inside: NetlinkSocket
        if let ready {
            try ready.bind(at: path)
            inside = ready.inside
        } else {
            inside = try NetlinkSocket(creatingNamespaceAt: path)
        }
        var sandbox = SandboxRecord(containerID: request.containerID, name: request.name, namespacePath: path, endpoints: [], ports: [],
                                    sandboxID: sandboxID, hostname: request.hostname)
        if !request.dns.isEmpty { sandbox.dns = request.dns }
        if !request.exposed.isEmpty { sandbox.exposed = request.exposed }
        do {
            for attachment in wanted {
                guard let record = networks[attachment.networkID] else {
                    throw NetworkLookupError.notFound(attachment.networkID)
                }
                let first = sandbox.endpoints.isEmpty
                let endpoint = try attach(record, attachment: attachment, namespacePath: path, inside: inside,
                                          interface: "eth\(sandbox.endpoints.count)", withRoute: first,
                                          containerName: request.name, loopbackToo: first, ready: first ? ready : nil)
                sandbox.endpoints.append(endpoint)
                sandboxes[request.containerID] = sandbox  // so a failure below releases it
            }
            if wanted.isEmpty { try inside.setUp(1, what: "lo") }  // loopback is always index 1
            if let first = sandbox.endpoints.first, networks[first.networkID]?.linkSettings != nil {
                // As dockerd's macvlan and ipvlan drivers: published ports are ignored, with a word in the log.
                if !request.ports.isEmpty { log("container \(request.containerID): the \(networks[first.networkID]!.driver) driver does not support port mappings") }
            } else if let first = sandbox.endpoints.first {
                sandbox.portsNetworkID = first.networkID
                sandbox.ports = try publish(request.ports, container: request.containerID, name: request.name,
                                            endpoint: first)
                if !request.links.isEmpty {
                    sandbox.linked = request.links.map { LinkedContainer(containerID: $0.containerID, exposed: $0.exposed) }
                }
            }
            sandboxes[request.containerID] = sandbox
            try saveSandbox(sandbox)
            refreshDNS(container: request.containerID)
            refreshResolver(request.containerID)
            if touchesFirewall(sandbox) { try applyFirewall() }
        } catch {
            sandboxes[request.containerID] = sandbox
            releaseSandbox(request.containerID)
            throw error
        }
        refreshView(request.containerID, exposed: request.exposed)
        return Sandbox(namespacePath: path, addresses: sandbox.endpoints.flatMap { [$0.address.description] + ($0.address6.map { [$0.description] } ?? []) },
                       nameserver: embeddedNameserver(sandbox), hostGateway: hostGateway)
    }

    /// What `host-gateway` in --add-host stands for: daemon.json's `host-gateway-ip`, else the
    /// default bridge's gateway whatever network the container is on (as dockerd); none
    /// without either.
    var hostGateway: String? { options.hostGatewayIP ?? defaultBridge?.pool?.gateway.description }

    /// `"bridge": "none"` and a container of the default bridge: it runs as with `--network
    /// none`, and inspect shows an empty "bridge" entry, as dockerd's does.
    func disabledSandbox(_ id: String) -> Sandbox {
        var view = ContainerNetworkView()
        view.networks["bridge"] = EndpointView(NetworkID: "")
        views.set(id, view)
        var sandbox = Sandbox(namespacePath: nil, addresses: [], hostGateway: hostGateway)
        sandbox.networkDisabled = true
        return sandbox
    }

    /// dockerd's link rules on a bridge without icc: the linking container may reach each
    /// exposed port of the linked one on the same bridge, at the addresses both have now (a
    /// linked container that restarts with another address gets its openings back there,
    /// as dockerd's bridge driver opens them again when it joins).
    func linkRules(of sandbox: SandboxRecord) -> [FirewallRuleset.Link] {
        guard let linked = sandbox.linked else { return sandbox.links ?? [] }
        // Legacy links are the default bridge's only, as in dockerd.
        guard let endpoint = sandbox.endpoints.first, let record = networks[endpoint.networkID], record.isDefaultBridge,
              let device = record.device, (try? BridgeOptions.flag(record.options, BridgeOptions.enableICC)) == false else { return [] }
        var rules: [FirewallRuleset.Link] = []
        for link in linked {
            guard let peer = sandboxes[link.containerID]?.endpoints.first(where: { $0.networkID == endpoint.networkID }) else { continue }
            for key in link.exposed.sorted() {
                guard let (port, proto) = PortSpecs.parseKey(key) else { continue }
                rules.append(.init(bridge: device, from: endpoint.address, to: peer.address, proto: proto, port: port))
            }
        }
        return rules
    }

    /// Whether the sandbox's coming or going changes the rules: published ports, its links,
    /// or the links of others to it.
    func touchesFirewall(_ sandbox: SandboxRecord) -> Bool {
        !sandbox.ports.isEmpty || sandbox.links != nil || sandbox.linked != nil
            || sandboxes.values.contains { $0.linked?.contains { $0.containerID == sandbox.containerID } == true }
    }

    /// A bridge network with addresses and a device: what a ReadyNamespace's eth0 can join.
    func isPlainBridge(_ record: NetworkRecord) -> Bool {
        record.driver == "bridge" && record.pool != nil && record.device != nil
    }

    /// One interface: an address from the network's pool, a veth pair with its container
    /// end in the namespace (or, on a macvlan or ipvlan network, a link on the network's
    /// parent made there), and (on the first network) the default route. With a `ready`
    /// namespace the pair is there already: two round trips to the kernel (the bridge's
    /// index; then the host end on the bridge and up) and one in the container (eth0's
    /// address as hardware address, up, its address and route). Without: the bridge's index,
    /// the veth pair (the host end up), the container end's index (with loopback up, for a
    /// new namespace), and its address, state and route.
    func attach(_ record: NetworkRecord, attachment: Attachment, namespacePath: String, inside: NetlinkSocket,
                interface: String, withRoute: Bool, containerName: String, loopbackToo: Bool = false,
                ready: ReadyNamespace? = nil) throws -> EndpointRecord {
        let link = record.linkSettings
        guard isPlainBridge(record) || (link != nil && record.pool != nil && record.parent != nil) else {
            throw NetworkError("container cannot be connected to network \(record.name)")
        }
        let requestedMAC = try EndpointRequest.hardwareAddress(attachment.macAddress)
        if link?.kind == .ipvlan && requestedMAC != nil {
            throw NetworkError("failed to create endpoint \(containerName) on network \(record.name): ipvlan interfaces do not support custom mac address assignment")
        }
        var wantedIP: IPv4Address?
        if let text = attachment.ipv4Address, !text.isEmpty {
            guard let ip = IPv4Address(text) else { throw NetworkError("invalid IPv4 address: \(text)") }
            wantedIP = ip
        }
        // Allocations live in memory; the sandbox records (written once per start) are
        // what a restart rebuilds them from, so a start costs one file write, not three.
        let address = try allocateIPv4(record, wanted: wantedIP)
        var address6: IPv6Address?
        do {
            var wanted6: IPv6Address?
            if let text = attachment.ipv6Address, !text.isEmpty {
                guard let ip = IPv6Address(text) else { throw NetworkError("invalid IPv6 address: \(text)") }
                guard record.pool6?.subnet.contains(ip) == true else {
                    throw NetworkError("Invalid address \(text): It does not belong to any of this network's subnets")
                }
                wanted6 = ip
            }
            if var pool6 = record.pool6 {
                address6 = try pool6.allocate(wanted6)
                networks[record.id]?.pool6 = pool6
            }
        } catch {
            releaseAddress(address, network: record.id)
            throw error
        }
        guard let pool = networks[record.id]?.pool(containing: address) else { throw NetworkError("no subnet holds \(address)") }
        let hostName = link != nil ? "" : ready?.hostName ?? "veth" + randomHex(7)
        // macvlan: a random address, as dockerd 28 gives; ipvlan: the parent's, none of its own.
        let mac: [UInt8]? = switch link?.kind {
        case nil: requestedMAC ?? macAddress(for: address)
        case .macvlan: requestedMAC ?? Self.randomHardwareAddress()
        case .ipvlan: nil
        }
        do {
            let host = try NetlinkSocket()
            let subnet = IPv4Subnet(address, prefixLength: pool.subnet.prefixLength)
            var changes: [(request: NetlinkRequest, what: String)] = []
            let index: Int32
            if let link, let parent = record.parent {
                guard let parentIndex = try host.linkIndex(parent) else {
                    throw NetworkError("the requested parent interface \(parent) was not found on the Docker host")
                }
                let nsfd = open(namespacePath, O_RDONLY | O_CLOEXEC)
                guard nsfd >= 0 else { throw NetworkError.errno("open \(namespacePath)", errno) }
                defer { close(nsfd) }
                try host.createSubordinate(link, name: interface, parentIndex: parentIndex, namespaceFD: nsfd, mac: mac)
                index = try containerIndex(interface, inside: inside, loopbackToo: loopbackToo)
                changes.append((.setUp(index), "set \(interface) up"))
            } else if let device = record.device, let mac {
                guard let bridgeIndex = try host.linkIndex(device) else { throw NetworkError("bridge \(device) not found") }
                if let ready {
                    try host.perform(.setUp(ready.hostIndex, master: bridgeIndex), what: "attach \(hostName) to \(device)")
                    index = ready.peerIndex
                    changes.append((.setUp(index, address: mac), "set \(interface) up"))
                } else {
                    let nsfd = open(namespacePath, O_RDONLY | O_CLOEXEC)
                    guard nsfd >= 0 else { throw NetworkError.errno("open \(namespacePath)", errno) }
                    defer { close(nsfd) }
                    try host.createVeth(hostName: hostName, bridgeIndex: bridgeIndex, peerName: interface, peerNamespaceFD: nsfd,
                                        peerMAC: mac, mtu: record.mtu ?? options.mtu)
                    index = try containerIndex(interface, inside: inside, loopbackToo: loopbackToo)
                    changes.append((.setUp(index), "set \(interface) up"))
                }
            } else {
                throw NetworkError("container cannot be connected to network \(record.name)")
            }
            changes.insert((.addAddress(subnet, index: index), "add address \(subnet.addressDescription)"), at: 0)
            let linkLocal = (attachment.linkLocalIPs ?? []).compactMap(LinkLocalAddresses.parse)
            if linkLocal.contains(where: { if case .v6 = $0 { true } else { false } }) && address6 == nil {
                try enableIPv6(namespacePath: namespacePath, interfaces: [interface])
            }
            for (offset, address) in linkLocal.enumerated() {
                switch address {
                case .v4(let subnet): changes.insert((.addAddress(subnet, index: index), "add address \(subnet.addressDescription)"), at: 1 + offset)
                case .v6(let subnet): changes.insert((.addAddress(subnet, index: index), "add address \(subnet.addressDescription)"), at: 1 + offset)
                }
            }
            // ipvlan l3 and l3s: the default route is the link itself, as dockerd sets it.
            let deviceRoute = withRoute && !record.isInternal && link.map { $0.routesThroughDevice && !$0.isInternalToDriver } == true
            if withRoute && record.routesThroughGateway {
                changes.append((.addDefaultRoute(via: pool.gateway, index: index), "add default route via \(pool.gateway)"))
            } else if deviceRoute {
                changes.append((.addDefaultDeviceRoute(family: AF_INET, index: index), "add default route on \(interface)"))
            }
            if let address6, let pool6 = record.pool6 {
                // The namespace has IPv6 off everywhere: on for this interface and loopback.
                try enableIPv6(namespacePath: namespacePath, interfaces: ["lo", interface])
                let subnet6 = IPv6Subnet(address6, prefixLength: pool6.subnet.prefixLength)
                changes.append((.addAddress(subnet6, index: index), "add address \(subnet6.addressDescription)"))
                if withRoute && record.routesThroughGateway {
                    changes.append((.addDefaultRoute(via: pool6.gateway, index: index), "add default route via \(pool6.gateway)"))
                } else if deviceRoute {
                    changes.append((.addDefaultDeviceRoute(family: AF_INET6, index: index), "add default route on \(interface)"))
                }
            }
            try inside.performAll(changes)
        } catch {
            if link != nil {
                try? inside.deleteLink(interface)
            } else {
                try? NetlinkSocket().deleteLink(hostName)
            }
            releaseAddress(address, network: record.id)
            if let address6 { networks[record.id]?.pool6?.release(address6) }
            throw error
        }
        return EndpointRecord(id: randomHex(64), networkID: record.id, address: address, address6: address6, mac: mac.map(macDescription) ?? "",
                              hostInterface: hostName, interfaceName: interface, aliases: attachment.aliases)
    }

    /// The index of the interface just made in the container's namespace (with loopback up
    /// in the same round trip, for a new namespace).
    func containerIndex(_ interface: String, inside: NetlinkSocket, loopbackToo: Bool) throws -> Int32 {
        var lookups: [(request: NetlinkRequest, what: String)] = []
        if loopbackToo { lookups.append((.setUp(1), "set lo up")) }  // loopback is always index 1
        lookups.append((.getLink(interface), "find \(interface) in the container"))
        guard let found = NetlinkRequest.linkIndex(in: try inside.performAll(lookups).last ?? []) else {
            throw NetworkError("\(interface) not found in the container")
        }
        return found
    }

    /// The lowest free address of the network's subnets, in their order, or the one asked
    /// for in the subnet that holds it.
    func allocateIPv4(_ record: NetworkRecord, wanted: IPv4Address?) throws -> IPv4Address {
        var pools = record.pools
        var failure: Error = NetworkError("no available IPv4 addresses")
        for index in pools.indices where wanted.map(pools[index].subnet.contains) ?? true {
            do {
                let address = try pools[index].allocate(wanted)
                let pool = pools[index]
                networks[record.id]?.updatePool(containing: address) { $0 = pool }
                return address
            } catch {
                failure = error
                if wanted != nil { break }
            }
        }
        if let wanted, !record.pools.contains(where: { $0.subnet.contains(wanted) }) {
            throw NetworkError("no configured subnet or ip-range contain the IP address \(wanted)")
        }
        throw failure
    }

    /// A unicast, locally administered hardware address, as dockerd gives macvlan endpoints.
    static func randomHardwareAddress() -> [UInt8] {
        var bytes = (0..<6).map { _ in UInt8.random(in: 0...255) }
        bytes[0] = (bytes[0] & 0xfe) | 0x02
        return bytes
    }

    func releaseAddress(_ address: IPv4Address, network id: String) {
        networks[id]?.updatePool(containing: address) { $0.release(address) }
    }

    /// IPv6 on the given interfaces of a container's namespace (its sysctls are its own, so
    /// they are written from inside it).
    func enableIPv6(namespacePath: String, interfaces: [String]) throws {
        let nsfd = open(namespacePath, O_RDONLY | O_CLOEXEC)
        guard nsfd >= 0 else { throw NetworkError.errno("open \(namespacePath)", errno) }
        defer { close(nsfd) }
        let paths = interfaces.map { strdup("/proc/sys/net/ipv6/conf/\($0)/disable_ipv6") }
        defer { for path in paths { free(path) } }
        let pointers: [UnsafePointer<CChar>?] = paths.map { $0.map { UnsafePointer($0) } }
        let result = pointers.withUnsafeBufferPointer { berth_netns_write(nsfd, $0.baseAddress, Int32($0.count), "0") }
        guard result == 0 else { throw NetworkError.errno("enable IPv6 on \(interfaces.joined(separator: ", "))", -result) }
    }

    /// The veth goes in the background: the kernel takes tens of milliseconds to unregister
    /// a device (RCU grace periods), which a container's exit need not wait for. One serial
    /// queue does them all (no thread made per exit). The address is free at once: it lived
    /// in the container's namespace, not on the host.
    func detach(_ endpoint: EndpointRecord) {
        let name = endpoint.hostInterface
        // A macvlan or ipvlan link has no host end: it lives and goes with the namespace.
        if !name.isEmpty {
            Self.teardowns.async {
                // An error means it went with its namespace already.
                try? NetlinkSocket().deleteLink(name)
            }
        }
        releaseAddress(endpoint.address, network: endpoint.networkID)
        if let address6 = endpoint.address6 { networks[endpoint.networkID]?.pool6?.release(address6) }
    }

    /// Veths and namespace files of exited containers, removed off their exit's path.
    static let teardowns = DispatchQueue(label: "berth.network.teardowns")

    /// After the container's exit (or at its removal): everything prepareSandbox made.
    public func releaseSandbox(_ id: String) {
        guard let sandbox = sandboxes[id] else { return }
        for proxy in proxies[id] ?? [] { proxy.stop() }
        proxies[id] = nil
        containerResolvers.removeValue(forKey: id)?.stop()
        for endpoint in sandbox.endpoints { detach(endpoint) }
        // Unmounting waits for an RCU grace period, which the exit need not wait for either.
        let path = sandbox.namespacePath
        Self.teardowns.async { _ = berth_netns_remove(path) }
        sandboxes[id] = nil
        // Renamed here and unlinked off the actor: freeing the file's blocks may wait for the
        // disk (`discard`), and a new record of the container may be written meanwhile.
        let removed = sandboxPath(id) + ".removed"
        if rename(sandboxPath(id), removed) == 0 { Self.teardowns.async { _ = unlink(removed) } }
        refreshDNS(container: id)
        if touchesFirewall(sandbox) {
            do { try applyFirewall() } catch { log("firewall: \(error)") }
        }
        refreshView(id)
    }

    // MARK: - published ports

    /// The host ports dockerd's allocator tries for a port published without one: the next
    /// after the last it gave for that protocol and address, through the kernel's ephemeral
    /// range (ip_local_port_range, 32768-60999 by default), wrapping once.
    func ephemeralPorts(_ proto: String, _ hostIP: String) -> [Int] {
        let bounds = ((try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? "")
            .split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { Int($0) }
        let first = bounds.count == 2 ? bounds[0] : 32768, last = bounds.count == 2 ? bounds[1] : 60999
        guard first <= last else { return [0] }
        var start = (lastEphemeralPort[proto + " " + hostIP] ?? last) + 1
        if start < first || start > last { start = first }
        return Array(start...last) + Array(first..<start)
    }

    /// Binds each host port with a proxy (which proves it free), in the order asked.
    func publish(_ requests: [PortRequest], container: String, name: String, endpoint: EndpointRecord) throws -> [PublishedPort] {
        var published: [PublishedPort] = []
        var started: [PortProxy] = []
        let taken = sandboxes.values.filter { $0.containerID != container }.flatMap(\.ports)
        // The same address, or the wildcard of the same family ([::] listens on IPv6 only): the
        // holder's address is the one dockerd's allocator names.
        func conflicts(_ proto: String, _ ip: String, _ port: Int) -> String? {
            let ipv6 = ip.contains(":")
            let any = ipv6 ? "::" : "0.0.0.0"
            return (taken + published).first { other in
                other.proto == proto && other.hostPort == port && other.hostIP.contains(":") == ipv6
                    && (other.hostIP == ip || other.hostIP == any || ip == any)
            }?.hostIP
        }
        do {
            for request in requests {
                let hostIP: String
                let listen: (Int) throws -> [PortProxy]
                if let address = IPv6Address(request.hostIP) {
                    // `-p [::1]:8080:80`: the proxy alone (no NAT rule), as dockerd's does.
                    hostIP = address.description
                    listen = { port in
                        do {
                            return [try PortProxy(ipv6Proto: request.proto, hostIP: address, hostPort: port,
                                                  targetIP: endpoint.address, targetPort: request.containerPort)]
                        } catch let failure as Sockets.BindFailure {
                            throw ListenFailure(message: "listen \(request.proto)6 [\(hostIP)]:\(port): bind: \(failure.message)")
                        }
                    }
                } else {
                    hostIP = request.hostIP.isEmpty ? "0.0.0.0" : request.hostIP
                    guard let address = IPv4Address(hostIP) else { throw NetworkError("invalid host IP \(hostIP)") }
                    // A port published on all addresses (no host IP given) listens on [::] too, at
                    // the same port, as dockerd's proxy does on a host with IPv6.
                    let alsoIPv6 = request.hostIP.isEmpty && Sockets.hostHasIPv6
                    listen = { port in
                        let bound: PortProxy
                        do {
                            bound = try PortProxy(proto: request.proto, hostIP: address, hostPort: port,
                                                  targetIP: endpoint.address, targetPort: request.containerPort)
                        } catch let failure as Sockets.BindFailure {
                            throw ListenFailure(message: "listen \(request.proto)4 \(hostIP):\(port): bind: \(failure.message)")
                        }
                        guard alsoIPv6 else { return [bound] }
                        do {
                            return [bound, try PortProxy(ipv6Proto: request.proto, hostPort: bound.hostPort,
                                                         targetIP: endpoint.address, targetPort: request.containerPort)]
                        } catch let failure as Sockets.BindFailure {
                            bound.stop()
                            throw ListenFailure(message: "listen \(request.proto)6 [::]:\(bound.hostPort): bind: \(failure.message)")
                        }
                    }
                }
                let failurePrefix = "driver failed programming external connectivity on endpoint \(name) (\(endpoint.id))"
                if request.proto == "sctp" { try Self.refuseSCTP(failurePrefix: failurePrefix) }
                let proxies = try firstFreePort(request, hostIP: hostIP, conflicts: conflicts, listen: listen,
                                                failurePrefix: failurePrefix)
                started += proxies
                published += proxies.map {
                    PublishedPort(proto: request.proto, hostIP: $0.hostIP, hostPort: $0.hostPort, containerPort: request.containerPort)
                }
            }
        } catch {
            for proxy in started { proxy.stop() }
            throw error
        }
        proxies[container] = started
        return published
    }

    /// An SCTP port cannot be published: dockerd's proxy fails as below on a kernel without
    /// SCTP, and Berth's proxy moves bytes with splice, which SCTP sockets do not offer.
    private static func refuseSCTP(failurePrefix: String) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 132 /* IPPROTO_SCTP */)
        guard fd >= 0 else {
            throw NetworkError("\(failurePrefix): Error starting userland proxy: \(String(cString: strerror(errno)).lowercased())")
        }
        close(fd)
        throw NetworkRequestError(kind: .notImplemented, description: "publishing SCTP ports is not implemented yet in this version of Berth")
    }

    /// Why a port could not be listened on: the next candidate port is tried.
    private struct ListenFailure: Error {
        let message: String
    }

    /// The proxies of the first of the request's host ports (or of the next ephemeral ones)
    /// that no other binding holds and `listen` can bind.
    private func firstFreePort(_ request: PortRequest, hostIP: String, conflicts: (String, String, Int) -> String?,
                               listen: (Int) throws -> [PortProxy], failurePrefix: String) throws -> [PortProxy] {
        var lastError = ""
        let ephemeral = request.hostPorts == 0...0
        let candidates = ephemeral ? AnySequence(ephemeralPorts(request.proto, hostIP)) : AnySequence(request.hostPorts)
        for port in candidates {
            if port != 0, let holder = conflicts(request.proto, hostIP, port) {
                lastError = "Bind for \(holder):\(port) failed: port is already allocated"  // dockerd writes no brackets here
                continue
            }
            do {
                let proxies = try listen(port)
                if ephemeral { lastEphemeralPort[request.proto + " " + hostIP] = proxies[0].hostPort }
                return proxies
            } catch let failure as ListenFailure {
                lastError = "Error starting userland proxy: " + failure.message
            }
        }
        throw NetworkError("\(failurePrefix): \(lastError)")
    }

    /// After a daemon restart: the proxies of a running container's ports.
    func startProxies(for sandbox: SandboxRecord) {
        guard let endpoint = sandbox.endpoints.first(where: { $0.networkID == sandbox.portsNetworkID }) ?? sandbox.endpoints.first else { return }
        var started: [PortProxy] = []
        for port in sandbox.ports {
            do {
                if let address = IPv6Address(port.hostIP) {
                    started.append(try PortProxy(ipv6Proto: port.proto, hostIP: address,
                                                 hostPort: port.hostPort, targetIP: endpoint.address, targetPort: port.containerPort))
                    continue
                }
                started.append(try PortProxy(proto: port.proto, hostIP: IPv4Address(port.hostIP) ?? IPv4Address(0),
                                             hostPort: port.hostPort, targetIP: endpoint.address, targetPort: port.containerPort))
            } catch {
                log("container \(sandbox.containerID): cannot listen on \(port.hostIP):\(port.hostPort) again: \(error)")
            }
        }
        proxies[sandbox.containerID] = started
    }

    // MARK: - rules, names and views

    func firewallRuleset() -> FirewallRuleset {
        let bridges = networks.values.filter { $0.driver == "bridge" && $0.device != nil && $0.pool != nil }
            .sorted { $0.created < $1.created }
            .map { record in
                FirewallRuleset.Bridge(device: record.device!, subnet: record.pool!.subnet, isInternal: record.isInternal,
                                       icc: (try? BridgeOptions.flag(record.options, BridgeOptions.enableICC)) ?? true,
                                       masquerade: (try? BridgeOptions.flag(record.options, BridgeOptions.enableIPMasquerade)) ?? true)
            }
        var forwards: [FirewallRuleset.Forward] = []
        var links: [FirewallRuleset.Link] = []
        for sandbox in sandboxes.values.sorted(by: { $0.containerID < $1.containerID }) {
            links += linkRules(of: sandbox)
            guard let endpoint = sandbox.endpoints.first(where: { $0.networkID == sandbox.portsNetworkID }),
                  let device = networks[endpoint.networkID]?.device else { continue }
            // The IPv6 listeners ([::]) have no NAT rule: the proxy carries their traffic.
            for port in sandbox.ports where !port.hostIP.contains(":") {
                forwards.append(.init(proto: port.proto, hostIP: IPv4Address(port.hostIP), hostPort: port.hostPort,
                                      containerIP: endpoint.address, containerPort: port.containerPort, bridge: device))
            }
        }
        return FirewallRuleset(table: options.tableName, bridges: bridges, forwards: forwards, links: links)
    }

    func applyFirewall() throws {
        guard options.firewall else { return }
        let ruleset = firewallRuleset()
        let script = ruleset.script()
        if script == appliedRuleset { return }
        if ruleset.bridges.contains(where: { !$0.icc }) { try ensureBridgeNetfilter() }
        try FirewallRuleset.apply(script)
        appliedRuleset = script
    }

    /// icc off relies on br_netfilter: traffic between two ports of a bridge reaches the ip
    /// family's forward hook only with bridge-nf-call-iptables on. As dockerd: an error
    /// without the module, and the switch turned on when forwarding is.
    func ensureBridgeNetfilter() throws {
        let path = "/proc/sys/net/bridge/bridge-nf-call-iptables"
        guard let value = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw NetworkError("cannot restrict inter-container communication: please ensure that br_netfilter kernel module is loaded")
        }
        let forwarding = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_forward", encoding: .utf8))?.hasPrefix("1") == true
        if value.hasPrefix("1") || !forwarding { return }
        do {
            try "1\n".write(toFile: path, atomically: false, encoding: .utf8)
        } catch {
            throw NetworkError("cannot restrict inter-container communication: \(error)")
        }
    }

    /// The container's part of the names on user networks (its name, aliases, short ID and
    /// hostname on each, the networks it asks from, its link aliases), put in the table in
    /// place of what it had there; none once its sandbox is gone. The other containers'
    /// entries stay as they are.
    func refreshDNS(container id: String) {
        dns.setContainer(id, sandboxes[id].flatMap(dnsContribution))
    }

    /// What `sandbox` adds to the names of its user networks; nil when it is on none.
    func dnsContribution(_ sandbox: SandboxRecord) -> DNSContainerNames? {
        let user = sandbox.endpoints.filter { networks[$0.networkID].map(Self.hasEmbeddedDNS) ?? false }
        var contribution = DNSContainerNames()
        contribution.networks = user.map(\.networkID)
        contribution.entries = user.map { endpoint in
            .init(network: endpoint.networkID, names: sandbox.dnsNames(aliases: endpoint.aliases),
                  address: endpoint.address, address6: endpoint.address6, networkName: networks[endpoint.networkID]?.name ?? "")
        }
        contribution.linkAliases = dnsLinkAliases(sandbox)
        if !contribution.linkAliases.isEmpty { contribution.linkAddresses = sandbox.endpoints.map(\.address) }
        return contribution.entries.isEmpty && contribution.linkAliases.isEmpty ? nil : contribution
    }

    /// User-defined networks (bridge, macvlan, ipvlan) have name resolution, as with
    /// dockerd; the default bridge has none.
    static func hasEmbeddedDNS(_ record: NetworkRecord) -> Bool {
        !record.isDefaultBridge && (record.driver == "bridge" || record.driver == "macvlan" || record.driver == "ipvlan")
    }

    /// The DNS server a container asks: 127.0.0.11, the container's own server, on a user network (its gateway's, should that
    /// one not run); nil on the default bridge, which has no name resolution.
    func embeddedNameserver(_ sandbox: SandboxRecord) -> String? {
        if containerResolvers[sandbox.containerID] != nil { return DNSServer.containerAddress.description }
        // A bridge's gateway is the host, where the network's own server listens; a macvlan
        // or ipvlan network has none of berthd's.
        guard let network = resolverEndpoint(sandbox)?.network, network.driver == "bridge" else { return nil }
        return network.pool?.gateway.description
    }

    /// `embeddedNameserver` of a running container, after `docker network connect/disconnect`.
    public func embeddedNameserver(containerID: String) -> String? {
        sandboxes[containerID].flatMap(embeddedNameserver)
    }

    func refreshView(_ id: String, exposed: [String]? = nil) {
        var view = ContainerNetworkView()
        let previous = views.view(id)
        let sandbox = sandboxes[id]
        let wanted = attachments[id] ?? sandbox?.endpoints.map { Attachment(networkID: $0.networkID, aliases: $0.aliases) } ?? []
        for attachment in wanted {
            guard let record = networks[attachment.networkID] else { continue }
            var endpoint = EndpointView(NetworkID: attachment.beforeStart == true ? "" : record.id)
            endpoint.Aliases = attachment.aliases.isEmpty ? nil : attachment.aliases
            endpoint.Links = attachment.links
            endpoint.DriverOpts = attachment.driverOpts
            if let mac = try? EndpointRequest.hardwareAddress(attachment.macAddress) { endpoint.MacAddress = macDescription(mac) }
            let ip4 = attachment.ipv4Address.flatMap { $0.isEmpty ? nil : $0 }
            let ip6 = attachment.ipv6Address.flatMap { $0.isEmpty ? nil : $0 }
            if ip4 != nil || ip6 != nil || attachment.linkLocalIPs != nil {
                endpoint.IPAMConfig = .init(IPv4Address: ip4, IPv6Address: ip6, LinkLocalIPs: attachment.linkLocalIPs)
            }
            let sentEmpty = attachment.sentEmpty ?? []
            if endpoint.IPAMConfig == nil && sentEmpty.contains("IPAMConfig") { endpoint.IPAMConfig = .init() }
            if endpoint.Aliases == nil && sentEmpty.contains("Aliases") { endpoint.Aliases = [] }
            if endpoint.DriverOpts == nil && sentEmpty.contains("DriverOpts") { endpoint.DriverOpts = [:] }
            if let live = sandbox?.endpoints.first(where: { $0.networkID == record.id }), let pool = record.pool(containing: live.address) {
                endpoint.EndpointID = live.id
                endpoint.MacAddress = live.mac
                endpoint.IPAddress = live.address.description
                endpoint.IPPrefixLen = pool.subnet.prefixLength
                endpoint.Gateway = record.routesThroughGateway ? pool.gateway.description : ""
                if let address6 = live.address6, let pool6 = record.pool6 {
                    endpoint.GlobalIPv6Address = address6.description
                    endpoint.GlobalIPv6PrefixLen = pool6.subnet.prefixLength
                    endpoint.IPv6Gateway = record.routesThroughGateway ? pool6.gateway.description : ""
                }
                if !record.isDefaultBridge {
                    endpoint.DNSNames = sandbox!.dnsNames(aliases: live.aliases)
                }
            }
            view.networks[record.name] = endpoint
            if record.isDefaultBridge { view.bridgeEndpoint = endpoint }
        }
        // A stopped container of the plain default bridge (no attachment record) keeps the
        // network it ran on, as in dockerd's inspect and `docker ps --format {{.Networks}}`.
        if wanted.isEmpty, attachments[id] == nil, let previous {
            for (name, endpoint) in previous.networks where networks[endpoint.NetworkID]?.isDefaultBridge == true {
                view.networks[name] = endpoint.withoutOperationalData
            }
        }
        view.isRecorded = attachments[id] != nil
        if let sandbox {
            view.sandboxKey = sandbox.namespacePath
            view.sandboxID = sandbox.sandboxID ?? String(sandbox.namespacePath.split(separator: "/").last ?? "")
            view.published = sandbox.ports
        }
        var ports: [String: [PortBindingView]?] = [:]
        if sandbox != nil {
            for key in exposed ?? sandbox?.exposed ?? previous.map({ Array($0.ports.keys) }) ?? [] { ports[key] = .some(nil) }
        }
        for port in sandbox?.ports ?? [] {
            let key = "\(port.containerPort)/\(port.proto)"
            var list = (ports[key] ?? nil) ?? []
            list.append(PortBindingView(HostIp: port.hostIP, HostPort: "\(port.hostPort)"))
            ports[key] = .some(list)
        }
        view.ports = ports
        views.set(id, view)
    }
}
