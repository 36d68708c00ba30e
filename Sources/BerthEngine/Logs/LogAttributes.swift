/// The attributes dockerd attaches to a container's log records from the `labels`,
/// `labels-regex`, `env` and `env-regex` log options: the named (or matching) labels and
/// environment variables of the container, with their values. `docker logs --details` shows
/// them before each line. They are fixed at create (labels and environment never change), so
/// Berth computes them when the log is read instead of repeating them in every json-file
/// record; journald entries carry them as fields, for journalctl's sake.
enum LogAttributes {
    static func make(options: [String: String], labels: [String: String], environment: [String]) -> [String: String] {
        var attributes: [String: String] = [:]
        func names(_ key: String) -> [String] {
            (options[key] ?? "").split(separator: ",").map(String.init).filter { !$0.isEmpty }
        }
        func matching(_ key: String, in keys: some Sequence<String>) -> [String] {
            guard let pattern = options[key], !pattern.isEmpty, let regex = try? Regex(pattern) else { return [] }
            return keys.filter { $0.firstMatch(of: regex) != nil }
        }
        for name in names("labels") { if let value = labels[name] { attributes[name] = value } }
        for name in matching("labels-regex", in: labels.keys) { attributes[name] = labels[name] }
        var variables: [String: String] = [:]
        for entry in environment {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2 { variables[String(parts[0])] = String(parts[1]) }
        }
        for name in names("env") { if let value = variables[name] { attributes[name] = value } }
        for name in matching("env-regex", in: variables.keys) { attributes[name] = variables[name] }
        return attributes
    }

    /// The attributes as journald fields, as dockerd's journald driver writes them: names in
    /// upper case, every byte other than a letter or digit made `_`, leading `_` dropped
    /// (journald's rule for field names; names it would refuse are left out, and so are the
    /// names of the fields the shim writes itself).
    static func journalFields(_ attributes: [String: String]) -> [String: String] {
        var fields: [String: String] = [:]
        for (key, value) in attributes {
            var name = ""
            for byte in key.utf8 {
                var character = UInt8(ascii: "_")
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"): character = byte - 32
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): character = byte
                default: break
                }
                if name.isEmpty && character == UInt8(ascii: "_") { continue }
                name.unicodeScalars.append(Unicode.Scalar(character))
            }
            guard let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first), name.utf8.count <= 64,
                  !ownJournalFields.contains(name), !name.hasPrefix("CONTAINER_") else { continue }
            fields[name] = value
        }
        return fields
    }

    static let ownJournalFields: Set<String> = ["MESSAGE", "PRIORITY", "IMAGE_NAME", "SYSLOG_IDENTIFIER", "SYSLOG_TIMESTAMP"]

    /// What dockerd reads back from a journald entry as its attributes: every field it did not
    /// write for itself, so the attribute fields and IMAGE_NAME.
    static func journalDetails(_ attributes: [String: String], imageName: String) -> [String: String] {
        var details = journalFields(attributes)
        details["IMAGE_NAME"] = imageName
        return details
    }

    /// `key=value` pairs sorted by key, each side escaped as a URL query, joined by commas:
    /// the prefix dockerd writes for `--details`.
    static func detailsPrefix(_ attributes: [String: String]) -> String {
        attributes.sorted { $0.key < $1.key }.map { queryEscaped($0.key) + "=" + queryEscaped($0.value) }.joined(separator: ",")
    }

    /// Go's url.QueryEscape: letters, digits and `-_.~` stay, a space becomes `+`, every other
    /// byte `%XX`.
    static func queryEscaped(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "):
                out += "+"
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
            }
        }
        return out
    }
}
