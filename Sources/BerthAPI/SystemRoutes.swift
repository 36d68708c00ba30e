import BerthOCI
import BerthEngine
import FoundationEssentials
import Glibc
import NIOHTTP1

/// /_ping, /version and /info: what `docker version` and `docker info` show.
enum SystemRoutes {
    static func register(_ router: inout Router, engine: Engine) {
        // dockerd's HEAD /_ping has the headers and no body: Content-Length 0, where a GET has 2.
        let ping: Router.Handler = { request, _ in
            APIResponse(headers: [
                "API-Version": SystemInfo.apiVersion, "Ostype": "linux", "Builder-Version": "1",
                "Docker-Experimental": "false", "Cache-Control": "no-cache, no-store, must-revalidate",
                "Pragma": "no-cache", "Content-Type": "text/plain; charset=utf-8", "Swarm": "inactive",
            ], body: request.method == .HEAD ? [] : Array("OK".utf8))
        }
        router.add(.GET, "/_ping", ping)
        router.add(.HEAD, "/_ping", ping)
        router.add(.GET, "/version") { _, _ in .json(version()) }
        // `docker system prune` also prunes the build cache. Berth builds nothing, so there is
        // nothing to reclaim: an empty answer is the truth, after dockerd's filter checks.
        router.add(.POST, "/build/prune") { request, _ in
            let filters = try ImageRoutes.parseFilters(request.queryValue("filters"))
            if let key = filters.keys.sorted().first(where: { !buildPruneFilters.contains($0) }) {
                throw BerthError.invalidArgument("failed to prune build cache: Invalid filter '\(key)'")
            }
            return .json(BuildCachePruneReport())
        }
        router.add(.GET, "/info") { request, _ in
            let counts = await engine.containers.counts
            var body = info(engine.system, images: engine.images.imageCount, containers: counts, debug: engine.settings.debug,
                            liveRestore: engine.settings.liveRestore)
            let registries = RegistryServiceConfig(insecureRegistries: engine.settings.insecureRegistries)
            body["RegistryConfig"] = registryConfig(registries, olderThan147: request.speaksBefore(1, 47))
            return .json(shapedForVersion(body, olderThan149: request.speaksBefore(1, 49), olderThan150: request.speaksBefore(1, 50)))
        }
    }

    /// The info fields that depend on the client's API version, as dockerd shapes them.
    static func shapedForVersion(_ info: [String: JSONValue], olderThan149: Bool, olderThan150: Bool) -> [String: JSONValue] {
        var info = info
        if olderThan149 {
            // FirewallBackend came in 1.49; before it, the component commits also had "Expected".
            info["FirewallBackend"] = nil
            for key in ["ContainerdCommit", "RuncCommit", "InitCommit"] {
                if case .object(var commit)? = info[key] { commit["Expected"] = commit["ID"]; info[key] = .object(commit) }
            }
        }
        // From 1.50 the bridge-nf fields are gone (the warnings say it); before, always false.
        let bridgeNf: JSONValue? = olderThan150 ? false : nil
        info["BridgeNfIptables"] = bridgeNf
        info["BridgeNfIp6tables"] = bridgeNf
        return info
    }

    static let buildPruneFilters: Set<String> = ["until", "unused-for", "id", "parent", "type", "description", "inuse",
                                                  "shared", "private", "label", "label!"]

