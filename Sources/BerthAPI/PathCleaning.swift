import BerthOCI

/// dockerd's router (gorilla/mux) cleans the decoded path before routing and sends a client
/// whose path is not clean ("//containers/json", "/containers/%2Fweb/json", "/a/../b") a 301
/// to the clean one, with the query kept. A trailing slash is kept, so "/containers/json/"
/// stays itself and finds no route.
enum PathCleaning {
    /// The Location for a request whose path is not clean; nil when it is clean.
    static func redirect(for uri: String) -> String? {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let rawPath = String(parts[0])
        let path = rawPath.percentDecoded ?? rawPath
        let cleaned = clean(path)
        guard cleaned != path else { return nil }
        return escapePath(cleaned) + (parts.count > 1 ? "?" + parts[1] : "")
    }

    /// Go's path.Clean, then the trailing slash put back (gorilla's cleanPath).
    static func clean(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        var elements: [Substring] = []
        for element in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch element {
            case ".": continue
            case "..": if !elements.isEmpty { elements.removeLast() }
            default: elements.append(element)
            }
        }
        var cleaned = "/" + elements.joined(separator: "/")
        if path.hasSuffix("/") && cleaned != "/" { cleaned += "/" }
        return cleaned
    }

    /// Go's URL path escaping: letters, digits and `-_.~$&+,/:;=@` stay, the rest is %XX.
    static func escapePath(_ path: String) -> String {
        var escaped = ""
        for byte in path.utf8 {
            let character = Character(Unicode.Scalar(byte))
            if byte < 0x80 && (character.isLetter || character.isNumber || "-_.~$&+,/:;=@".contains(character)) {
                escaped.append(character)
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                escaped += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return escaped
    }
}
