import CSystemShims
import Foundation
import Testing

/// A berthd on temporary paths, stopped with SIGTERM by its pid when the test ends.
final class TestDaemon {
    let directory: String
    let socket: String
    let process = Process()

    var host: String { "unix://" + socket }

    /// The cgroup parents the test daemons make in every hierarchy, berthd's default /berth and
    /// the tests' /berth-test, go when the test process ends, if empty (rmdir refuses
    /// otherwise, so a berthd of the host that uses one keeps it).
    private static let cgroupParentsCleanup: Void = {
        atexit {
            let hierarchies = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []
            for parent in ["berth", "berth-test"] {
                for hierarchy in hierarchies { rmdir("/sys/fs/cgroup/" + hierarchy + "/" + parent) }
                rmdir("/sys/fs/cgroup/" + parent)
            }
        }
    }()

    /// A new daemon, or with `directory` one restarted on an earlier daemon's state. With
    /// `socketActivated`, a launcher binds the socket and passes it as systemd does (fd 3,
    /// LISTEN_PID, LISTEN_FDS) to berthd started with `-H fd://`. A `launcher` (a command that
    /// execs its arguments, such as `unshare --net`) runs berthd in its own surroundings.
    init(configuration: String = "{}", directory existing: String? = nil, extraHosts: [String] = [],
         socketActivated: Bool = false, launcher: [String] = []) throws {
        _ = Self.cgroupParentsCleanup
        directory = existing ?? NSTemporaryDirectory() + Harness.uniqueID("berthd")
        socket = directory + "/berth.sock"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if existing == nil {
            try configuration.write(toFile: directory + "/daemon.json", atomically: true, encoding: .utf8)
        }
        if socketActivated {
            let launcher = """
                import os, socket, sys
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.bind(sys.argv[1]); s.listen(64)
                if s.fileno() != 3: os.dup2(s.fileno(), 3)
                os.set_inheritable(3, True)
                os.environ['LISTEN_PID'] = str(os.getpid()); os.environ['LISTEN_FDS'] = '1'
                os.execv(sys.argv[2], sys.argv[2:])
                """
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = ["-c", launcher, socket, Harness.binary("berthd"), "-H", "fd://"] + arguments.dropFirst(2)
        } else if let tool = launcher.first {
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = launcher.dropFirst() + [Harness.binary("berthd")] + arguments + extraHosts.flatMap { ["-H", $0] }
        } else {
            process.executableURL = URL(fileURLWithPath: Harness.binary("berthd"))
            process.arguments = arguments + extraHosts.flatMap { ["-H", $0] }
        }
        process.environment = Harness.loopbackOnlyEnvironment
        process.standardOutput = FileHandle.nullDevice
        _ = FileManager.default.createFile(atPath: directory + "/berthd.log", contents: nil)
        process.standardError = FileHandle(forWritingAtPath: directory + "/berthd.log")
        try process.run()
        launched = true
        // Ready when /_ping answers.
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline && process.isRunning {
            if FileManager.default.fileExists(atPath: socket) && curl(["-m", "1", "http://berth/_ping"]).stdout == "OK" { return }
            usleep(10_000)
        }
        throw TestFailure("berthd did not start: \(log)")
    }

    var log: String { (try? String(contentsOfFile: directory + "/berthd.log", encoding: .utf8)) ?? "" }

    var arguments: [String] {
        ["-H", host, "--data-root", directory + "/data", "--exec-root", directory + "/exec",
         "--pidfile", directory + "/berthd.pid", "--config-file", directory + "/daemon.json"]
    }

    @discardableResult
    func docker(_ args: [String], stdin: String? = nil) -> Harness.Result {
        Harness.run(Harness.dockerCLI, ["-H", host] + args, stdin: stdin)
    }

    /// A docker CLI left running (a stream, an attach), its stdio on /dev/null.
    func dockerInBackground(_ args: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Harness.dockerCLI)
        process.arguments = ["-H", host] + args
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    func curl(_ args: [String]) -> Harness.Result {
        Harness.run("/usr/bin/curl", ["-s", "--unix-socket", socket] + args)
    }

    func stop() -> Int32 {
        // A berthd that could not be run (say, while it is being linked) has no status to
        // ask for: Foundation would trap, ending the whole test process.
        guard launched else { return -1 }
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Kills the daemon without letting it clean up (a crash).
    func crash() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        keepDirectory = true
    }

    private var keepDirectory = false
    private var launched = false

