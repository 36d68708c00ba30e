import Glibc

/// The `reference=` filter of `docker images`: a pattern in path-match syntax (a `*` stops at
/// a `/`) names a tag or digest reference by its familiar form with or without the tag
/// ("busybox:1.36", "busybox") or by its full one ("docker.io/library/busybox:1.36",
/// "docker.io/library/busybox"). dockerd lists only the references that match.
public struct ReferenceFilter: Sendable {
    public let patterns: [String]

    public init(_ patterns: [String]) { self.patterns = patterns }

    /// `name` as the store lists it: "busybox:latest" or "busybox@sha256:...".
    public func matches(_ name: String) -> Bool {
        guard let reference = try? ImageReference.parse(name, defaultTag: false) else { return false }
        var full = reference.repository
        if let tag = reference.tag { full += ":" + tag }
        if let digest = reference.digest { full += "@" + digest }
        let targets = [name, reference.familiarRepository, full, reference.repository]
        return patterns.contains { pattern in
            targets.contains { fnmatch(pattern, $0, FNM_PATHNAME) == 0 }
        }
    }
}
