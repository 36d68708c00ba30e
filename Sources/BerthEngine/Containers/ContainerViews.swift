import BerthNetwork
import BerthOCI
import FoundationEssentials
import Glibc

/// One row of `GET /containers/json` (`docker ps`).
public struct ContainerSummary: Encodable, Sendable {
    public struct HostConfigSummary: Encodable, Sendable { public var NetworkMode: String }
    public struct NetworkSettingsSummary: Encodable, Sendable { public var Networks: [String: EndpointView] }
    /// One PORTS entry of `docker ps`; unpublished exposed ports have no IP or PublicPort.
    public struct PortSummary: Encodable, Sendable {
        public var IP: String?
        public var PrivatePort: Int
        public var PublicPort: Int?
        public var `Type`: String
    }
    public var Id: String
    public var Names: [String]
    public var Image: String
    public var ImageID: String
    public var Command: String
    public var Created: Int64
    public var Ports: [PortSummary] = []
    public var SizeRw: Int64?
    public var SizeRootFs: Int64?
    public var Labels: [String: String]
    public var State: String
    public var Status: String
    public var HostConfig: HostConfigSummary
    public var NetworkSettings: NetworkSettingsSummary
    public var Mounts: [MountView] = []
}

/// `GET /containers/{id}/json` (`docker inspect`).
public struct ContainerInspect: Encodable, Sendable {
    public struct GraphDriverData: Encodable, Sendable {
        public var Data: [String: String]
        public var Name = "overlay2"
    }
    public struct NetworkSettingsData: Encodable, Sendable {
        public var Bridge = ""
        public var SandboxID = ""
        public var SandboxKey = ""
        public var Ports: [String: [PortBindingView]?] = [:]
        public var HairpinMode = false
        public var LinkLocalIPv6Address = ""
        public var LinkLocalIPv6PrefixLen = 0
        public var SecondaryIPAddresses: [String]? = nil
        public var SecondaryIPv6Addresses: [String]? = nil
        public var EndpointID = ""
        public var Gateway = ""
        public var GlobalIPv6Address = ""
        public var GlobalIPv6PrefixLen = 0
        public var IPAddress = ""
        public var IPPrefixLen = 0
        public var IPv6Gateway = ""
        public var MacAddress = ""
        public var Networks: [String: EndpointView] = [:]

        enum CodingKeys: String, CodingKey {
            case Bridge, SandboxID, SandboxKey, Ports, HairpinMode, LinkLocalIPv6Address, LinkLocalIPv6PrefixLen
            case SecondaryIPAddresses, SecondaryIPv6Addresses, EndpointID, Gateway, GlobalIPv6Address, GlobalIPv6PrefixLen
            case IPAddress, IPPrefixLen, IPv6Gateway, MacAddress, Networks
        }

        /// Every field, the never-set secondary address lists as null, as dockerd writes them.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(Bridge, forKey: .Bridge)
            try c.encode(SandboxID, forKey: .SandboxID)
            try c.encode(SandboxKey, forKey: .SandboxKey)
            try c.encode(Ports, forKey: .Ports)
            try c.encode(HairpinMode, forKey: .HairpinMode)
            try c.encode(LinkLocalIPv6Address, forKey: .LinkLocalIPv6Address)
            try c.encode(LinkLocalIPv6PrefixLen, forKey: .LinkLocalIPv6PrefixLen)
            try c.encode(SecondaryIPAddresses, forKey: .SecondaryIPAddresses)
            try c.encode(SecondaryIPv6Addresses, forKey: .SecondaryIPv6Addresses)
            try c.encode(EndpointID, forKey: .EndpointID)
            try c.encode(Gateway, forKey: .Gateway)
            try c.encode(GlobalIPv6Address, forKey: .GlobalIPv6Address)
            try c.encode(GlobalIPv6PrefixLen, forKey: .GlobalIPv6PrefixLen)
            try c.encode(IPAddress, forKey: .IPAddress)
            try c.encode(IPPrefixLen, forKey: .IPPrefixLen)
            try c.encode(IPv6Gateway, forKey: .IPv6Gateway)
            try c.encode(MacAddress, forKey: .MacAddress)
            try c.encode(Networks, forKey: .Networks)
        }
    }
    public var Id: String
    public var Created: String
    public var Path: String
    public var Args: [String]
    public var State: ContainerStateRecord
    public var Image: String
    public var ResolvConfPath: String
    public var HostnamePath: String
    public var HostsPath: String
    public var LogPath: String
    public var Name: String
    public var RestartCount: Int
    public var Driver = "overlay2"
    public var Platform = "linux"
    public var MountLabel = ""
    public var ProcessLabel = ""
    public var AppArmorProfile = ""
    /// null, not absent, when there are none (Go leaves no omitempty on it).
    @StringOrList public var ExecIDs: [String]?
    public var HostConfig: HostConfig
    public var GraphDriver: GraphDriverData
    public var SizeRw: Int64?
    public var SizeRootFs: Int64?
    public var Mounts: [MountView] = []
    public var Config: ContainerConfig
    public var NetworkSettings = NetworkSettingsData()
}

