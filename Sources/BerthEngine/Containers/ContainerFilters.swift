import BerthOCI
import FoundationEssentials
import Glibc

/// `docker ps --filter` and `docker container prune --filter`, with dockerd's keys.
public struct ContainerFilters: Sendable {
    let values: [String: [String]]

    static let listKeys: Set<String> = ["id", "name", "label", "status", "exited", "ancestor", "before", "since",
                                        "health", "volume", "network", "publish", "expose", "is-task", "isolation"]
    static let pruneKeys: Set<String> = ["until", "label", "label!"]
    static let statuses = ["created", "running", "paused", "restarting", "removing", "exited", "dead"]
    static let healths = ["none", "starting", "healthy", "unhealthy"]
    /// The host ports (`publish`) and container ports (`expose`) asked for, as "80/tcp".
    let publish: Set<String>
    let expose: Set<String>

    // Texts and checking order are current dockerd's (API 1.50), which lowercased "invalid filter".
    public init(_ values: [String: [String]], prune: Bool = false) throws {
        let known = prune ? Self.pruneKeys : Self.listKeys
        for key in values.keys.sorted() where !known.contains(key) {
            throw BerthError.invalidArgument("invalid filter '\(key)'")
        }
        for code in values["exited"] ?? [] where Int(code) == nil {
            throw BerthError.invalidArgument("invalid filter 'exited=\(code)': strconv.Atoi: parsing \"\(code)\": invalid syntax")
        }
        for status in values["status"] ?? [] where !Self.statuses.contains(status) {
            throw BerthError.invalidArgument("invalid filter 'status=\(status)': invalid value for state (\(status)): must be one of \(Self.statuses.joined(separator: ", "))")
        }
        if let isTask = values["is-task"] {
            let truthy = isTask.contains("1") || isTask.contains("true")
            let falsy = isTask.contains("0") || isTask.contains("false")
            if truthy == falsy { throw BerthError.invalidArgument("invalid filter 'is-task=[\(isTask.joined(separator: " "))]'") }
        }
        for health in values["health"] ?? [] where !Self.healths.contains(health) {
            throw BerthError.invalidArgument("invalid filter 'health=\(health)': invalid value for health (\(health)): must be one of \(Self.healths.joined(separator: ", "))")
        }
        publish = try Set((values["publish"] ?? []).flatMap { try Self.ports(of: $0, key: "publish") })
        expose = try Set((values["expose"] ?? []).flatMap { try Self.ports(of: $0, key: "expose") })
        if prune, let until = values["until"]?.first { _ = try DockerTimestamp.until(until) }
        self.values = values
    }

    /// Whether a container passes every filter (each key: any of its values).
    /// What the volume, network, publish and expose filters look at, besides the record.
    struct Attachments {
        var hostConfig: HostConfig?
        /// Names of the networks the container is on.
        var networks: [String] = []
        /// Their IDs, which the `network` filter matches by prefix as dockerd does.
        var networkIDs: [String] = []
        /// Its `docker ps` PORTS: published and exposed ones.
        var ports: [ContainerSummary.PortSummary] = []
        /// The image IDs the `ancestor` values stand for (ImageStore.imageAndDescendants).
        var ancestorImages: Set<String> = []
    }