    deinit {
        // With live-restore the containers would outlive the daemon: remove them first.
        if process.isRunning && !keepDirectory {
            let ids = docker(["ps", "-aq"]).stdout.split(separator: "\n").map(String.init)
            if !ids.isEmpty { docker(["rm", "-f"] + ids) }
        }
        _ = stop()
        if !keepDirectory { try? FileManager.default.removeItem(atPath: directory) }
    }
}

@Suite(.enabled(if: Harness.isRoot, "berthd runs as root"), .serialized)
struct DaemonTests {
    @Test func versionAndInfoThroughTheStockCLI() throws {
        let daemon = try TestDaemon()
        let version = daemon.docker(["version"])
        #expect(version.status == 0, "\(version.stderr)")
        #expect(version.stdout.contains("Server: Berth Engine"))
        #expect(version.stdout.contains("API version:      1.50 (minimum version 1.40)"))
        let info = daemon.docker(["info", "--format", "{{.NCPU}} {{.OSType}} {{.Driver}} {{.DockerRootDir}} {{.LiveRestoreEnabled}}"])
        #expect(info.status == 0, "\(info.stderr)")
        #expect(info.stdout == "\(ProcessInfo.processInfo.activeProcessorCount) linux overlay2 \(daemon.directory)/data true\n")
        let full = daemon.docker(["info"])
        #expect(full.status == 0)
        let kernel = Harness.run("/bin/uname", ["-r"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(full.stdout.contains("Kernel Version: \(kernel)\n"))
        // The overlay2 status lines, the OS version and the firewall backend, as dockerd has them.
        #expect(full.stdout.contains("  Supports d_type: true\n  Using metacopy: false\n  Native Overlay Diff: true\n  userxattr: false\n"),
                "\(full.stdout)")
        let osVersion = Harness.run("/bin/sh", ["-c", ". /etc/os-release; echo $VERSION_ID"]).stdout
        #expect(daemon.docker(["info", "-f", "{{.OSVersion}}"]).stdout == osVersion)
        #expect(daemon.docker(["info", "-f", "{{.FirewallBackend.Driver}}"]).stdout == "nftables\n")
        #expect(daemon.docker(["version", "-f", "{{range .Server.Components}}{{.Name}} {{end}}"]).stdout
            == "Engine berth-runtime berth-init \n")
        // Fields that depend on the API version: FirewallBackend from 1.49, bridge-nf ones before 1.50.
        let old = daemon.curl(["http://berth/v1.48/info"]).stdout
        #expect(!old.contains("FirewallBackend") && old.contains(#""BridgeNfIptables":false"#) && old.contains(#""InitCommit":{"#))
        #expect(old.contains(#""Expected":"""#))
        #expect(!daemon.curl(["http://berth/v1.50/info"]).stdout.contains("BridgeNf"))
        #expect(daemon.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: daemon.socket))
        #expect(!FileManager.default.fileExists(atPath: daemon.directory + "/berthd.pid"))
    }

