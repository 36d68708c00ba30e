import BerthOCI

/// `docker create --platform`: the image must be for the platform asked for, or it counts as
/// not found (404, after which the CLI tries a pull), in current dockerd's words.
struct ImagePlatform: Equatable, CustomStringConvertible {
    var os: String
    var architecture: String
    var variant: String

    /// "os[/arch[/variant]]", with the usual aliases (x86_64, aarch64) as the OCI names.
    init?(parsing text: String) {
        let parts = text.lowercased().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (1...3).contains(parts.count), !parts.contains(where: \.isEmpty) else { return nil }
        self.init(os: parts[0], architecture: parts.count > 1 ? parts[1] : "", variant: parts.count > 2 ? parts[2] : "")
    }

    init(os: String, architecture: String, variant: String) {
        self.os = os
        switch architecture {
        case "x86_64", "x86-64": self.architecture = "amd64"
        case "aarch64": self.architecture = "arm64"
        case "armhf": self.architecture = "arm"
        default: self.architecture = architecture
        }
        // arm64's only variant is its default.
        self.variant = self.architecture == "arm64" && ["8", "v8"].contains(variant) ? "" : variant
    }

    var description: String { [os, architecture, variant].filter { !$0.isEmpty }.joined(separator: "/") }

    /// What the image says it is for; an image that does not say is taken as this host's.
    static func of(_ config: ImageConfig) -> ImagePlatform {
        ImagePlatform(os: (config.os ?? "linux").lowercased(), architecture: (config.architecture ?? "amd64").lowercased(),
                      variant: (config.variant ?? "").lowercased())
    }

    /// Whether an image for `image` serves a request for this platform: the same OS, the same
    /// architecture when one is asked for, and the same variant when both name one.
    func accepts(_ image: ImagePlatform) -> Bool {
        guard os == image.os else { return false }
        guard !architecture.isEmpty else { return true }
        guard architecture == image.architecture else { return false }
        return variant.isEmpty || image.variant.isEmpty || variant == image.variant
    }

    static func check(_ requested: String?, image config: ImageConfig, reference: String) throws {
        guard let requested, !requested.isEmpty else { return }
        guard let wanted = ImagePlatform(parsing: requested) else {
            throw BerthError.invalidArgument("\"\(requested)\": unknown operating system or architecture: invalid argument")
        }
        let actual = of(config)
        guard wanted.accepts(actual) else {
            throw BerthError.notFound("image with reference \(reference) was found but does not match the specified platform: wanted \(wanted.description), actual: \(actual.description)")
        }
    }
}
