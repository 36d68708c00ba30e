import BerthOCI
import FoundationEssentials
import Glibc

/// What the daemon gives every container unless it asks otherwise.
public struct ContainerDefaults: Sendable {
    public var host: HostFacts
    /// daemon.json `log-driver` / `log-opts`.
    public var logDriver: String
    public var logOptions: [String: String]
    /// berth-init, bound at /sbin/docker-init for `--init`.
    public var initPath: String
    /// Each container's cgroup is `<cgroupParent>/<id>`.
    public var cgroupParent: String
    /// Ulimits, `--init` and the seccomp profile every container starts from.
    public var specDefaults: DaemonSpecDefaults

    /// dockerd's defaults for HostConfig.MaskedPaths and ReadonlyPaths.
    static let maskedPaths = ["/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                              "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"]
    static let readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

    public init(host: HostFacts, logDriver: String, logOptions: [String: String], initPath: String, cgroupParent: String,
                specDefaults: DaemonSpecDefaults) {
        self.host = host
        self.cgroupParent = cgroupParent
        self.specDefaults = specDefaults
        self.logDriver = logDriver
        self.logOptions = logOptions
        self.initPath = initPath
    }
}

/// A container's log settings: its LogConfig over the daemon's, checked as dockerd does.
struct LogSettings: Sendable {
    static let drivers: Set<String> = Set(["json-file", "local", "none", "journald"] + RemoteLogDriver.allCases.map(\.rawValue))
    /// dockerd's other built-in drivers on Linux: Berth says it has not got them, not that they
    /// do not exist. (etwlogs is Windows's own: a Linux dockerd finds no such plugin.)
    static let unimplementedDrivers: Set<String> = Set(["syslog", "fluentd", "gelf", "splunk", "awslogs", "gcplogs", "logentries"])
        .subtracting(drivers)
    static let jsonFileOptions: Set<String> = ["max-size", "max-file", "compress", "labels", "labels-regex", "env", "env-regex", "tag"]
    static let journaldOptions: Set<String> = ["tag", "labels", "labels-regex", "env", "env-regex"]
    /// Taken by every driver. Berth's shim writes each line as it comes, so `non-blocking`
    /// never has to drop one: it is checked and kept, and delivery stays lossless.
    static let deliveryOptions: Set<String> = ["mode", "max-buffer-size"]
    static let modes: Set<String> = ["", "blocking", "non-blocking"]

    var driver: String
    /// The `tag` option's template, when given.
    var tag: String?
    /// 0 = no limit.
    var maxSize: Int64 = 0
    var maxFiles = 1
    /// json-file `compress`: rotated files are gzipped.
    var compress = false
    /// A remote driver (syslog, fluentd, gelf); nil for the others.
    var remote: RemoteLogDriver?
    /// A remote driver's local cache is kept (not cache-disabled): `docker logs` reads it.
    var cached = false

    /// Drivers whose lines the shim writes to a file of json-file records. dockerd keeps the
    /// local driver's file format to itself (its LogPath is empty), so Berth stores it as json-file.
    var writesFile: Bool { driver == "json-file" || driver == "local" }

    /// The container's LogConfig completed as dockerd does at create: the daemon's driver when
    /// none is given, and for the daemon's driver its options where the container sets none.
    static func merged(_ config: LogConfig?, defaults: ContainerDefaults) -> LogConfig {
        let requested = config?.Type ?? ""
        let type = requested.isEmpty ? defaults.logDriver : requested
        var options = config?.Config ?? [:]
        if type == defaults.logDriver {
            for (key, value) in defaults.logOptions where options[key] == nil { options[key] = value }
        }
        return LogConfig(Type: type, Config: options)
    }

    init(_ config: LogConfig?, defaults: ContainerDefaults) throws {
        try self.init(merged: Self.merged(config, defaults: defaults))
    }

