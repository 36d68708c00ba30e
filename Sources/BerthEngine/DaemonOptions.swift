import BerthOCI
import FoundationEssentials
import Glibc

/// berthd's settings from its flags and daemon.json, with dockerd's names and rules: an
/// unknown key, a malformed file, or a key set both ways stops the daemon with a message.
public struct DaemonOptions: Sendable {
    public var hosts: [String] = []
    public var dataRoot = "/var/lib/berth"
    public var execRoot = "/run/berth"
    public var configFile = "/etc/berth/daemon.json"
    public var pidFile = "/run/berth/berthd.pid"
    public var group = "docker"
    public var debug = false
    public var logLevel = "info"
    public var liveRestore = true
    public var logDriver = "json-file"
    public var logOptions: [String: String] = [:]
    /// Containers' cgroups go below this (dockerd's default is /docker).
    public var cgroupParent = "/berth"
    /// Networking keys of daemon.json (dockerd's names): the default bridge's device ("none":
    /// no default bridge) and address, the pools of new networks, whether berthd manages
    /// firewall and forwarding, and the default bridge's inter-container traffic and NAT.
    public var bridge: String?
    public var bip: String?
    public var defaultAddressPools: [(base: String, size: Int)] = []
    public var iptables = true
    public var ipForward = true
    public var icc = true
    public var ipMasquerade = true
    public var mtu: Int?
    /// What `host-gateway` in --add-host stands for; nil: the default bridge's gateway.
    public var hostGatewayIP: String?
    /// What every container gets unless it asks otherwise (dockerd's names): /dev/shm's size,
    /// the IPC mode, `--init`, ulimits, and a seccomp profile file instead of the built-in one.
    public var defaultShmSize: Int64?
    public var defaultIpcMode: String?
    public var initByDefault = false
    public var defaultUlimits: [String: Ulimit] = [:]
    public var seccompProfile: String?
    /// Registries reached over plain HTTP (after HTTPS fails), as CIDRs or host[:port];
    /// loopback ones are insecure anyway.
    public var insecureRegistries: [String] = []
    /// Layers fetched / sent at once by a pull / push (nil or 0: dockerd's 3 and 5).
    public var maxConcurrentDownloads: Int?
    public var maxConcurrentUploads: Int?

    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// Flags that take a value, by every spelling; the key is the daemon.json name.
    static let valueFlags: [String: String] = [
        "-H": "hosts", "--host": "hosts", "--data-root": "data-root", "--exec-root": "exec-root",
        "--config-file": "config-file", "--pidfile": "pidfile", "-p": "pidfile", "--group": "group", "-G": "group",
        "--log-level": "log-level", "-l": "log-level", "--log-driver": "log-driver", "--log-opt": "log-opts",
        "--cgroup-parent": "cgroup-parent", "--default-shm-size": "default-shm-size", "--default-ipc-mode": "default-ipc-mode",
        "--seccomp-profile": "seccomp-profile", "--default-ulimit": "default-ulimits",
        "--insecure-registry": "insecure-registries", "--host-gateway-ip": "host-gateway-ip",
        "--max-concurrent-downloads": "max-concurrent-downloads", "--max-concurrent-uploads": "max-concurrent-uploads",
    ]
    static let boolFlags: [String: String] = ["-D": "debug", "--debug": "debug", "--live-restore": "live-restore", "--init": "init"]

