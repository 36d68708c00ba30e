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
            if !action.isEmpty { out += "\"status\":" + Self.quoted(action) + "," }
            if !actorID.isEmpty { out += "\"id\":" + Self.quoted(actorID) + "," }
            if type == .container, let image = attributes["image"], !image.isEmpty { out += "\"from\":" + Self.quoted(image) + "," }
        }
        out += "\"Type\":" + Self.quoted(type.rawValue) + ",\"Action\":" + Self.quoted(action)
        out += ",\"Actor\":{\"ID\":" + Self.quoted(actorID) + ",\"Attributes\":{"
        out += attributes.keys.sorted().map { Self.quoted($0) + ":" + Self.quoted(attributes[$0]!) }.joined(separator: ",")
        out += "}},\"scope\":" + Self.quoted(scope)
        out += ",\"time\":\(timeNano / 1_000_000_000),\"timeNano\":\(timeNano)}\n"
        return Array(out.utf8)
    }

    /// A JSON string with Go's escaping (HTML-sensitive characters as \u00XX, too).
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                out += "\\u" + Self.hex4(scalar.value)
            default:
                if scalar.value < 0x20 { out += "\\u" + Self.hex4(scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    private static func hex4(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