extension ContainerService {
    public func inspect(_ nameOrID: String, size: Bool) throws -> ContainerInspect {
        let entry = try entry(nameOrID)
        let record = entry.record
        let layer = images.snapshotter.root + "/" + record.ID
        // As dockerd: the execs not yet ended (an ended one stays inspectable by its ID).
        let liveExecs = entry.execs.filter { execs[$0].map { !$0.started || $0.Running } ?? false }.sorted()
        var inspect = ContainerInspect(
            Id: record.ID, Created: record.Created, Path: record.Path, Args: record.Args, State: record.State,
            Image: record.Image, ResolvConfPath: record.ResolvConfPath, HostnamePath: record.HostnamePath,
            HostsPath: record.HostsPath, LogPath: logDriver(entry.hostConfig) == "json-file" ? record.LogPath : "",
            Name: record.Name, RestartCount: record.RestartCount,
            ExecIDs: liveExecs.isEmpty ? nil : liveExecs, HostConfig: entry.hostConfig,
            GraphDriver: .init(Data: ["MergedDir": layer + "/merged", "UpperDir": layer + "/diff", "WorkDir": layer + "/work"]),
            Config: record.Config)
        if let lower = images.lowerDirectories(record.Image) { inspect.GraphDriver.Data["LowerDir"] = lower }
        inspect.HostConfig.Links = shownLinks(entry)
        // dockerd counts a restarting container as running (Pid 0); compose and docker-py read it.
        if record.State.Restarting { inspect.State.Running = true }
        // dockerd fills these paths in as its first start sets each file up, and keeps them
        // when a later step fails; until a start succeeds, a path shows once its file exists.
        if record.State.StartedAt == ContainerStateRecord.zeroTime {
            func made(_ path: String) -> String { !path.isEmpty && access(path, F_OK) == 0 ? path : "" }
            inspect.ResolvConfPath = made(inspect.ResolvConfPath)
            inspect.HostnamePath = made(inspect.HostnamePath)
            inspect.HostsPath = made(inspect.HostsPath)
            inspect.LogPath = made(inspect.LogPath)
        }
        inspect.Mounts = MountView.all(record: record, hostConfig: entry.hostConfig, volumes: volumes, daemonRoot: paths.dataRoot, snapshotter: images.snapshotter)
        if size {
            inspect.SizeRw = ContainerRoot.writableSize(record.ID, snapshotter: images.snapshotter)
            inspect.SizeRootFs = (inspect.SizeRw ?? 0) + ((try? images.inspect(record.Image).Size) ?? 0)
        }
        let view = network?.views.view(record.ID)
        if let view { inspect.NetworkSettings.apply(view) }  // network
        inspect.NetworkSettings.Networks = shownNetworks(view, hostConfig: entry.hostConfig, record: record)
        return inspect
    }

