/// Picks the manifest of a list (OCI index, docker manifest list) for a platform, as dockerd
/// does: the same OS and architecture, and the variant when one is asked (arm64 without a
/// variant matches v8); the first match wins.
struct PlatformMatch: Equatable {
    var os: String
    var architecture: String
    var variant: String?

    /// "linux/arm64/v8", "linux/amd64" or empty (the daemon's own platform). Answers nil for
    /// text that is not a platform.
    static func parse(_ text: String?, hostArchitecture: String) -> PlatformMatch? {
        guard let text, !text.isEmpty else { return PlatformMatch(os: "linux", architecture: hostArchitecture) }
        let parts = text.lowercased().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (1...3).contains(parts.count), !parts.contains("") else { return nil }
        var match = PlatformMatch(os: parts[0], architecture: parts.count > 1 ? parts[1] : hostArchitecture,
                                  variant: parts.count > 2 ? parts[2] : nil)
        // containerd's normalisation of architecture names.
        switch match.architecture {
        case "x86_64", "x86-64": match.architecture = "amd64"
        case "aarch64": match.architecture = "arm64"
        default: break
        }
        if match.architecture == "arm64" && match.variant == "v8" { match.variant = nil }
        return match
    }

    var description: String { [os, architecture, variant].compactMap { $0 }.joined(separator: "/") }

    func matches(os: String?, architecture: String?, variant: String?) -> Bool {
        guard os == self.os, architecture == self.architecture else { return false }
        let theirs = architecture == "arm64" && variant == "v8" ? nil : variant
        return self.variant == nil || self.variant == theirs
    }
}
