// The runtime's state file written and read without Codable (see JSONValue for why): every
// create writes it, every start, kill and delete reads it.

extension SavedContainer {
    init(json: JSONValue) throws {
        let fields = try JSONFields(json, at: "")
        let seccomp = try fields.string("seccomp")
        self.init(id: try fields.string(required: "id"), bundle: try fields.string(required: "bundle"),
                  rootfs: try fields.string(required: "rootfs"), pid: try fields.integer(required: "pid"),
                  pidStartTime: try fields.integer(required: "pidStartTime"), created: try fields.string(required: "created"),
                  owner: try fields.string(required: "owner"), cgroupPaths: try fields.stringMap("cgroupPaths") ?? [:],
                  seccomp: try seccomp.map {
                      guard let source = SeccompSource(rawValue: $0) else { throw JSONShapeError(path: "seccomp", expected: "a seccomp source") }
                      return source
                  })
    }

    /// The record as a JSON object's members, without its braces (the config follows them).
    var jsonMembers: [UInt8] {
        var text = "\"id\":\(JSONText.quoted(id)),\"bundle\":\(JSONText.quoted(bundle)),\"rootfs\":\(JSONText.quoted(rootfs))"
        text += ",\"pid\":\(pid),\"pidStartTime\":\(pidStartTime),\"created\":\(JSONText.quoted(created))"
        text += ",\"owner\":\(JSONText.quoted(owner)),\"cgroupPaths\":{"
        text += cgroupPaths.keys.sorted().map { JSONText.quoted($0) + ":" + JSONText.quoted(cgroupPaths[$0]!) }.joined(separator: ",")
        text += "}"
        if let seccomp { text += ",\"seccomp\":\(JSONText.quoted(seccomp.rawValue))" }
        return Array(text.utf8)
    }
}

public enum JSONText {
    /// A string as a JSON string literal.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