    /// HostConfig.Links as dockerd shows them, "/target:/me/alias" with the target's name of
    /// now, and null when there are none (compose sends `[]`).
    private func shownLinks(_ entry: Entry) -> [String]? {
        let links = (entry.hostConfig.Links ?? []).map { link -> String in
            let target = Self.linkTarget(link)
            let name = (try? resolve(target)).flatMap { entries[$0]?.record.bareName } ?? target
            return "/\(name):/\(entry.record.bareName)/\(Self.linkAlias(link))"
        }
        return links.isEmpty ? nil : links
    }

    /// The list encoded as `GET /containers/json` answers it. Clients poll it, so an answer
    /// is reused until a container changes or the clock reaches the next second (the STATUS
    /// column counts whole seconds).
    public func listJSON(all: Bool, limit: Int?, size: Bool, filters: ContainerFilters, query: String) throws -> [UInt8] {
        let second = Int(Date().timeIntervalSince1970)
        let version = stateVersion &+ (network?.views.version ?? 0) << 32
        if !size, let cached = listCache, cached.query == query, cached.version == version, cached.second == second {
            return cached.body
        }
        let body = ContainerSummary.json(try list(all: all, limit: limit, size: size, filters: filters))
        if !size { listCache = (query, version, second, body) }
        return body
    }

    public func list(all: Bool, limit: Int?, size: Bool, filters: ContainerFilters) throws -> [ContainerSummary] {
        var records = entries.values.map(\.record).sorted { $0.Created > $1.Created }
        let sequence = records.map(\.ID)
        // A positive limit lists stopped containers too; docker-py sends limit=-1 for none.
        // As in dockerd, a status filter lists every container (`ps --filter status=exited`).
        if !all && (limit ?? 0) <= 0 && filters.values["status"] == nil { records.removeAll { !$0.State.isActive } }
        let ancestorImages = (filters.values["ancestor"] ?? []).reduce(into: Set<String>()) {
            $0.formUnion(images.imageAndDescendants($1))
        }
        // What the filters look at is gathered only when there are some (plain `docker ps`).
        if !filters.values.isEmpty {
            records = try records.filter {
                let hostConfig = entries[$0.ID]?.hostConfig
                // "default" is the bridge, by name, as dockerd files it.
                let mode = hostConfig?.NetworkMode ?? "default"
                let view = network?.views.view($0.ID)  // network
                let shown = shownNetworks(view, hostConfig: hostConfig, record: $0)
                // A container sharing another's network is on none of its own (dockerd lists none).
                let own = mode.hasPrefix("container:") ? [] : [mode == "default" ? "bridge" : mode]
                let networks = own + shown.keys
                let ports = view.map(ContainerSummary.ports) ?? []
                return try filters.matches($0, order: sequence, resolve: { name in
                    do { return try self.resolve(name) } catch { throw BerthError.notFound("no such container \(name)") }
                }, attachments: .init(hostConfig: hostConfig, networks: networks,
                                      networkIDs: shown.values.map(\.NetworkID).filter { !$0.isEmpty }, ports: ports,
                                      ancestorImages: ancestorImages))
            }
        }
        if let limit, limit > 0 { records = Array(records.prefix(limit)) }
        let now = Date().timeIntervalSince1970
        let linkNames = linkNames()
        // dockerd shows the name the container was made from while it still names the same
        // image; once that tag is gone or moved, the image's ID.
        var currentIDs: [String: String?] = [:]
        func shownImage(_ record: ContainerRecord) -> String {
            guard let name = record.Config.Image, !name.isEmpty, name != record.Image else { return record.Image }
            if currentIDs[name] == nil { currentIDs[name] = .some(images.currentID(of: name)) }
            return currentIDs[name]! == record.Image ? name : record.Image
        }
        return records.map { record in
            var summary = ContainerSummary(
                Id: record.ID, Names: ["/" + record.bareName] + (linkNames[record.ID] ?? []), Image: shownImage(record),
                ImageID: record.Image, Command: ([record.Path] + record.Args.map(Self.quotedForCommand)).joined(separator: " "),
                Created: Int64(unixSeconds(record.Created) ?? 0), Labels: record.Config.Labels ?? [:],
                State: record.State.Status, Status: Self.describe(record.State, now: now),
                HostConfig: .init(NetworkMode: entries[record.ID]?.hostConfig.NetworkMode ?? "bridge"),
                NetworkSettings: .init(Networks: [:]))
            let view = network?.views.view(record.ID)
            if let view { summary.Ports = ContainerSummary.ports(view) }  // network
            // dockerd's list copies an endpoint's addresses and IDs, not its aliases, links,
            // driver options or DNS names.
            summary.NetworkSettings.Networks = shownNetworks(view, hostConfig: entries[record.ID]?.hostConfig, record: record)
                .mapValues { endpoint in
                    var listed = endpoint
                    listed.Aliases = nil
                    listed.Links = nil
                    listed.DriverOpts = nil
                    listed.DNSNames = nil
                    return listed
                }
            if let hostConfig = entries[record.ID]?.hostConfig {
                summary.Mounts = MountView.all(record: record, hostConfig: hostConfig, volumes: volumes, daemonRoot: paths.dataRoot, snapshotter: images.snapshotter)
            }
            if size {
                // SIZE shows "<rw> (virtual <rw + image>)".
                summary.SizeRw = ContainerRoot.writableSize(record.ID, snapshotter: images.snapshotter)
                summary.SizeRootFs = (summary.SizeRw ?? 0) + ((try? images.inspect(record.Image).Size) ?? 0)
            }
            return summary
        }
    }

