import BerthOCI
import FoundationEssentials
import Glibc

/// `docker ps --filter` and `docker container prune --filter`, with dockerd's keys.
public struct ContainerFilters: Sendable {
    let values: [String: [String]]

    static let listKeys: Set<String> = ["id", "name", "label", "status", "exited", "ancestor", "before", "since",
                                        "health", "volume", "network", "publish", "expose", "is-task"]
    static let pruneKeys: Set<String> = ["until", "label", "label!"]
    static let statuses: Set<String> = ["created", "restarting", "running", "removing", "paused", "exited", "dead"]

    public init(_ values: [String: [String]], prune: Bool = false) throws {
        let known = prune ? Self.pruneKeys : Self.listKeys
        for key in values.keys where !known.contains(key) {
            throw BerthError.invalidArgument("Invalid filter '\(key)'")
        }
        for status in values["status"] ?? [] where !Self.statuses.contains(status) {
            throw BerthError.invalidArgument("Invalid filter 'status=\(status)'")
        }
        for code in values["exited"] ?? [] where Int(code) == nil {
            throw BerthError.invalidArgument("Invalid filter 'exited=\(code)'")
        }
        for health in values["health"] ?? [] where !["starting", "healthy", "unhealthy", "none"].contains(health) {
            throw BerthError.invalidArgument("Unrecognised filter value for health: \(health)")
        }
        self.values = values
    }

    /// Whether a container passes every filter (each key: any of its values).
    /// What the volume, network, publish and expose filters look at, besides the record.
    struct Attachments {
        var hostConfig: HostConfig?
        /// Names and IDs of the networks the container is on.
        var networks: [String] = []
    }

    func matches(_ record: ContainerRecord, order: [String], resolve: (String) throws -> String,
                 attachments: Attachments = Attachments()) throws -> Bool {
        if let ids = values["id"], !ids.contains(where: { record.ID.hasPrefix($0) }) { return false }
        if let wanted = values["network"], !wanted.contains(where: attachments.networks.contains) { return false }
        if let wanted = values["volume"] {
            let hostConfig = attachments.hostConfig
            // A bind's source or destination, or a mount's.
            let points = (hostConfig?.Binds ?? []).flatMap { $0.split(separator: ":").prefix(2).map(String.init) }
                + (hostConfig?.Mounts ?? []).flatMap { [$0.Source, $0.Target].compactMap { $0 } }
                + (record.VolumeMounts ?? []).flatMap { [$0.Name, $0.Destination] }  // anonymous and inherited ones too
            if !wanted.contains(where: points.contains) { return false }
        }
        if let wanted = values["publish"] {
            let ports = Array((attachments.hostConfig?.PortBindings ?? [:]).keys)
            if !(try wanted.contains { try Self.port($0, matchesAnyOf: ports) }) { return false }
        }
        if let wanted = values["expose"] {
            let ports = Array((record.Config.ExposedPorts ?? [:]).keys)
            if !(try wanted.contains { try Self.port($0, matchesAnyOf: ports) }) { return false }
        }
        if let names = values["name"], !names.contains(where: { Self.regex($0, matches: record.bareName) }) { return false }
        if let labels = values["label"], !labels.allSatisfy({ Self.label($0, in: record.Config.Labels ?? [:]) }) { return false }
        if let statuses = values["status"], !statuses.contains(record.State.Status) { return false }
        if let codes = values["exited"] {
            guard !record.State.isActive, record.State.FinishedAt != ContainerStateRecord.zeroTime,
                  codes.contains(String(record.State.ExitCode)) else { return false }
        }
        if let ancestors = values["ancestor"] {
            let image = record.Config.Image ?? ""
            let matched = ancestors.contains { ancestor in
                ancestor == image || ancestor == record.Image || record.Image.dropFirst(7).hasPrefix(ancestor)
                    || (image + ":latest") == ancestor || image == ancestor + ":latest"
            }
            if !matched { return false }
        }
        // A stopped container keeps the health its last run ended with, as in dockerd.
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
            guard let limit = Self.time(until), let created = unixSeconds(record.Created), created < limit else { return false }
        }
        return true
    }

    /// A filter value "80", "80/udp" or "8000-8080/tcp" against port keys like "80/tcp".
    static func port(_ filter: String, matchesAnyOf ports: [String]) throws -> Bool {
        let parts = filter.split(separator: "/", maxSplits: 1)
        let proto = parts.count > 1 ? String(parts[1]) : "tcp"
        let bounds = parts.first.map { $0.split(separator: "-", maxSplits: 1).map { Int($0) } } ?? []
        guard let low = bounds.first ?? nil, let high = bounds.count > 1 ? bounds[1] : low, low <= high else {
            throw BerthError.invalidArgument("invalid port filter '\(filter)'")
        }
        return ports.contains { key in
            let keyParts = key.split(separator: "/", maxSplits: 1)
            guard let number = Int(keyParts[0]) else { return false }
            return (keyParts.count > 1 ? String(keyParts[1]) : "tcp") == proto && (low...high).contains(number)
        }
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

    /// A unix time, an RFC 3339 time, or a duration ("10m") before now.
    static func time(_ text: String) -> Double? {
        if let seconds = Double(text) { return seconds }
        if let seconds = unixSeconds(text) { return seconds }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600]
        if let unit = text.last, let scale = units[unit], let amount = Double(text.dropLast()) {
            return Date().timeIntervalSince1970 - amount * scale
        }
        return nil
    }
}