    /// daemon.json keys dockerd knows; those Berth does not use yet are accepted and ignored.
    static let knownKeys: Set<String> = [
        "hosts", "data-root", "exec-root", "pidfile", "group", "debug", "log-level", "live-restore", "log-driver",
        "log-opts", "default-ulimits", "bip", "bridge", "default-address-pools", "dns", "dns-opts", "dns-search",
        "default-runtime", "runtimes", "storage-driver", "storage-opts", "iptables", "ip-forward", "ip-masq",
        "userland-proxy", "icc", "ipv6", "mtu", "labels", "features", "experimental", "max-concurrent-downloads",
        "max-concurrent-uploads", "shutdown-timeout", "default-shm-size", "init", "init-path", "seccomp-profile",
        "no-new-privileges", "cgroup-parent", "exec-opts", "insecure-registries", "registry-mirrors", "tls",
        "tlsverify", "tlscacert", "tlscert", "tlskey", "containerd", "oom-score-adjust", "selinux-enabled",
        "userns-remap", "default-cgroupns-mode", "default-ipc-mode", "builder", "metrics-addr", "raw-logs",
        "fixed-cidr", "host-gateway-ip",
    ]

    public init() {}

    /// `defaults` are dockerd's defaults with Berth's paths; tests pass their own.
    public static func parse(_ arguments: [String], defaults: DaemonOptions = DaemonOptions()) throws -> DaemonOptions {
        var options = defaults
        var fromFlags: [String: String] = [:]
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            var name = argument
            var inline: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inline = String(argument[argument.index(after: equals)...])
            }
            if let key = boolFlags[name] {
                let value = inline ?? "true"
                guard value == "true" || value == "false" else { throw Failure("invalid boolean value \"\(value)\" for \(name)") }
                fromFlags[key] = value
                try options.set(key, value)
            } else if let key = valueFlags[name] {
                guard let value = inline ?? rest.popFirst() else { throw Failure("flag needs an argument: \(name)") }
                fromFlags[key] = value
                try options.set(key, value)
            } else if name == "--help" || name == "-h" {
                throw Failure("usage")
            } else {
                throw Failure("unknown flag: \(argument)")
            }
        }
        try options.merge(configFile: options.configFile, explicit: fromFlags["config-file"] != nil, flags: fromFlags)
        try options.checkNetworkSettings()
        try options.checkStartSettings()
        if options.hosts.isEmpty { options.hosts = ["unix://" + options.execRoot + "/berth.sock"] }
        return options
    }

    private mutating func set(_ key: String, _ value: String) throws {
        switch key {
        case "hosts": hosts.append(value)
        case "data-root": dataRoot = value
        case "exec-root": execRoot = value
        case "config-file": configFile = value
        case "pidfile": pidFile = value
        case "group": group = value
        case "debug": debug = value == "true"
        case "live-restore": liveRestore = value == "true"
        case "log-driver": logDriver = value
        case "init": initByDefault = value == "true"
        case "seccomp-profile": seccompProfile = value
        case "insecure-registries": insecureRegistries.append(value)
        case "max-concurrent-downloads", "max-concurrent-uploads":
            // A Go int flag, then dockerd's validation of the merged configuration.
            guard let number = Int(value) else {
                throw Failure("invalid argument \"\(value)\" for \"--\(key)\" flag: strconv.ParseInt: parsing \"\(value)\": invalid syntax")
            }
            let downloads = key == "max-concurrent-downloads"
            guard number >= 0 else { throw Failure("invalid max concurrent \(downloads ? "downloads" : "uploads"): \(number)") }
            if downloads { maxConcurrentDownloads = number } else { maxConcurrentUploads = number }
        case "default-ulimits":
            do {
                let ulimit = try Self.parseUlimit(value)
                defaultUlimits[ulimit.Name] = ulimit
            } catch {
                throw Failure("invalid argument \"\(value)\" for \"--default-ulimit\" flag: \(error)")
            }
        case "default-shm-size":
            // go-units' RAMInBytes, as dockerd reads it.
            do { defaultShmSize = try GoUnitsSize.binary(value) } catch {
                throw Failure("invalid default-shm-size \"\(value)\": \(error.message)")
            }
        case "default-ipc-mode":
            let hint = #"use "shareable" or "private""#
            guard ["", "private", "shareable"].contains(value) else {
                let known = ["host", "none"].contains(value) || value.hasPrefix("container:")
                throw Failure(known ? "IPC mode \"\(value)\" is not supported as default value; \(hint)"
                                    : "default IPC mode setting (\(value)) is invalid; \(hint)")
            }
            defaultIpcMode = value.isEmpty ? nil : value
        case "cgroup-parent":
            guard !value.isEmpty, !value.split(separator: "/").contains("..") else { throw Failure("invalid cgroup-parent \"\(value)\"") }
            cgroupParent = value.hasPrefix("/") ? value : "/" + value
        case "log-level":
            guard ["debug", "info", "warn", "error", "fatal"].contains(value) else {
                throw Failure("unable to parse logging level: \(value)")
            }
            logLevel = value
        case "host-gateway-ip":
            guard ExtraHost.isIPAddress(value) else {
                throw Failure("invalid argument \"\(value)\" for \"--host-gateway-ip\" flag: invalid string being converted to IP address: \(value)")
            }
            hostGatewayIP = value
        case "log-opts":
            let parts = value.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw Failure("invalid key/value pair \"\(value)\": must be in the form key=value") }
            logOptions[String(parts[0])] = String(parts[1])
        default: break
        }
    }

    private mutating func merge(configFile path: String, explicit: Bool, flags: [String: String]) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            if explicit { throw Failure("unable to configure the Berth daemon with file \(path): open \(path): no such file or directory") }
            return
        }
        let object: [String: Any]
        do {
            guard let parsed = try AnyJSON.parse(data) as? [String: Any] else {
                throw Failure("the configuration is not a JSON object")
            }
            object = parsed
        } catch let failure as Failure {
            throw Failure("unable to configure the Berth daemon with file \(path): \(failure)")
        } catch {
            throw Failure("unable to configure the Berth daemon with file \(path): invalid JSON: \(error)")
        }
        let unknown = object.keys.filter { !Self.knownKeys.contains($0) }.sorted()
        if !unknown.isEmpty {
            throw Failure("unable to configure the Berth daemon with file \(path): the following directives don't match any configuration option: \(unknown.joined(separator: ", "))")
        }
        let conflicts = object.keys.filter { flags[$0] != nil }.sorted().map { key in
            "\(key): (from flag: \(flags[key]!), from file: \(Self.describe(object[key]!)))"
        }
        if !conflicts.isEmpty {
            throw Failure("unable to configure the Berth daemon with file \(path): the following directives are specified both as a flag and in the configuration file: \(conflicts.joined(separator: ", "))")
        }
        for key in object.keys.sorted() {
            let value = object[key]!
            let invalid = Failure("unable to configure the Berth daemon with file \(path): invalid value for \(key): \(Self.describe(value))")
            switch key {
            case "debug", "live-restore", "init":
                guard let flag = value as? Bool, !(value is String) else { throw invalid }
                try set(key, flag ? "true" : "false")
            case "data-root", "exec-root", "pidfile", "group", "log-level", "log-driver", "cgroup-parent",
                 "default-shm-size", "default-ipc-mode", "seccomp-profile":
                guard let text = value as? String else { throw invalid }
                try set(key, text)
            case "hosts":
                guard let list = value as? [String] else { throw invalid }
                hosts += list
            case "insecure-registries":
                guard let list = value as? [String] else { throw invalid }
                insecureRegistries += list
            case "default-ulimits":
                // {"nofile": {"Name": "nofile", "Soft": 1024, "Hard": 2048}}
                guard let map = value as? [String: [String: Any]] else { throw invalid }
                for (name, limit) in map {
                    guard let soft = limit["Soft"] as? Int, let hard = limit["Hard"] as? Int, soft <= hard else { throw invalid }
                    defaultUlimits[name] = Ulimit(Name: name, Soft: Int64(soft), Hard: Int64(hard))
                }
            case "log-opts":
                guard let map = value as? [String: String] else { throw invalid }
                logOptions.merge(map) { _, new in new }
            case "host-gateway-ip":
                guard let text = value as? String, ExtraHost.isIPAddress(text) else { throw invalid }
                hostGatewayIP = text
            case "bridge", "bip":
                guard let text = value as? String else { throw invalid }
                if key == "bridge" { bridge = text } else { bip = text }
            case "iptables", "ip-forward", "icc", "ip-masq":
                guard let flag = value as? Bool, !(value is String) else { throw invalid }
                switch key {
                case "iptables": iptables = flag
                case "ip-forward": ipForward = flag
                case "icc": icc = flag
                default: ipMasquerade = flag
                }
            case "max-concurrent-downloads", "max-concurrent-uploads":
                try Self.checkAcceptedValue(key, value, path: path)
                try set(key, String(value as! Int))
            case "mtu":
                guard let number = value as? Int, number >= 68 else { throw invalid }
                mtu = number
            case "default-address-pools":
                guard let list = value as? [[String: Any]] else { throw invalid }
                defaultAddressPools = try list.map { pool in
                    guard let base = pool["base"] as? String, let size = pool["size"] as? Int else { throw invalid }
                    // dockerd decodes the base as a netip.Prefix.
                    if let error = GoAddressParsing.parsePrefixError(base) {
                        throw Failure("unable to configure the Berth daemon with file \(path): \(error)")
                    }
                    return (base, size)
                }
            default:
                // Known to dockerd, not used by Berth yet: checked as dockerd checks them.
                try Self.checkAcceptedValue(key, value, path: path)
            }
        }
    }

    /// dockerd's refusals of network settings that contradict each other, in its words.
    private func checkNetworkSettings() throws {
        if !(bridge ?? "").isEmpty && !(bip ?? "").isEmpty {
            throw Failure("You specified -b & --bip, mutually exclusive options. Please specify only one")
        }
        if !iptables && !icc {
            throw Failure("You specified --iptables=false with --icc=false. ICC=false uses iptables to function. Please set --icc or --iptables to true")
        }
    }

    static func describe(_ value: Any) -> String {
        if let text = value as? String { return text }
        return AnyJSON.text(value)
    }
}

