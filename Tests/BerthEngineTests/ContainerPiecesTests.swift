@testable import BerthEngine
import BerthNetwork
import BerthOCI
import Testing
import Foundation

@Suite struct DetachKeyTests {
    @Test func defaultSequenceDetachesAndHoldsBackAPartialMatch() {
        var scanner = DetachKeyScanner(keys: DetachKeyScanner.defaultKeys)
        #expect(scanner.scan(Array("ab".utf8)) == (Array("ab".utf8), false))
        // ctrl-p alone is held back until the next byte decides.
        #expect(scanner.scan([16]) == ([], false))
        #expect(scanner.scan([UInt8(ascii: "x")]) == ([16, UInt8(ascii: "x")], false))
        #expect(scanner.scan([16, 17, UInt8(ascii: "z")]) == ([], true))
        var split = DetachKeyScanner(keys: [16, 17])
        #expect(split.scan([UInt8(ascii: "a"), 16]) == ([UInt8(ascii: "a")], false))
        #expect(split.scan([17]) == ([], true))
    }

    @Test func dockersDetachKeyFormat() throws {
        #expect(try DetachKeyScanner.parse("ctrl-p,ctrl-q") == [16, 17])
        #expect(try DetachKeyScanner.parse("ctrl-a,x,ctrl-@") == [1, UInt8(ascii: "x"), 0])
        #expect(throws: BerthError.self) { try DetachKeyScanner.parse("ctrl-") }
        #expect(throws: BerthError.self) { try DetachKeyScanner.parse("abc") }
    }
}

@Suite struct ContainerTextTests {
    @Test func humanDurationsAsDockerPsShowsThem() {
        #expect(HumanDuration.describe(seconds: 0.4) == "Less than a second")
        #expect(HumanDuration.describe(seconds: 1) == "1 second")
        #expect(HumanDuration.describe(seconds: 42) == "42 seconds")
        #expect(HumanDuration.describe(seconds: 61) == "About a minute")
        #expect(HumanDuration.describe(seconds: 600) == "10 minutes")
        #expect(HumanDuration.describe(seconds: 3600) == "About an hour")
        #expect(HumanDuration.describe(seconds: 5 * 3600) == "5 hours")
        #expect(HumanDuration.describe(seconds: 3 * 86400) == "3 days")
    }

    @Test func statusColumn() {
        var state = ContainerStateRecord()
        #expect(ContainerService.describe(state, now: 100) == "Created")
        state.Running = true
        state.StartedAt = timestamp(seconds: 90, nanoseconds: 0)
        #expect(ContainerService.describe(state, now: 100) == "Up 10 seconds")
        state.Paused = true
        #expect(ContainerService.describe(state, now: 100) == "Up 10 seconds (Paused)")
        state = ContainerStateRecord()
        state.Status = "exited"
        state.ExitCode = 137
        state.FinishedAt = timestamp(seconds: 40, nanoseconds: 0)
        #expect(ContainerService.describe(state, now: 100) == "Exited (137) About a minute ago")
    }

    @Test func timestampsRoundTrip() {
        #expect(timestamp(seconds: 1_764_414_000, nanoseconds: 120_000_000) == "2025-11-29T11:00:00.12Z")
        #expect(timestamp(seconds: 0, nanoseconds: 0) == "1970-01-01T00:00:00Z")
        #expect(unixSeconds("2025-11-29T11:00:00.12Z") == 1_764_414_000.12)
        #expect(unixSeconds("0001-01-01T00:00:00Z") != nil)
        #expect(unixSeconds("yesterday") == nil)
    }

