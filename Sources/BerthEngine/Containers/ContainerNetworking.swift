import BerthNetwork
import BerthOCI
import BerthStore
import FoundationEssentials
import Glibc

/// The container side of networking: what a create, start, exit and remove ask of the
/// network service, `docker network connect/disconnect`, and legacy links.
extension ContainerService {
    /// Network errors in the engine's terms (DESIGN rule 1).
    public static func networkError(_ error: Error) -> Error {
        switch error {
        case let lookup as NetworkLookupError:
            if case .notFound = lookup { return BerthError.notFound(lookup.description) }
            return BerthError.invalidArgument(lookup.description)
        case let request as NetworkRequestError:
            switch request.kind {
            case .invalid: return BerthError.invalidArgument(request.description)
            case .conflict: return BerthError.conflict(request.description)
            case .forbidden: return BerthError(.forbidden, request.description)
            case .notFound: return BerthError.notFound(request.description)
            case .unavailable: return BerthError(.unavailable, request.description)
            case .notImplemented: return BerthError.notImplemented(request.description)
            }
        case let failure as NetworkError:
            return BerthError.internalError(failure.description)
        default:
            return error
        }
    }

    /// At create: the networks of NetworkMode and NetworkingConfig must exist.
    /// `configMacAddress`: Config.MacAddress, where clients below API 1.44 put `--mac-address`
    /// (for the container's first network).
    func registerNetworks(_ id: String, hostConfig: HostConfig, networking: NetworkingConfig?,
                          configMacAddress: String? = nil) async throws {
        guard let network else { return }
        var endpoints: [String: EndpointRequest] = [:]
        for (name, settings) in networking?.EndpointsConfig ?? [:] {
            endpoints[name] = EndpointRequest(aliases: settings?.Aliases ?? [], ipv4: settings?.IPAMConfig?.IPv4Address,
                                              ipv6: settings?.IPAMConfig?.IPv6Address, links: settings?.Links ?? [],
                                              macAddress: settings?.MacAddress, driverOpts: settings?.DriverOpts,
                                              linkLocalIPs: settings?.IPAMConfig?.LinkLocalIPs ?? [])
        }
        if let mac = configMacAddress, !mac.isEmpty {
            let mode = hostConfig.NetworkMode ?? ""
            let primary = mode.isEmpty ? "default" : mode
            if (endpoints[primary]?.macAddress ?? "").isEmpty { endpoints[primary, default: EndpointRequest()].macAddress = mac }
        }
        do {
            try await network.registerContainer(id, mode: hostConfig.NetworkMode ?? "", endpoints: endpoints)
        } catch is NetworkLookupError {
            // As dockerd: a missing network fails the start ("network x not found"), not the create.
        } catch {
            throw Self.networkError(error)
        }
    }

    /// Before the runtime: the container's namespace, interfaces and ports.
    func prepareNetwork(_ id: String) async throws -> Sandbox? {
        guard let network, let entry = entries[id] else { return nil }
        let record = entry.record
        let host = entry.hostConfig
        var bindings: [String: [(hostIP: String?, hostPort: String?)]] = [:]
        for (key, list) in host.PortBindings ?? [:] {
            bindings[key] = (list ?? []).map { ($0.HostIp, $0.HostPort) }
        }
        let exposed = Array(Set((record.Config.ExposedPorts ?? [:]).keys).union(bindings.keys))
        // Linked containers' exposed ports: what a bridge without icc still lets through.
        let links = (host.Links ?? []).compactMap { link -> (containerID: String, exposed: [String])? in
            guard let targetID = try? resolve(Self.linkTarget(link)), let peer = entries[targetID] else { return nil }
            return (targetID, Array((peer.record.Config.ExposedPorts ?? [:]).keys))
        }
        do {
            let ports = try PortSpecs.requests(bindings: bindings, exposed: exposed, publishAll: host.PublishAllPorts == true)
            let request = SandboxRequest(containerID: id, name: record.bareName, hostname: record.Config.Hostname ?? record.shortID,
                                         mode: host.NetworkMode ?? "", ports: ports, exposed: exposed, links: links,
                                         dns: host.Dns ?? [])
            let sandbox = try await network.prepareSandbox(request)
            emitNetwork("connect", container: id, networks: attachedNetworks(id))
            return sandbox
        } catch {
            throw Self.networkError(error)
        }
    }