    /// A LogConfig already completed with the daemon's driver and options.
    init(merged: LogConfig) throws {
        driver = merged.Type
        let options = merged.Config ?? [:]
        guard Self.drivers.contains(driver) else {
            if Self.unimplementedDrivers.contains(driver) {
                throw BerthError.notImplemented("the \(driver) logging driver is not implemented yet in this version of Berth")
            }
            throw BerthError.invalidArgument("error looking up logging plugin \(driver): plugin \"\(driver)\" not found")
        }
        // dockerd's checks common to every driver but none: the delivery mode and its buffer.
        if driver != "none" {
            let mode = options["mode"] ?? ""
            guard Self.modes.contains(mode) else { throw BerthError.invalidArgument("logger: logging mode not supported: \(mode)") }
            if let size = options["max-buffer-size"] {
                guard mode == "non-blocking" else {
                    throw BerthError.invalidArgument("logger: max-buffer-size option is only supported with 'mode=non-blocking'")
                }
                do { _ = try GoUnitsSize.binary(size) } catch {
                    throw BerthError.invalidArgument("error parsing option max-buffer-size: \(error.message)")
                }
            }
        }
        remote = RemoteLogDriver(rawValue: driver)
        var allowed: Set<String> = writesFile ? Self.jsonFileOptions : driver == "journald" ? Self.journaldOptions : []
        if let remote { allowed = remote.checksOptionNamesItself ? Set(options.keys) : remote.options.union(LogCache.options) }
        for key in options.keys.sorted() where !allowed.contains(key) && !Self.deliveryOptions.contains(key) {
            throw BerthError.invalidArgument(driver == "local" ? "unknown log opt '\(key)' for log driver local"
                                                               : "unknown log opt '\(key)' for \(driver) log driver")
        }
        tag = options["tag"]
        if let remote {
            try remote.validate(options)
            cached = try LogCache.isEnabled(options)
            return
        }
        if driver == "local" {
            try readLocalRotation(options)
        } else {
            try readJSONFileRotation(options)
        }
    }

    /// json-file: no rotation unless asked; max-size must be positive.
    private mutating func readJSONFileRotation(_ options: [String: String]) throws(BerthError) {
        if let size = options["max-size"] {
            let bytes: Int64
            do { bytes = try GoUnitsSize.decimal(size) } catch {
                throw BerthError.invalidArgument("failed to initialize logging driver: \(error.message)")
            }
            guard bytes > 0 else { throw BerthError.invalidArgument("failed to initialize logging driver: max-size must be a positive number") }
            maxSize = bytes
        }
        if let files = options["max-file"] {
            guard let count = Int(files) else {
                throw BerthError.invalidArgument("failed to initialize logging driver: " + GoStrconv.numberError("Atoi", files))
            }
            guard count >= 1 else { throw BerthError.invalidArgument("failed to initialize logging driver: max-file cannot be less than 1") }
            // Without max-size there is nothing to rotate; dockerd accepts it all the same.
            maxFiles = maxSize == 0 ? 1 : count
        }
        if let text = options["compress"] {
            guard let value = SecurityOptions.parseGoBool(text) else {
                throw BerthError.invalidArgument("failed to initialize logging driver: " + GoStrconv.boolError(text))
            }
            // Only something rotated out can be compressed: maxFiles is 1 when max-file < 2 or no max-size (-1 is no limit).
            if value && maxFiles < 2 {
                throw BerthError.invalidArgument(
                    "failed to initialize logging driver: compress cannot be true when max-file is less than 2 or max-size is not set")
            }
            compress = value
        }
    }

    /// local: dockerd's defaults (5 files of 20 MiB, the rotated ones gzipped) and its checks.
    private mutating func readLocalRotation(_ options: [String: String]) throws(BerthError) {
        let prefix = "failed to initialize logging driver: "
        maxSize = 20 * 1024 * 1024
        var count = 5
        compress = true
        if let size = options["max-size"] {
            do { maxSize = try GoUnitsSize.decimal(size) } catch {
                throw BerthError.invalidArgument(prefix + "invalid value for max-size: \(size): \(error.message)")
            }
            // dockerd rotates before every record once the file is at least max-size; 0 rotates each time.
            maxSize = max(maxSize, 1)
        }
        if let files = options["max-file"] {
            guard let value = Int(files) else {
                throw BerthError.invalidArgument(prefix + "invalid value for max-file: \(files): " + GoStrconv.numberError("Atoi", files))
            }
            count = value
        }
        if let text = options["compress"] {
            guard let value = SecurityOptions.parseGoBool(text) else {
                throw BerthError.invalidArgument(prefix + "error reading compress log option: " + GoStrconv.boolError(text))
            }
            compress = value
        }
        guard count >= 0 else { throw BerthError.invalidArgument(prefix + "max-file must not be negative") }
        if compress && count <= 1 {
            throw BerthError.invalidArgument(prefix + "compression cannot be enabled when max file count is 1")
        }
        // 0 files keeps the current one only, as 1 does.
        maxFiles = max(count, 1)
    }
}

/// Container and exec IDs: 64 random hex digits, never all digits (a short ID must not be
/// mistaken for a number), as dockerd makes them.
enum ContainerIdentity {
    static func newID() -> String {
        while true {
            // Four 64-bit draws: one getrandom each, where a byte at a time took 32.
            var generator = SystemRandomNumberGenerator()
            let id = (0..<4).flatMap { _ in withUnsafeBytes(of: generator.next() as UInt64) { Array($0) } }.hexString
            if id.prefix(12).contains(where: { $0.isLetter }) { return id }
        }
    }

    /// 64 lowercase hex digits: a name in a directory that can be a container's (and nothing else).
    static func isFullID(_ name: String) -> Bool {
        name.utf8.count == 64 && name.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
