import BerthOCI

/// The `filters` of `GET /events`, matched as dockerd matches them: values of one key are
/// alternatives (labels excepted: all must hold), keys must all hold. Names match by prefix
/// of the actor's ID or name; images by ID, name, or name without its tag.
public struct EventFilter: Sendable {
    /// The keys dockerd knows; others are ignored, as current dockerd ignores them.
    public static let keys: Set<String> = [
        "container", "daemon", "event", "image", "label", "network", "scope", "type",
        "plugin", "volume", "node", "service", "secret", "config",
    ]

    let values: [String: Set<String>]

    public init(_ filters: [String: [String]] = [:]) throws {
        values = filters.filter { !$0.value.isEmpty && Self.keys.contains($0.key) }.mapValues(Set.init)
    }

    public func includes(_ event: EventMessage) -> Bool {
        matchesAction(event.action)
            && exact("type", event.type.rawValue)
            && exact("scope", event.scope)
            && EventMessage.Kind.allCases.filter { $0 != .image }.allSatisfy { kind in
                fuzzy(kind.rawValue, event.actorID) || fuzzy(kind.rawValue, event.attributes["name"] ?? "")
            }
            && matchesImage(event)
            && matchesLabels(event.attributes)
    }

    /// `exec_create: sh` is found by `event=exec_create` (a prefix match for the actions
    /// that carry their detail after a colon).
    private func matchesAction(_ action: String) -> Bool {
        let prefixed: Set<String> = ["exec_create", "exec_start", "health_status"]
        if let wanted = values["event"], !wanted.isDisjoint(with: prefixed) { return fuzzy("event", action) }
        return exact("event", action)
    }

    /// Container events by the image they were made from; image events by the image itself.
    private func matchesImage(_ event: EventMessage) -> Bool {
        let name = event.attributes[event.type == .image ? "name" : "image"] ?? ""
        return exact("image", event.actorID) || exact("image", name)
            || exact("image", Self.withoutTag(event.actorID)) || exact("image", Self.withoutTag(name))
    }

    /// `label=key` needs the attribute; `label=key=value` needs that value.
    private func matchesLabels(_ attributes: [String: String]) -> Bool {
        guard let labels = values["label"] else { return true }
        return labels.allSatisfy { label in
            let parts = label.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard let value = attributes[parts[0]] else { return false }
            return parts.count == 1 || value == parts[1]
        }
    }

    private func exact(_ key: String, _ source: String) -> Bool {
        guard let wanted = values[key] else { return true }
        return wanted.contains(source)
    }

    private func fuzzy(_ key: String, _ source: String) -> Bool {
        guard let wanted = values[key] else { return true }
        return wanted.contains { source.hasPrefix($0) }
    }

    /// "busybox:latest" → "busybox", "docker.io/library/busybox" → "busybox"; an ID stays.
    static func withoutTag(_ image: String) -> String {
        guard !image.hasPrefix("sha256:"), !image.isEmpty else { return image }
        var name = image
        if let at = name.firstIndex(of: "@") { name = String(name[..<at]) }
        if let colon = name.lastIndex(of: ":"), !name[colon...].contains("/") { name = String(name[..<colon]) }
        for prefix in ["docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/"] where name.hasPrefix(prefix) {
            return String(name.dropFirst(prefix.count))
        }
        return name
    }
}