    @Test func logSizesAndOptions() throws {
        // max-size is read as go-units' FromHumanSize reads it: k is 1000.
        #expect(try GoUnitsSize.decimal("10m") == 10_000_000)
        #expect(try GoUnitsSize.binary("1.5k") == 1536)
        #expect(try GoUnitsSize.binary("2GB") == 2 << 30)
        #expect(throws: GoUnitsSize.SizeError.self) { try GoUnitsSize.decimal("ten") }
        let defaults = ContainerDefaults(host: HostFacts(cpuCount: 2, onlineCPUs: "0-1", onlineMems: "0", totalMemory: 1 << 30, cgroupV2: true),
                                         logDriver: "json-file", logOptions: ["max-size": "1m", "max-file": "3"],
                                         initPath: "/x", cgroupParent: "/berth", specDefaults: DaemonSpecDefaults())
        let inherited = try LogSettings(nil, defaults: defaults)
        #expect(inherited.driver == "json-file" && inherited.maxSize == 1_000_000 && inherited.maxFiles == 3)
        #expect(try LogSettings(LogConfig(Type: "none"), defaults: defaults).driver == "none")
        #expect(throws: BerthError.self) { try LogSettings(LogConfig(Type: "syslogx"), defaults: defaults) }
        // dockerd's own drivers that Berth has not got: said so (501), not "plugin not found".
        #expect(throws: BerthError.notImplemented("the splunk logging driver is not implemented yet in this version of Berth")) {
            try LogSettings(LogConfig(Type: "splunk"), defaults: defaults)
        }
        // The remote drivers Berth has: their options checked at create, their cache kept by default.
        let syslog = try LogSettings(LogConfig(Type: "syslog", Config: ["syslog-facility": "local3"]), defaults: defaults)
        #expect(syslog.remote == .syslog && syslog.cached)
        #expect(try LogSettings(LogConfig(Type: "gelf", Config: ["gelf-address": "udp://127.0.0.1:12201", "cache-disabled": "true"]),
                                defaults: defaults).cached == false)
        #expect(throws: BerthError.invalidArgument("invalid syslog facility")) {
            try LogSettings(LogConfig(Type: "syslog", Config: ["syslog-facility": "local9"]), defaults: defaults)
        }
        #expect(throws: BerthError.invalidArgument("gelf-address is a required parameter")) {
            try LogSettings(LogConfig(Type: "gelf"), defaults: defaults)
        }
        #expect(throws: BerthError.invalidArgument("unknown log opt 'max-size' for fluentd log driver")) {
            try LogSettings(LogConfig(Type: "fluentd", Config: ["max-size": "1m"]), defaults: defaults)
        }
        // The daemon's options fill what the container leaves out for the daemon's driver.
        #expect(try LogSettings(LogConfig(Type: "json-file", Config: ["max-file": "2"]), defaults: defaults).maxFiles == 2)
        #expect(LogSettings.merged(LogConfig(Type: "", Config: ["max-file": "2"]), defaults: defaults).Config == ["max-size": "1m", "max-file": "2"])
        // max-file without any max-size: accepted, as dockerd does, with nothing to rotate.
        var plain = defaults
        plain.logOptions = [:]
        #expect(try LogSettings(LogConfig(Type: "json-file", Config: ["max-file": "2"]), defaults: plain).maxFiles == 1)
        #expect(throws: BerthError.self) { try LogSettings(LogConfig(Type: "json-file", Config: ["bogus": "1"]), defaults: defaults) }
    }

    @Test func theLocalDriverRotatesByDefault() throws {
        let defaults = ContainerDefaults(host: HostFacts(cpuCount: 2, onlineCPUs: "0-1", onlineMems: "0", totalMemory: 1 << 30, cgroupV2: true),
                                         logDriver: "json-file", logOptions: ["max-size": "1m"],
                                         initPath: "/x", cgroupParent: "/berth", specDefaults: DaemonSpecDefaults())
        func settings(_ options: [String: String]) throws -> LogSettings {
            try LogSettings(LogConfig(Type: "local", Config: options), defaults: defaults)
        }
        // dockerd's local defaults: five files of 20 MiB, the rotated ones gzipped; the json-file
        // daemon options do not reach another driver.
        let plain = try settings([:])
        #expect(plain.writesFile && plain.maxSize == 20 << 20 && plain.maxFiles == 5 && plain.compress)
        #expect(try settings(["max-size": "10k", "max-file": "2", "compress": "false"]).maxSize == 10_000)
        // max-size 0 rotates before every record, as dockerd's "at least max-size" check does.
        #expect(try settings(["max-size": "0"]).maxSize == 1)
        #expect(try settings(["max-file": "0", "compress": "false"]).maxFiles == 1)
        #expect(try !LogSettings(LogConfig(Type: "none"), defaults: defaults).writesFile)
        // Go's two strconv errors: digits that overflow are out of range, not bad syntax.
        #expect(throws: BerthError.invalidArgument("failed to initialize logging driver: invalid value for max-file: 99999999999999999999: "
                                                   + #"strconv.Atoi: parsing "99999999999999999999": value out of range"#)) {
            try settings(["max-file": "99999999999999999999"])
        }
    }

    @Test func logCompressIsAGoBoolAndNeedsSomethingToRotate() throws {
        let defaults = ContainerDefaults(host: HostFacts(cpuCount: 2, onlineCPUs: "0-1", onlineMems: "0", totalMemory: 1 << 30, cgroupV2: true),
                                         logDriver: "json-file", logOptions: [:],
                                         initPath: "/x", cgroupParent: "/berth", specDefaults: DaemonSpecDefaults())
        func settings(_ options: [String: String]) throws -> LogSettings {
            try LogSettings(LogConfig(Type: "json-file", Config: options), defaults: defaults)
        }
        for text in ["1", "t", "T", "TRUE", "true", "True"] {
            #expect(try settings(["max-size": "1k", "max-file": "2", "compress": text]).compress, "\(text)")
        }
        for text in ["0", "f", "F", "FALSE", "false", "False"] {
            #expect(try !settings(["compress": text]).compress, "\(text)")
        }
        #expect(throws: BerthError.invalidArgument("failed to initialize logging driver: strconv.ParseBool: parsing \"on\": invalid syntax")) {
            try settings(["compress": "on"])
        }
        let rule = BerthError.invalidArgument(
            "failed to initialize logging driver: compress cannot be true when max-file is less than 2 or max-size is not set")
        for options in [["compress": "true"], ["max-size": "1k", "compress": "true"], ["max-file": "5", "compress": "true"],
                        ["max-size": "1k", "max-file": "1", "compress": "true"]] {
            #expect(throws: rule, "\(options)") { try settings(options) }
        }
        // The daemon's log-opts count as the container's own.
        var compressing = defaults
        compressing.logOptions = ["max-size": "1k", "max-file": "3", "compress": "true"]
        #expect(try LogSettings(nil, defaults: compressing).compress)
    }

    @Test func containerIDsAreHexWithALetterUpFront() {
        let ids = (0..<50).map { _ in ContainerIdentity.newID() }
        for id in ids {
            #expect(id.count == 64 && id.allSatisfy(\.isHexDigit))
            #expect(id.prefix(12).contains { $0.isLetter })
        }
        #expect(Set(ids).count == ids.count)
    }

    @Test func listFiltersAreChecked() throws {
        #expect(throws: BerthError.self) { try ContainerFilters(["bogus": ["1"]]) }
        #expect(throws: BerthError.self) { try ContainerFilters(["status": ["sleeping"]]) }
        #expect(throws: BerthError.self) { try ContainerFilters(["exited": ["x"]]) }
        #expect(ContainerFilters.label("a=b", in: ["a": "b"]))
        #expect(!ContainerFilters.label("a=c", in: ["a": "b"]))
        #expect(ContainerFilters.label("a", in: ["a": ""]))
        #expect(ContainerFilters.regex("^/web$", matches: "web"))
        #expect(ContainerFilters.regex("we", matches: "web"))
        #expect(try ContainerFilters.ports(of: "80", key: "publish") == ["80/tcp"])
        #expect(try ContainerFilters.ports(of: "80/", key: "publish") == ["80/tcp"])
        #expect(try ContainerFilters.ports(of: "8000-8002/udp", key: "expose") == ["8000/udp", "8001/udp", "8002/udp"])
        #expect(throws: BerthError.invalidArgument(#"error while looking up for publish eighty: strconv.ParseUint: parsing "eighty": invalid syntax"#)) {
            try ContainerFilters.ports(of: "eighty", key: "publish")
        }
        #expect(throws: BerthError.invalidArgument(#"error while looking up for expose 99999: strconv.ParseUint: parsing "99999": value out of range"#)) {
            try ContainerFilters.ports(of: "99999", key: "expose")
        }
        #expect(throws: BerthError.invalidArgument("error while looking up for expose 9-1: invalid range specified for port: 9-1")) {
            try ContainerFilters.ports(of: "9-1", key: "expose")
        }
        #expect(throws: BerthError.invalidArgument("filter for 'publish' should not contain ':': 1:2")) {
            try ContainerFilters.ports(of: "1:2", key: "publish")
        }
    }
}