    /// The networks inspect and `docker ps` show. A default-bridge, host or none container
    /// with no endpoint (stopped, or never started) shows that network anyway, as dockerd
    /// does: with an empty network ID until its first start, with the network's ID after
    /// (dockerd keeps it when the container stops, and across its own restarts). A running
    /// host or none container has an endpoint ID there, as in `network inspect`.
    func shownNetworks(_ view: ContainerNetworkView?, hostConfig: HostConfig?, record: ContainerRecord) -> [String: EndpointView] {
        var networks = view?.networks ?? [:]
        if view?.isRecorded == true {
            // host or none joined again with `network connect`: an endpoint while it runs.
            for name in ["host", "none"] where networks[name] != nil && record.State.Running {
                networks[name]!.EndpointID = Self.predefinedEndpointID(record)
            }
            return networks
        }
        guard networks.isEmpty, let network else { return networks }
        let mode = hostConfig?.NetworkMode ?? ""
        let name: String
        if mode == "host" || mode == "none" {
            name = mode
        } else if ["", "default", "bridge"].contains(mode), !network.options.defaultBridgeDisabled {
            name = "bridge"
        } else {
            return networks
        }
        let started = record.State.StartedAt != ContainerStateRecord.zeroTime
        var endpoint = EndpointView(NetworkID: started ? network.views.predefinedNetworkID(name) ?? "" : "")
        if name != "bridge" && record.State.Running { endpoint.EndpointID = Self.predefinedEndpointID(record) }
        return [name: endpoint]
    }

    /// The endpoint a run of a host or none container has on that network. Berth makes
    /// nothing for it, so its ID is derived from the run (the container and its start time):
    /// new at each start, as dockerd's, and the same after a berthd restart.
    static func predefinedEndpointID(_ record: ContainerRecord) -> String {
        let hasher = SHA256Hasher()
        Array((record.ID + "/" + record.State.StartedAt).utf8).withUnsafeBytes { hasher.update($0) }
        return String(hasher.finish().dropFirst("sha256:".count))
    }

    /// `docker network inspect host|none`: the running containers on it, as dockerd lists them.
    public func predefinedNetworkContainers(_ name: String) -> [String: NetworkView.ContainerEntry] {
        guard name == "host" || name == "none" else { return [:] }
        var listed: [String: NetworkView.ContainerEntry] = [:]
        for entry in entries.values where entry.record.State.Running
            && shownNetworks(network?.views.view(entry.record.ID), hostConfig: entry.hostConfig, record: entry.record)[name] != nil {
            listed[entry.record.ID] = .init(Name: entry.record.bareName, EndpointID: Self.predefinedEndpointID(entry.record))
        }
        return listed
    }

    func releaseNetwork(_ id: String) async {
        emitNetwork("disconnect", container: id, networks: attachedNetworks(id))
        await network?.releaseSandbox(id)
    }

    func forgetNetwork(_ id: String) async {
        await network?.forgetContainer(id)
    }

    // MARK: - docker network connect / disconnect