extension DaemonOptions {
    /// The daemon-wide container defaults these options set, on top of `base` (the daemon's
    /// own limits); reads the seccomp profile file.
    public func specDefaults(_ base: DaemonSpecDefaults) throws -> DaemonSpecDefaults {
        var defaults = base
        if let defaultShmSize { defaults.shmSize = defaultShmSize }
        if let defaultIpcMode { defaults.ipcMode = defaultIpcMode }
        defaults.initByDefault = initByDefault
        defaults.ulimits = defaultUlimits
        defaults.seccompUnconfined = seccompProfile == "unconfined"
        if let path = seccompProfile, !["", "builtin", "unconfined"].contains(path) {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw Failure("opening seccomp profile (\(path)) failed: open \(path): \(goErrorText(errno))")
            }
            defaults.seccompProfile = String(decoding: data, as: UTF8.self)
        }
        return defaults
    }

    /// `name=soft[:hard]`, read as go-units' ParseUlimit reads it.
    static func parseUlimit(_ text: String) throws(Failure) -> Ulimit {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw Failure("invalid ulimit argument: \(text)") }
        let name = String(parts[0])
        guard SpecBuilder.ulimitNames.contains(name) else { throw Failure("invalid ulimit type: \(name)") }
        let values = parts[1].split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        func number(_ text: Substring) throws(Failure) -> Int64 {
            guard let value = Int64(text) else { throw Failure(GoStrconv.numberError("ParseInt", String(text))) }
            return value
        }
        let soft = try number(values[0])
        let hard = values.count == 2 ? try number(values[1]) : soft
        guard soft <= hard else { throw Failure("ulimit soft limit must be less than or equal to hard limit: \(soft) > \(hard)") }
        return Ulimit(Name: name, Soft: soft, Hard: hard)
    }

    /// `--seccomp-profile` as `docker info` shows it.
    public var seccompProfileName: String {
        guard let seccompProfile, !seccompProfile.isEmpty else { return "builtin" }
        return seccompProfile
    }
}