    struct BuildCachePruneReport: Encodable {
        var CachesDeleted: [String]? = nil
        var SpaceReclaimed: Int64 = 0
        enum CodingKeys: String, CodingKey { case CachesDeleted, SpaceReclaimed }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(CachesDeleted, forKey: .CachesDeleted)  // null, as dockerd writes it
            try container.encode(SpaceReclaimed, forKey: .SpaceReclaimed)
        }
    }

    struct Version: Encodable {
        struct Platform: Encodable { var Name: String }
        struct Component: Encodable {
            var Name: String
            var Version: String
            var Details: [String: String]
        }
        var Platform: Platform
        var Components: [Component]
        var Version: String
        var ApiVersion: String
        var MinAPIVersion: String
        var GitCommit: String
        var GoVersion: String
        var Os: String
        var Arch: String
        var KernelVersion: String
        /// `omitempty` in dockerd: left out when false (the Engine's Details still say "false").
        var Experimental: Bool?
        var BuildTime: String
    }

    static func version() -> Version {
        let details = ["ApiVersion": SystemInfo.apiVersion, "MinAPIVersion": SystemInfo.minimumAPIVersion,
                       "Os": "linux", "Arch": SystemInfo.goArchitecture, "KernelVersion": SystemInfo.kernelVersion,
                       "GoVersion": SystemInfo.toolchain, "BuildTime": SystemInfo.buildTime, "GitCommit": "", "Experimental": "false"]
        return Version(
            Platform: .init(Name: "Berth Engine"),
            Components: [.init(Name: "Engine", Version: SystemInfo.version, Details: details),
                         .init(Name: "berth-runtime", Version: SystemInfo.version, Details: ["GitCommit": ""]),
                         .init(Name: "berth-init", Version: SystemInfo.version, Details: ["GitCommit": ""])],
            Version: SystemInfo.version, ApiVersion: SystemInfo.apiVersion, MinAPIVersion: SystemInfo.minimumAPIVersion,
            GitCommit: "", GoVersion: SystemInfo.toolchain, Os: "linux", Arch: SystemInfo.goArchitecture,
            KernelVersion: SystemInfo.kernelVersion, Experimental: nil, BuildTime: SystemInfo.buildTime)
    }

    /// The fields of the API's SystemInfo that the CLI prints, with this host's real figures.
    static func info(_ system: SystemInfo, images: Int, containers: (running: Int, paused: Int, stopped: Int),
                     debug: Bool, liveRestore: Bool) -> [String: JSONValue] {
        let cgroupVersion = SystemInfo.cgroupVersion
        let warnings = SystemInfo.warnings
        var securityOptions = ["name=seccomp,profile=" + system.seccompProfile]
        if cgroupVersion == "2" { securityOptions.append("name=cgroupns") }
        return [
            "ID": .string(system.daemonID), "Name": .string(SystemInfo.hostname),
            "Containers": .int(containers.running + containers.paused + containers.stopped),
            "ContainersRunning": .int(containers.running), "ContainersPaused": .int(containers.paused),
            "ContainersStopped": .int(containers.stopped),
            "Images": .int(images),
            "Driver": "overlay2", "DriverStatus": .array(SystemInfo.overlayStatus(system.dataRoot).map { .array([.string($0.0), .string($0.1)]) }),
            "DockerRootDir": .string(system.dataRoot),
            "Plugins": ["Volume": .array(["local"]), "Network": .array(["bridge", "host", "ipvlan", "macvlan", "null"]),
                        "Authorization": .null, "Log": .array(["fluentd", "gelf", "journald", "json-file", "local", "syslog"])],
            "MemoryLimit": true, "SwapLimit": .bool(!warnings.contains("WARNING: No swap limit support")),
            "CpuCfsPeriod": true, "CpuCfsQuota": true, "CPUShares": true, "CPUSet": true, "PidsLimit": true,
            "OomKillDisable": .bool(cgroupVersion == "1"), "IPv4Forwarding": .bool(!warnings.contains("WARNING: IPv4 forwarding is disabled")),
            "Debug": .bool(debug), "NFd": .int(openDescriptorCount()), "NGoroutines": .int(1),
            "SystemTime": .string(LogTimestamp.now().rfc3339(fixedFraction: false)),
            "LoggingDriver": .string(system.loggingDriver), "CgroupDriver": "cgroupfs", "CgroupVersion": .string(cgroupVersion),
            "NEventsListener": 0, "KernelVersion": .string(SystemInfo.kernelVersion),
            "OperatingSystem": .string(SystemInfo.operatingSystem), "OSVersion": .string(SystemInfo.operatingSystemVersion), "OSType": "linux",
            "Architecture": .string(SystemInfo.architecture), "IndexServerAddress": .string(RegistryServiceConfig.indexServerAddress),
            "NCPU": .int(SystemInfo.cpuCount), "MemTotal": .int(Int(SystemInfo.memoryTotal)),
            // Fields dockerd always writes (no omitempty): no swarm resources, no CDI spec dirs.
            "GenericResources": .null, "CDISpecDirs": .array([]),
            "HttpProxy": "", "HttpsProxy": "", "NoProxy": "", "Labels": .array([]), "ExperimentalBuild": false,
            "ServerVersion": .string(SystemInfo.version),
            "Runtimes": ["berth-runtime": ["path": "berth-runtime"]], "DefaultRuntime": "berth-runtime",
            "Swarm": ["NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive", "ControlAvailable": false,
                      "Error": "", "RemoteManagers": .null],
            "LiveRestoreEnabled": .bool(liveRestore), "Isolation": "", "InitBinary": "berth-init",
            "ContainerdCommit": ["ID": ""], "RuncCommit": ["ID": ""], "InitCommit": ["ID": ""],
            // Berth's port publishing and isolation are nftables rules of its own.
            "FirewallBackend": ["Driver": "nftables"],
            "SecurityOptions": .array(securityOptions.map(JSONValue.string)),
            "Warnings": .array(warnings.map(JSONValue.string)),
        ]
    }

    /// The API's ServiceConfig. Clients before 1.47 also get the two non-distributable
    /// artifacts fields, null, as current dockerd writes them; later ones do not.
    static func registryConfig(_ config: RegistryServiceConfig, olderThan147: Bool) -> JSONValue {
        var indexes: [String: JSONValue] = [:]
        for (name, index) in config.indexes {
            indexes[name] = ["Name": .string(index.name), "Mirrors": .array(index.mirrors.map(JSONValue.string)),
                             "Secure": .bool(index.secure), "Official": .bool(index.official)]
        }
        var fields: [String: JSONValue] = [
            "InsecureRegistryCIDRs": .array(config.insecureCIDRs.map(JSONValue.string)),
            "IndexConfigs": .object(indexes), "Mirrors": .array(config.mirrors.map(JSONValue.string)),
        ]
        if olderThan147 {
            fields["AllowNondistributableArtifactsCIDRs"] = .null
            fields["AllowNondistributableArtifactsHostnames"] = .null
        }
        return .object(fields)
    }

    static func openDescriptorCount() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
    }
}

/// A JSON value for documents with many mixed fields.
indirect enum JSONValue: Encodable, Sendable, ExpressibleByStringLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral {
    case string(String), int(Int), bool(Bool), array([JSONValue]), object([String: JSONValue]), null

    init(stringLiteral value: String) { self = .string(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(integerLiteral value: Int) { self = .int(value) }
    init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(Dictionary(uniqueKeysWithValues: elements)) }
    init(arrayLiteral elements: JSONValue...) { self = .array(elements) }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }
}
