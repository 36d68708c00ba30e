import BerthOCI
/// One entry of `GET /events`: what happened (Type, Action) to whom (Actor), and when.
/// Encoded in dockerd's field order, with the legacy `status`/`id`/`from` fields that
/// container and image events still carry.
public struct EventMessage: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case container, image, network, volume, daemon, plugin, node, service, secret, config
    }

    public var type: Kind
    public var action: String
    public var actorID: String
    public var attributes: [String: String]
    public var scope = "local"
    /// Unix time in nanoseconds.
    public var timeNano: Int64

    public init(type: Kind, action: String, actorID: String, attributes: [String: String], timeNano: Int64) {
        self.type = type
        self.action = action
        self.actorID = actorID
        self.attributes = attributes
        self.timeNano = timeNano
    }

    /// One line of the stream: the JSON object and a newline, as Go's json.Encoder writes it.
    public var jsonLine: [UInt8] {
        var out = "{"
        // Go leaves the legacy fields out when empty (a prune's actor has no ID).
        if type == .container || type == .image {
            if !action.isEmpty { out += "\"status\":" + action.goJSONQuoted + "," }
            if !actorID.isEmpty { out += "\"id\":" + actorID.goJSONQuoted + "," }
            if type == .container, let image = attributes["image"], !image.isEmpty { out += "\"from\":" + image.goJSONQuoted + "," }
        }
        out += "\"Type\":" + type.rawValue.goJSONQuoted + ",\"Action\":" + action.goJSONQuoted
        out += ",\"Actor\":{\"ID\":" + actorID.goJSONQuoted + ",\"Attributes\":{"
        out += attributes.keys.sorted().map { $0.goJSONQuoted + ":" + attributes[$0]!.goJSONQuoted }.joined(separator: ",")
        out += "}},\"scope\":" + scope.goJSONQuoted
        out += ",\"time\":\(timeNano / 1_000_000_000),\"timeNano\":\(timeNano)}\n"
        return Array(out.utf8)
    }

}