    /// dockerd shows an argument with spaces in single quotes ("sh -c 'exit 3'"); only a
    /// space counts (a tab does not), and the program's path is shown as it is.
    static func quotedForCommand(_ word: String) -> String {
        word.contains(" ") ? "'" + word + "'" : word
    }

    /// `docker ps`' STATUS column: "Up 5 seconds", "Exited (0) 2 minutes ago", "Created".
    static func describe(_ state: ContainerStateRecord, now: Double) -> String {
        func since(_ time: String) -> String {
            HumanDuration.describe(seconds: now - (unixSeconds(time) ?? now))
        }
        if state.Restarting {
            return "Restarting (\(state.ExitCode)) \(since(state.FinishedAt)) ago"
        }
        if state.Running {
            if state.Paused { return "Up \(since(state.StartedAt)) (Paused)" }
            return "Up \(since(state.StartedAt))" + (state.Health.map { " (\($0.summary))" } ?? "")
        }
        switch state.Status {
        case "removing": return "Removal In Progress"
        case "dead": return "Dead"
        case "created": return "Created"
        default:
            if state.FinishedAt == ContainerStateRecord.zeroTime { return "Created" }
            return "Exited (\(state.ExitCode)) \(since(state.FinishedAt)) ago"
        }
    }

    func logDriver(_ hostConfig: HostConfig) -> String {
        let type = hostConfig.LogConfig?.Type ?? ""
        return type.isEmpty ? settings.logDriver : type
    }
}

/// Go's units.HumanDuration, which `docker ps` uses.
enum HumanDuration {
    static func describe(seconds: Double) -> String {
        let whole = Int(seconds)
        if whole < 1 { return "Less than a second" }
        if whole == 1 { return "1 second" }
        if whole < 60 { return "\(whole) seconds" }
        let minutes = Int(seconds / 60)
        if minutes == 1 { return "About a minute" }
        if minutes < 60 { return "\(minutes) minutes" }
        let hours = Int((seconds / 3600).rounded())
        if hours == 1 { return "About an hour" }
        if hours < 48 { return "\(hours) hours" }
        if hours < 24 * 7 * 2 { return "\(hours / 24) days" }
        if hours < 24 * 30 * 2 { return "\(hours / 24 / 7) weeks" }
        if hours < 24 * 365 * 2 { return "\(hours / 24 / 30) months" }
        return "\(hours / 24 / 365) years"
    }
}