    func matches(_ record: ContainerRecord, order: [String], resolve: (String) throws -> String,
                 attachments: Attachments = Attachments()) throws -> Bool {
        // An empty ID matches nothing in dockerd (its ID index refuses an empty prefix).
        if let ids = values["id"], !ids.contains(where: { !$0.isEmpty && record.ID.hasPrefix($0) }) { return false }
        if let wanted = values["network"], !wanted.contains(where: { name in
            attachments.networks.contains(name) || attachments.networkIDs.contains { !name.isEmpty && $0.hasPrefix(name) }
        }) { return false }
        if let wanted = values["volume"] {
            let hostConfig = attachments.hostConfig
            // A bind's source or destination, or a mount's.
            let points = (hostConfig?.Binds ?? []).flatMap { $0.split(separator: ":").prefix(2).map(String.init) }
                + (hostConfig?.Mounts ?? []).flatMap { [$0.Source, $0.Target].compactMap { $0 } }
                + (record.VolumeMounts ?? []).flatMap { [$0.Name, $0.Destination] }  // anonymous and inherited ones too
            if !wanted.contains(where: points.contains) { return false }
        }
        // dockerd: `publish` is a host port of the PORTS column, `expose` a container port of it.
        if !publish.isEmpty || !expose.isEmpty {
            let matched = attachments.ports.contains { port in
                publish.contains("\(port.PublicPort ?? 0)/\(port.Type)") || expose.contains("\(port.PrivatePort)/\(port.Type)")
            }
            if !matched { return false }
        }
        // No container of Berth's is a swarm task.
        if let isTask = values["is-task"], isTask.contains("true") || isTask.contains("1") { return false }
        if let names = values["name"], !names.contains(where: { Self.regex($0, matches: record.bareName) }) { return false }
        if let labels = values["label"], !labels.allSatisfy({ Self.label($0, in: record.Config.Labels ?? [:]) }) { return false }
        if let statuses = values["status"], !statuses.contains(record.State.Status) { return false }
        if let codes = values["exited"] {
            guard !record.State.isActive, record.State.FinishedAt != ContainerStateRecord.zeroTime,
                  codes.contains(String(record.State.ExitCode)) else { return false }
        }
        // dockerd resolves each ancestor to an image ID (plus the images built on it) and
        // compares the container's image ID: `busybox` also finds a container run as `mytag`.
        if values["ancestor"] != nil, !attachments.ancestorImages.contains(record.Image) { return false }
        // A stopped container keeps a health record (dockerd's "unhealthy" once its monitor stops).
        if let health = values["health"], !health.contains(record.State.Health?.Status ?? "none") { return false }
        // `before` / `since`: created before/after the named container.
        if let before = values["before"]?.first {
            let other = try resolve(before)
            guard let mine = order.firstIndex(of: record.ID), let theirs = order.firstIndex(of: other), mine > theirs else { return false }
        }
        if let since = values["since"]?.first {
            let other = try resolve(since)
            guard let mine = order.firstIndex(of: record.ID), let theirs = order.firstIndex(of: other), mine < theirs else { return false }
        }
        return true
    }

    func matchesForPrune(_ record: ContainerRecord) -> Bool {
        let labels = record.Config.Labels ?? [:]
        if let wanted = values["label"], !wanted.allSatisfy({ Self.label($0, in: labels) }) { return false }
        if let unwanted = values["label!"], unwanted.contains(where: { Self.label($0, in: labels) }) { return false }
        if let until = values["until"]?.first {
            guard let limit = DockerTimestamp.seconds(until), let created = unixSeconds(record.Created), created < limit else { return false }
        }
        return true
    }

    /// A filter value "80", "80/udp" or "8000-8080/tcp" as port keys ("80/tcp"), with dockerd's errors.
    static func ports(of filter: String, key: String) throws -> [String] {
        if filter.contains(":") { throw BerthError.invalidArgument("filter for '\(key)' should not contain ':': \(filter)") }
        let parts = filter.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let proto = parts.count > 1 && !parts[1].isEmpty ? parts[1] : "tcp"
        let range = parts.first ?? ""
        func failure(_ reason: String) -> BerthError {
            BerthError.invalidArgument("error while looking up for \(key) \(filter): \(reason)")
        }
        guard !range.isEmpty else { throw failure("empty string specified for ports") }
        let bounds = range.split(separator: "-", omittingEmptySubsequences: false).prefix(2).map(String.init)
        let numbers = try bounds.map { text -> Int in
            guard !text.isEmpty, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber) else {
                throw failure("strconv.ParseUint: parsing \"\(text)\": invalid syntax")
            }
            guard let number = UInt16(text) else { throw failure("strconv.ParseUint: parsing \"\(text)\": value out of range") }
            return Int(number)
        }
        let low = numbers[0], high = numbers.count > 1 ? numbers[1] : numbers[0]
        guard low <= high else { throw failure("invalid range specified for port: \(range)") }
        return (low...high).map { "\($0)/\(proto)" }
    }

    /// "key" or "key=value".
    static func label(_ filter: String, in labels: [String: String]) -> Bool {
        let parts = filter.split(separator: "=", maxSplits: 1).map(String.init)
        guard let value = labels[parts[0]] else { return false }
        return parts.count == 1 || parts[1] == value
    }

    static func regex(_ pattern: String, matches name: String) -> Bool {
        // Swift's own regex engine: NSRegularExpression would load ICU into the daemon.
        guard let expression = try? Regex(pattern) else { return name.contains(pattern) }
        // dockerd tries the name as it is and with its slash: `^web$` and `^/web$` both match.
        return [name, "/" + name].contains { $0.firstMatch(of: expression) != nil }
    }
}