@Suite struct ContainerListJSONTests {
    /// The hand-written list is byte for byte what the API's encoder writes for the same
    /// summaries: dockerd's key order (nested endpoints and mounts too) and Go's escapes.
    @Test func handWrittenJSONMatchesTheEncoder() throws {
        var bridge = EndpointView(NetworkID: "n1")
        bridge.Aliases = ["web"]
        var summary = ContainerSummary(
            Id: "abc", Names: ["/web"], Image: "busybox", ImageID: "sha256:1", Command: "sh -c \"echo \\\\ hi\"\n\t\u{8}\u{2028}<&>",
            Created: 1_764_414_000, SizeRw: 12, SizeRootFs: nil, Labels: ["b": "2", "a": "\u{1}x"], State: "running",
            Status: "Up 2 seconds", HostConfig: .init(NetworkMode: "bridge"),
            NetworkSettings: .init(Networks: ["bridge": bridge, "app": EndpointView(NetworkID: "n2")]))
        summary.Ports = [.init(IP: "0.0.0.0", PrivatePort: 80, PublicPort: 8080, Type: "tcp"),
                         .init(IP: nil, PrivatePort: 53, PublicPort: nil, Type: "udp")]
        summary.Mounts = [MountView(Type: "volume", Name: "data", Source: "/v/_data", Destination: "/data", Driver: "local",
                                    Mode: "z", RW: true, Propagation: "")]
        let fast = ContainerSummary.json([summary, summary])
        #expect(fast == (try DeclarationOrderJSON.encode([summary, summary])) + Array("\n".utf8))
        let text = String(decoding: fast, as: UTF8.self)
        #expect(text.contains(#""Mounts":[{"Type":"volume","Name":"data","Source":"/v/_data","Destination":"/data","Driver":"local""#))
        #expect(text.contains(#"{"app":{"IPAMConfig":null,"Links":null,"Aliases":null,"MacAddress":"","#))
        #expect(text.contains(#"\b\u2028<&>""#))

        summary.Mounts = []
        summary.NetworkSettings.Networks = [:]
        #expect(ContainerSummary.json([summary]) == (try DeclarationOrderJSON.encode([summary])) + Array("\n".utf8))
        #expect(ContainerSummary.json([]) == Array("[]\n".utf8))
    }
}

