import BerthOCI

/// What `POST /build` asks for (the classic builder's query options).
public struct BuildRequest: Sendable {
    /// The spooled context tar (plain or compressed); nil when the body was empty.
    public var contextFile: String?
    /// `remote=`: a URL to fetch the context from (an archive, a plain Dockerfile, a git
    /// repository) instead of the body.
    public var remote: String?
    /// Stops the remote context's download or clone (the client went away).
    public var cancellation = TransferCancellation()
    /// The Dockerfile's path in the context.
    public var dockerfile: String
    public var tags: [String]
    /// `--build-arg`: a nil value is an argument named without a value the CLI could not fill.
    public var buildArgs: [String: String?]
    public var labels: [String: String]
    public var noCache: Bool
    /// Remove each step's container once committed (`--rm`, on by default).
    public var remove: Bool
    /// Remove them even when the step failed (`--force-rm`).
    public var forceRemove: Bool
    /// Send only the image ID (`-q`); the progress goes out only when the build fails.
    public var quiet: Bool
    public var target: String?
    /// `--pull`: pull the base images even when they are here.
    public var pull: Bool
    /// `--cache-from`: when given, only steps found in these images' lineage are reused.
    public var cacheFrom: [String] = []
    /// What the steps' containers run with: `--network`, `--add-host`, `--memory`,
    /// `--cpu-shares`, `--shm-size`, `--ulimit`, `--cgroup-parent` ...
    public var hostConfig: HostConfig = HostConfig()

    public init(contextFile: String?, dockerfile: String = "Dockerfile", tags: [String] = [], buildArgs: [String: String?] = [:],
                labels: [String: String] = [:], noCache: Bool = false, remove: Bool = true, forceRemove: Bool = false,
                quiet: Bool = false, target: String? = nil, pull: Bool = false) {
        self.contextFile = contextFile
        self.dockerfile = dockerfile
        self.tags = tags
        self.buildArgs = buildArgs
        self.labels = labels
        self.noCache = noCache
        self.remove = remove
        self.forceRemove = forceRemove
        self.quiet = quiet
        self.target = target
        self.pull = pull
    }
}

/// One message of the build's JSON stream.
public enum BuildMessage: Sendable, Equatable {
    /// Progress text (`{"stream": ...}`).
    case stream(String)
    /// The ID of the image a stage ended with (`{"aux": {"ID": ...}}`).
    case imageID(String)
    /// The progress of a base image's pull, as `docker pull` shows it.
    case pull(PullMessage)
}

/// A build that failed after its stream began: sent as `errorDetail`; `code` is the exit
/// code of a failed RUN (the CLI exits with it).
public struct BuildFailure: Error, Sendable {
    public var message: String
    public var code: Int?

    public init(_ message: String, code: Int? = nil) {
        self.message = message
        self.code = code
    }
}