    @Test func infoShowsTheRegistryConfig() throws {
        let daemon = try TestDaemon(configuration: #"{"insecure-registries": ["10.5.1.1/16", "registry.test:5000"]}"#)
        let fields = daemon.docker(["info", "-f", "{{.RegistryConfig.InsecureRegistryCIDRs}} {{.IndexServerAddress}}"])
        #expect(fields.stdout == "[10.5.0.0/16 ::1/128 127.0.0.0/8] https://index.docker.io/v1/\n", "\(fields.stderr)")
        let hub = daemon.docker(["info", "-f", "{{json .RegistryConfig.IndexConfigs}}"])
        #expect(hub.stdout.contains(#""docker.io":{"Name":"docker.io","Mirrors":[],"Secure":true,"Official":true}"#), "\(hub.stdout)")
        #expect(hub.stdout.contains(#""registry.test:5000":{"Name":"registry.test:5000","Mirrors":[],"Secure":false,"Official":false}"#))
        let full = daemon.docker(["info"]).stdout
        #expect(full.contains(" Insecure Registries:\n  registry.test:5000\n  10.5.0.0/16\n  ::1/128\n  127.0.0.0/8\n"), "\(full)")
        // Clients before 1.47 also get the non-distributable artifacts fields, null.
        #expect(daemon.curl(["http://berth/v1.46/info"]).stdout.contains(#""AllowNondistributableArtifactsCIDRs":null"#))
        #expect(!daemon.curl(["http://berth/v1.47/info"]).stdout.contains("AllowNondistributable"))
    }

    @Test func pingVersionsAndUnknownRoutes() throws {
        let daemon = try TestDaemon()
        let ping = daemon.curl(["-I", "http://berth/_ping"])
        for header in ["API-Version: 1.50", "Ostype: linux", "Docker-Experimental: false",
                       "Cache-Control: no-cache, no-store, must-revalidate", "Pragma: no-cache"] {
            #expect(ping.stdout.lowercased().contains(header.lowercased()), "missing \(header) in \(ping.stdout)")
        }
        #expect(daemon.curl(["http://berth/v1.44/_ping"]).stdout == "OK")
        #expect(daemon.curl(["http://berth/v1.39/version"]).stdout
            == "{\"message\":\"client version 1.39 is too old. Minimum supported API version is 1.40, please upgrade your client to a newer version\"}\n")
        #expect(daemon.curl(["http://berth/v1.51/version"]).stdout
            == "{\"message\":\"client version 1.51 is too new. Maximum supported API version is 1.50\"}\n")
        let unknown = daemon.curl(["-w", "%{http_code}", "http://berth/v1.50/no/such/route"])
        #expect(unknown.stdout == "{\"message\":\"page not found\"}\n404")
    }

    @Test func unbuiltFeaturesSay501NotAFakeSuccess() throws {
        let daemon = try TestDaemon()
        // There are no containers, and the list says so.
        let ps = daemon.docker(["ps", "-a", "--format", "{{.ID}}"])
        #expect(ps.status == 0, "\(ps.stderr)")
        #expect(ps.stdout.isEmpty)
        // No managed plugins: an empty list (after dockerd's filter checks); installing one is 501.
        #expect(daemon.docker(["plugin", "ls"]).stdout == "ID        NAME      DESCRIPTION   ENABLED\n")
        let badFilter = daemon.docker(["plugin", "ls", "--filter", "enabled=maybe"])
        #expect(badFilter.status == 1 && badFilter.stderr == "Error response from daemon: invalid filter 'enabled=[maybe]'\n", "\(badFilter)")
        #expect(daemon.docker(["plugin", "inspect", "x"]).stderr == "Error response from daemon: plugin \"x\" not found\n")
        let install = daemon.curl(["-w", "\n%{http_code}", "-X", "POST", "http://berth/v1.50/plugins/pull?remote=x"])
        #expect(install.stdout.hasSuffix("\n501") && install.stdout.contains("plugins is not implemented yet"), "\(install.stdout)")
        let rm = daemon.docker(["rm", "nope"])
        #expect(rm.status == 1)
        #expect(rm.stderr.contains("Error response from daemon: No such container: nope"), "\(rm.stderr)")
        #expect(daemon.docker(["container", "prune", "-f"]).stdout == "Total reclaimed space: 0B\n")
        // Networks are served now (NetworkTests): the three predefined ones are listed.
        #expect(daemon.docker(["network", "ls", "-q"]).stdout.split(separator: "\n").count == 3)
        let session = daemon.curl(["-w", "\n%{http_code}", "-X", "POST", "http://berth/v1.50/session"])
        #expect(session.stdout.hasSuffix("\n501"), "\(session.stdout)")
    }

    @Test func keepAliveAndBoundedBodies() throws {
        let daemon = try TestDaemon()
        // Two requests on one connection.
        let twice = daemon.curl(["-v", "http://berth/_ping", "http://berth/v1.50/version"])
        #expect(twice.stderr.contains("Re-using existing connection"), "\(twice.stderr)")
        #expect(twice.stdout.hasPrefix("OK{"))
        // A JSON body over 10 MiB is refused without being held.
        let big = daemon.directory + "/big.json"
        try Data(count: 11 << 20).write(to: URL(fileURLWithPath: big))
        let refused = daemon.curl(["-w", "%{http_code}", "-X", "POST", "-H", "Content-Type: application/json",
                                   "--data-binary", "@" + big, "http://berth/v1.50/containers/create"])
        #expect(refused.stdout == "{\"message\":\"request body is larger than 10485760 bytes\"}\n413")
        #expect(daemon.curl(["http://berth/_ping"]).stdout == "OK")
    }

    @Test func systemdSocketActivation() throws {
        let daemon = try TestDaemon(socketActivated: true)
        let version = daemon.docker(["version", "--format", "{{.Server.Version}} {{.Server.GoVersion}}"])
        #expect(version.status == 0, "\(version.stderr)")
        #expect(version.stdout.hasPrefix("0.1.0 swift6"))
        #expect(daemon.stop() == 0)
    }

    @Test func oneDaemonPerPidFileAndDataRoot() throws {
        let daemon = try TestDaemon()
        let second = Harness.run(Harness.binary("berthd"), daemon.arguments.map {
            $0 == daemon.host ? daemon.host + "-2" : $0
        })
        #expect(second.status == 1)
        #expect(second.stderr.contains("pid file found, ensure berthd is not running or delete"))
        var otherPidFile = daemon.arguments
        otherPidFile[otherPidFile.firstIndex(of: "--pidfile")! + 1] = daemon.directory + "/other.pid"
        otherPidFile[1] = daemon.host + "-3"
        let third = Harness.run(Harness.binary("berthd"), otherPidFile)
        #expect(third.status == 1)
        #expect(third.stderr.contains("is in use by another berthd"))
    }

    /// Each container, layer and volume directory starts its own tree, so ext4 is told to
    /// spread them over its block groups (see TopDirectory).
    @Test(.enabled(if: berth_filesystem_type(NSTemporaryDirectory()) == 0xEF53,
                   "FS_TOPDIR_FL is an ext2/3/4 flag; the temporary directory is on another file system"))
    func directoriesOfContainersLayersAndVolumesAreMarkedTopDirectories() throws {
        let daemon = try TestDaemon()
        let topDirectoryFlag: Int32 = 0x0002_0000
        for path in ["data/containers", "data/overlay", "data/volumes", "exec/containers", "exec/runtime"] {
            let flags = berth_directory_flags(daemon.directory + "/" + path)
            #expect(flags >= 0 && flags & topDirectoryFlag != 0, "\(path): flags \(flags)")
        }
        #expect(daemon.stop() == 0)
    }

    @Test func badConfigurationStopsStartupWithDockersWording() throws {
        let attempts = try ConfigStartAttempts("berthd-bad")
        let directory = attempts.directory, config = attempts.config
        func start(_ json: String, _ flags: [String] = []) throws -> Harness.Result { try attempts.start(json, flags) }
        let unknown = try start(#"{"bogus-key": 1}"#)
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("the following directives don't match any configuration option: bogus-key"))
        let both = try start(#"{"data-root": "/b"}"#, ["--data-root", directory + "/a"])
        #expect(both.status == 1)
        #expect(both.stderr.contains("the following directives are specified both as a flag and in the configuration file: data-root: (from flag: \(directory)/a, from file: /b)"))
        let malformed = try start("{not json")
        #expect(malformed.status == 1)
        #expect(malformed.stderr.contains("unable to configure the Berth daemon with file \(config)"))
        let level = try start("{}", ["--log-level", "loud"])
        #expect(level.status == 1)
        #expect(level.stderr.contains("unable to parse logging level: loud"))
        let missing = Harness.run(Harness.binary("berthd"), ["--config-file", directory + "/absent.json"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no such file or directory"))
    }

    @Test func tcpListenerAndSIGHUPReload() throws {
        let port = Harness.freePort()
        let daemon = try TestDaemon(extraHosts: ["tcp://127.0.0.1:\(port)"])
        let overTCP = Harness.run(Harness.dockerCLI, ["-H", "tcp://127.0.0.1:\(port)", "version", "--format", "{{.Server.APIVersion}}"])
        #expect(overTCP.stdout == "1.50\n", "\(overTCP.stderr)")
        #expect(daemon.docker(["info", "--format", "{{.LiveRestoreEnabled}}"]).stdout == "true\n")
        try #"{"debug": true, "live-restore": false}"#.write(toFile: daemon.directory + "/daemon.json", atomically: true, encoding: .utf8)
        kill(daemon.process.processIdentifier, SIGHUP)
        let deadline = Date().addingTimeInterval(5)
        var log = ""
        while !log.contains("log level debug") && Date() < deadline {
            usleep(20_000)
            log = (try? String(contentsOfFile: daemon.directory + "/berthd.log", encoding: .utf8)) ?? ""
        }
        #expect(log.contains("reloaded \(daemon.directory)/daemon.json: log level debug"))
        _ = daemon.curl(["http://berth/_ping"])
        usleep(100_000)
        log = (try? String(contentsOfFile: daemon.directory + "/berthd.log", encoding: .utf8)) ?? ""
        #expect(log.contains("GET /_ping 200"), "request lines are logged at debug")
        #expect(daemon.docker(["info", "--format", "{{.Debug}}"]).stdout == "true\n")
        // live-restore is reloaded too, as dockerd's.
        #expect(daemon.docker(["info", "--format", "{{.LiveRestoreEnabled}}"]).stdout == "false\n")
    }
}
