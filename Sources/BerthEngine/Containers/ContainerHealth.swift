import FoundationEssentials

/// `State.Health` of `docker inspect`: the status the probes give, the current run of failures
/// and the last results (oldest first), kept with the container's state in config.v2.json.
public struct ContainerHealth: Codable, Sendable, Equatable {
    public static let starting = "starting"
    public static let healthy = "healthy"
    public static let unhealthy = "unhealthy"
    /// dockerd keeps the last five results.
    static let logLimit = 5

    public var Status = ContainerHealth.starting
    public var FailingStreak = 0
    public var Log: [HealthProbeResult] = []

    public init() {}

    /// What `docker ps` shows in parentheses after "Up …".
    var summary: String { Status == Self.starting ? "health: starting" : Status }

    /// The health at the start of a run: starting again with no failures counted. The last
    /// run's results stay in the log, as dockerd keeps them.
    static func forNewRun(previous: ContainerHealth?, config: ContainerConfig) -> ContainerHealth? {
        guard HealthRules(config) != nil else { return nil }
        var health = previous ?? ContainerHealth()
        health.Status = starting
        health.FailingStreak = 0
        return health
    }

    /// Adds a probe's result and moves the status as dockerd does: a success makes the
    /// container healthy and clears the streak; a failure (any other exit code) counts, except
    /// while it is starting and the probe began inside the start period, and `retries`
    /// failures in a row make it unhealthy. Returns whether the status changed.
    /// `sinceStart`: seconds from the container's start to the probe's start.
    mutating func record(_ result: HealthProbeResult, rules: HealthRules, sinceStart: Double) -> Bool {
        let before = Status
        Log.append(result)
        if Log.count > Self.logLimit { Log.removeFirst(Log.count - Self.logLimit) }
        if result.ExitCode == 0 {
            FailingStreak = 0
            Status = Self.healthy
        } else if !(Status == Self.starting && sinceStart < Double(rules.startPeriod) / 1e9) {
            FailingStreak += 1
            if FailingStreak >= rules.retries { Status = Self.unhealthy }
        }
        return Status != before
    }
}

/// One probe's run in `State.Health.Log`.
public struct HealthProbeResult: Codable, Sendable, Equatable {
    public var Start: String
    public var End: String
    public var ExitCode: Int
    public var Output: String

    public init(Start: String, End: String, ExitCode: Int, Output: String) {
        self.Start = Start
        self.End = End
        self.ExitCode = ExitCode
        self.Output = Output
    }
}

/// A container's healthcheck as the monitor runs it: the probe's command line and the
/// timings with dockerd's defaults for what is unset (zero).
struct HealthRules: Sendable, Equatable {
    static let defaultInterval: Int64 = 30_000_000_000
    static let defaultTimeout: Int64 = 30_000_000_000
    static let defaultRetries = 3

    var command: [String]
    /// Nanoseconds.
    var interval: Int64
    var timeout: Int64
    var startPeriod: Int64
    var retries: Int

    /// nil when the container has no check to run: none configured, `[]` with nothing to
    /// inherit, `NONE`, or a form dockerd does not know (it only warns about those).
    init?(_ config: ContainerConfig) {
        guard let check = config.Healthcheck, let test = check.Test, let form = test.first else { return nil }
        switch form {
        case "CMD":
            command = Array(test.dropFirst())
        case "CMD-SHELL":
            // The container's shell (SHELL of the image, --shell), else /bin/sh -c.
            let shell = (config.Shell ?? []).isEmpty ? ["/bin/sh", "-c"] : config.Shell!
            command = shell + test.dropFirst()
        default:
            return nil
        }
        interval = (check.Interval ?? 0) > 0 ? check.Interval! : Self.defaultInterval
        timeout = (check.Timeout ?? 0) > 0 ? check.Timeout! : Self.defaultTimeout
        startPeriod = max(check.StartPeriod ?? 0, 0)
        retries = (check.Retries ?? 0) > 0 ? check.Retries! : Self.defaultRetries
    }
}

/// A probe's output as dockerd keeps it: stdout and stderr together, the first 4096 bytes,
/// "..." after them when there was more.
struct ProbeOutput: Sendable {
    static let limit = 4096
    private(set) var bytes: [UInt8] = []
    private(set) var truncated = false

    mutating func append<Bytes: Collection<UInt8>>(_ more: Bytes) {
        let room = Self.limit - bytes.count
        if more.count > room { truncated = true }
        if room > 0 { bytes.append(contentsOf: more.prefix(room)) }
    }

    var text: String { String(decoding: bytes, as: UTF8.self) + (truncated ? "..." : "") }
}
