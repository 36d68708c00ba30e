import BerthOCI

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
        var text = "\"id\":\(id.goJSONQuoted),\"bundle\":\(bundle.goJSONQuoted),\"rootfs\":\(rootfs.goJSONQuoted)"
        text += ",\"pid\":\(pid),\"pidStartTime\":\(pidStartTime),\"created\":\(created.goJSONQuoted)"
        text += ",\"owner\":\(owner.goJSONQuoted),\"cgroupPaths\":{"
        text += cgroupPaths.keys.sorted().map { $0.goJSONQuoted + ":" + cgroupPaths[$0]!.goJSONQuoted }.joined(separator: ",")
        text += "}"
        if let seccomp { text += ",\"seccomp\":\(seccomp.rawValue.goJSONQuoted)" }
        return Array(text.utf8)
    }
}