    public func connectNetwork(_ networkName: String, container nameOrID: String, aliases: [String], ipv4: String?,
                               ipv6: String? = nil, links: [String] = [], macAddress: String? = nil,
                               driverOpts: [String: String]? = nil, linkLocalIPs: [String] = [],
                               sentEmpty: [String] = []) async throws {
        let id = try resolve(nameOrID)
        guard let network else { throw BerthError.notImplemented("networking is off in this daemon") }
        let entry = entries[id]!
        let mode = entry.hostConfig.NetworkMode ?? ""
        // Host and none are networks the service keeps for the container; a shared namespace is not.
        if NetworkModeKind(mode).isContainer { throw Self.networkError(NetworkRequestError.sharedNamespace) }
        let running = entry.record.State.Running
        let process = running ? ContainerProcess(pid: Int32(entry.record.State.Pid), name: entry.record.bareName,
                                                 hostname: entry.record.Config.Hostname ?? entry.record.shortID) : nil
        do {
            try await network.connect(networkName, containerID: id, running: running,
                                      aliases: aliases, ipv4: ipv4, ipv6: ipv6, links: links, macAddress: macAddress,
                                      driverOpts: driverOpts, linkLocalIPs: linkLocalIPs, mode: mode, process: process,
                                      sentEmpty: sentEmpty)
            if running {
                await refreshResolvConf(id)
                updateHostsEntries(id, adding: await network.addresses(of: id, on: networkName))
                if let actor = await networkActor(networkName) { emitNetwork("connect", container: id, networks: [actor]) }
            }
        } catch {
            throw Self.networkError(error)
        }
    }

    public func disconnectNetwork(_ networkName: String, container nameOrID: String) async throws {
        let id = try resolve(nameOrID)
        guard let network else { throw BerthError.notImplemented("networking is off in this daemon") }
        let mode = entries[id]!.hostConfig.NetworkMode ?? ""
        let running = entries[id]!.record.State.Running
        do {
            let leaving = await network.addresses(of: id, on: networkName)
            try await network.disconnect(networkName, containerID: id, containerName: entries[id]!.record.bareName,
                                         running: running, mode: mode)
            if entries[id]!.record.State.Running {
                await refreshResolvConf(id)
                updateHostsEntries(id, removing: leaving)
            }
            if let actor = await networkActor(networkName) { emitNetwork("disconnect", container: id, networks: [actor]) }
        } catch {
            throw Self.networkError(error)
        }
    }

    /// A running container's /etc/hosts after `network connect/disconnect`: as dockerd, a line
    /// for each address it gets on the network is added, and those of the network it leaves
    /// go; the rest of the file (the container's own edits too) stays.
    func updateHostsEntries(_ id: String, adding added: [String] = [], removing removed: [String] = []) {
        guard let entry = entries[id], !NetworkModeKind(entry.hostConfig.NetworkMode).isContainer,
              !entry.record.HostsPath.isEmpty, !(added.isEmpty && removed.isEmpty),
              let text = try? String(contentsOfFile: entry.record.HostsPath, encoding: .utf8) else { return }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        lines.removeAll { line in removed.contains { line.hasPrefix($0 + "\t") } }
        let names = ContainerFiles.selfNames(hostname: entry.record.Config.Hostname ?? entry.record.shortID,
                                             domainname: entry.record.Config.Domainname)
        lines += added.map { "\($0)\t\(names)" }
        if !BindMountedFile.rewrite(entry.record.HostsPath, with: lines.map { $0 + "\n" }.joined()) {
            logger.warning("cannot update the hosts file of container \(id): \(String(cString: strerror(errno)))")
        }
    }

    /// A running container that joins its first user network (or leaves the one whose DNS
    /// server it asks) gets its /etc/resolv.conf rewritten, as dockerd switches it to its
    /// embedded DNS.
    func refreshResolvConf(_ id: String) async {
        guard let network, let entry = entries[id], entry.hostConfig.NetworkMode != "host" else { return }
        let text = StartPlan.resolvConf(entry.hostConfig, nameserver: await network.embeddedNameserver(containerID: id))
        let path = entry.record.ResolvConfPath
        guard !path.isEmpty, (try? String(contentsOfFile: path, encoding: .utf8)) != text else { return }
        if !BindMountedFile.rewrite(path, with: text) {
            logger.warning("cannot update the resolv.conf of container \(id): \(String(cString: strerror(errno)))")
        }
    }

    // MARK: - legacy links

