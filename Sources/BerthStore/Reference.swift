import BerthOCI

/// An image reference as Docker normalises it: `busybox` is docker.io/library/busybox:latest.
/// `familiar` is how the CLI shows it (busybox:latest).
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    public var domain: String
    public var path: String
    public var tag: String?
    public var digest: String?

    static let defaultDomain = "docker.io"

    public var repository: String { domain + "/" + path }

    /// busybox, user/app, localhost:5000/app: what `docker images` prints in REPOSITORY.
    public var familiarRepository: String {
        guard domain == Self.defaultDomain else { return repository }
        return path.hasPrefix("library/") ? String(path.dropFirst(8)) : path
    }

    public var familiar: String {
        var text = familiarRepository
        if let tag { text += ":" + tag }
        if let digest { text += "@" + digest }
        return text
    }

    public var description: String { familiar }

    /// Parses and normalises; a reference without tag or digest gets `latest`.
    public static func parse(_ text: String, defaultTag: Bool = true) throws -> ImageReference {
        guard !text.isEmpty, text.count <= 4096 else { throw BerthError.invalidArgument("invalid reference format") }
        var rest = Substring(text)
        var digest: String?
        if let at = rest.firstIndex(of: "@") {
            digest = String(rest[rest.index(after: at)...])
            rest = rest[..<at]
            guard let digest, digestHex(digest) != nil else { throw BerthError.invalidArgument("invalid reference format") }
        }
        var tag: String?
        if let colon = rest.lastIndex(of: ":"), !rest[rest.index(after: colon)...].contains("/") {
            tag = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
            guard let tag, Self.isValidTag(tag) else { throw BerthError.invalidArgument("invalid reference format") }
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !components.isEmpty, !components.contains(where: \.isEmpty) else {
            throw BerthError.invalidArgument("invalid reference format")
        }
        var domain = defaultDomain
        if components.count > 1, components[0].contains(".") || components[0].contains(":") || components[0] == "localhost" {
            domain = components.removeFirst()
        }
        if domain == defaultDomain && components.count == 1 { components.insert("library", at: 0) }
        let path = components.joined(separator: "/")
        for component in components where !Self.isValidPathComponent(component) {
            if component.lowercased() != component {
                throw BerthError.invalidArgument("invalid reference format: repository name (\(path)) must be lowercase")
            }
            throw BerthError.invalidArgument("invalid reference format")
        }
        if tag == nil && digest == nil && defaultTag { tag = "latest" }
        return ImageReference(domain: domain, path: path, tag: tag, digest: digest)
    }

    static func isValidTag(_ tag: String) -> Bool {
        guard let first = tag.first, tag.count <= 128, first.isLetter || first.isNumber || first == "_" else { return false }
        return tag.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }
    }

    /// Lowercase alphanumerics separated by '.', '_', '__' or runs of '-'.
    static func isValidPathComponent(_ component: String) -> Bool {
        guard let first = component.first, let last = component.last,
              first.isLowercaseAlphanumeric, last.isLowercaseAlphanumeric else { return false }
        return component.allSatisfy { $0.isLowercaseAlphanumeric || "._-".contains($0) } && !component.contains("..")
    }
}

extension Character {
    var isLowercaseAlphanumeric: Bool { isASCII && (isNumber || (isLetter && isLowercase)) }
}