@Suite struct MountPropagationCheckTests {
    static let mountInfo = """
    22 1 8:1 / / rw,relatime - ext4 /dev/vda rw
    30 22 0:26 / /srv/shared rw shared:5 - tmpfs tmpfs rw
    31 22 0:27 / /srv/slave rw master:5 - tmpfs tmpfs rw
    32 22 0:28 / /srv/with\\040space rw shared:7 - tmpfs tmpfs rw
    """

    @Test func theLongestMountPointHoldsThePath() {
        #expect(MountPropagationCheck.sourceMount(of: "/srv/shared/a/b", in: Self.mountInfo)?.0 == "/srv/shared")
        #expect(MountPropagationCheck.sourceMount(of: "/srv/sharedx", in: Self.mountInfo)?.0 == "/")
        #expect(MountPropagationCheck.sourceMount(of: "/srv/slave", in: Self.mountInfo)?.1 == ["master:5"])
        #expect(MountPropagationCheck.sourceMount(of: "/srv/with space/x", in: Self.mountInfo)?.0 == "/srv/with space")
    }

    @Test func sharedAndSlaveNeedAMountThatGivesThem() throws {
        // "/" exists everywhere; the mount table says what it is.
        #expect(throws: BerthError.internalError("path / is mounted on / but it is not a shared mount")) {
            try MountPropagationCheck.check(source: "/", propagation: "rshared", mountInfo: Self.mountInfo)
        }
        #expect(throws: BerthError.internalError("path / is mounted on / but it is not a shared or slave mount")) {
            try MountPropagationCheck.check(source: "/", propagation: "slave", mountInfo: Self.mountInfo)
        }
        try MountPropagationCheck.check(source: "/", propagation: "rprivate", mountInfo: Self.mountInfo)
        let shared = Self.mountInfo.replacing("/ / rw,relatime -", with: "/ / rw,relatime shared:1 -")
        try MountPropagationCheck.check(source: "/", propagation: "rshared", mountInfo: shared)
        try MountPropagationCheck.check(source: "/", propagation: "rslave", mountInfo: shared)
    }
}