    /// The linked container's name in a `--link name:alias` (stored as "/name:/me/alias").
    static func linkTarget(_ link: String) -> String { EndpointLink.parse(link)?.target ?? link }

    /// The alias of a link ("/name:/me/alias" → "alias"; the name when there is none).
    static func linkAlias(_ link: String) -> String { EndpointLink.parse(link)?.alias ?? link }

    /// `--link name:alias`: the /etc/hosts lines and environment Docker writes for each link.
    func linkFiles(_ id: String) async -> (hosts: [String], env: [String]) {
        guard let network, let entry = entries[id] else { return ([], []) }
        var hosts: [String] = []
        var env: [String] = []
        for link in entry.hostConfig.Links ?? [] {
            let target = Self.linkTarget(link)
            let alias = Self.linkAlias(link)
            guard let targetID = try? resolve(target), let peer = entries[targetID],
                  let address = await network.primaryAddress(targetID) else { continue }
            // The alias, the container's hostname, and its name when that is not the alias.
            let name = alias == peer.record.bareName ? "" : " " + peer.record.bareName
            hosts.append("\(address)\t\(alias) \(peer.record.Config.Hostname ?? peer.record.shortID)\(name)")
            env += LegacyLink.environment(alias: alias, address: address, exposed: Array((peer.record.Config.ExposedPorts ?? [:]).keys),
                                          peerName: "/\(entry.record.bareName)/\(alias)", peerEnv: peer.record.Config.Env ?? [])
        }
        return (hosts, env)
    }
}

/// The environment variables of a legacy link, as Docker writes them
/// (WEB_PORT=tcp://172.17.0.2:80, WEB_PORT_80_TCP_ADDR=…, WEB_NAME=/me/web, WEB_ENV_X=…).
enum LegacyLink {
    static func environment(alias: String, address: String, exposed: [String], peerName: String, peerEnv: [String]) -> [String] {
        let prefix = alias.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
        var env: [String] = []
        let ports = exposed.compactMap(PortSpecs.parseKey).sorted { ($0.port, $0.proto) < ($1.port, $1.proto) }
        if let first = ports.first {
            env.append("\(prefix)_PORT=\(first.proto)://\(address):\(first.port)")
        }
        for port in ports {
            let name = "\(prefix)_PORT_\(port.port)_\(port.proto.uppercased())"
            env += ["\(name)=\(port.proto)://\(address):\(port.port)", "\(name)_ADDR=\(address)",
                    "\(name)_PORT=\(port.port)", "\(name)_PROTO=\(port.proto)"]
        }
        env.append("\(prefix)_NAME=\(peerName)")
        for variable in peerEnv {
            let key = variable.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
            if ["HOME", "PATH", "HOSTNAME"].contains(key) { continue }
            env.append("\(prefix)_ENV_\(variable)")
        }
        return env
    }
}

extension ContainerInspect.NetworkSettingsData {
    /// The network service's view of the container, in inspect's shape.
    mutating func apply(_ view: ContainerNetworkView) {
        SandboxID = view.sandboxID
        SandboxKey = view.sandboxKey
        Ports = view.ports
        Networks = view.networks
        if let bridge = view.bridgeEndpoint {
            EndpointID = bridge.EndpointID
            Gateway = bridge.Gateway
            IPAddress = bridge.IPAddress
            IPPrefixLen = bridge.IPPrefixLen
            MacAddress = bridge.MacAddress
        }
    }
}

extension ContainerSummary {
    /// `docker ps`' PORTS: published ports, then exposed ones without a binding.
    static func ports(_ view: ContainerNetworkView) -> [PortSummary] {
        var result = view.published.map {
            PortSummary(IP: $0.hostIP, PrivatePort: $0.containerPort, PublicPort: $0.hostPort, Type: $0.proto)
        }
        for (key, bindings) in view.ports where bindings == nil {
            if let (port, proto) = PortSpecs.parseKey(key) { result.append(PortSummary(PrivatePort: port, Type: proto)) }
        }
        return result
    }
}
