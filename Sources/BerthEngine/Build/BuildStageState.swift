import BerthOCI
import FoundationEssentials

/// Where a stage stands between steps: its current image, the config the next image gets,
/// and the build arguments it declared.
struct BuildStageState {
    /// nil while the stage is on `scratch` and nothing was committed yet.
    var imageID: String?
    /// Whether the current image has a layer (a container root can be made from it).
    var hasLayers: Bool
    var config: ContainerConfig
    var author: String?
    var architecture: String?
    var os: String?
    var history: [ImageConfig.History]
    var diffIDs: [String]
    /// ARG name → value (nil: declared without a value), in declaration order.
    var declaredArgs: [(name: String, value: String?)] = []
    /// A CMD was given in this stage: a later ENTRYPOINT keeps it.
    var cmdSet = false

    static let defaultShell = ["/bin/sh", "-c"]
    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    var shell: [String] { (config.Shell ?? []).isEmpty ? Self.defaultShell : config.Shell! }

    /// The arguments a RUN sees, as "K=V", sorted by name: declared ones with a value, not
    /// shadowed by an ENV of the same name.
    var argumentEnvironment: [String] {
        let envNames = Set((config.Env ?? []).map { String($0.prefix { $0 != "=" }) })
        var seen = Set<String>()
        var entries: [(String, String)] = []
        for (name, value) in declaredArgs.reversed() where !seen.contains(name) {
            seen.insert(name)
            if let value, !envNames.contains(name) { entries.append((name, value)) }
        }
        return entries.sorted { $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }
    }

    /// The variables a Dockerfile word is expanded with: the arguments, then ENV over them.
    func words(escape: Character) -> DockerfileWords {
        DockerfileWords(escape: escape, environment: DockerfileWords.environment(argumentEnvironment + (config.Env ?? [])))
    }

    /// The image's config JSON as the builder reads it (SHELL included).
    struct StoredImage: Decodable {
        var architecture: String?
        var os: String?
        var author: String?
        var config: ContainerConfig?
        var container_config: ContainerConfig?
        var history: [ImageConfig.History]?
        var rootfs: ImageConfig.RootFS?
    }

    init(imageID: String?, stored: StoredImage?, hasLayers: Bool) {
        self.imageID = imageID
        self.hasLayers = hasLayers
        var config = stored?.config ?? ContainerConfig()
        config.Hostname = nil
        config.Image = imageID
        config.OpenStdin = false
        config.StdinOnce = false
        // A stage starts with the default PATH when its base sets none (FROM scratch), as with dockerd.
        if !(config.Env ?? []).contains(where: { $0.hasPrefix("PATH=") }) {
            config.Env = (config.Env ?? []) + ["PATH=" + Self.defaultPath]
        }
        self.config = config
        author = stored?.author
        architecture = stored?.architecture
        os = stored?.os
        history = stored?.history ?? []
        diffIDs = stored?.rootfs?.diff_ids ?? []
    }
}
