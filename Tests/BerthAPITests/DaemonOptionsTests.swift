import BerthEngine
import Foundation
import Testing

/// berthd's flags and daemon.json, checked against dockerd's rules and wording.
struct DaemonOptionsTests {
    /// Defaults whose config file does not exist, so the host's /etc/berth never matters.
    let defaults: DaemonOptions = {
        var defaults = DaemonOptions()
        defaults.configFile = NSTemporaryDirectory() + "berth-absent-\(UUID().uuidString).json"
        return defaults
    }()

    func withConfig(_ json: String, _ body: (String) throws -> Void) throws {
        let path = NSTemporaryDirectory() + "berth-daemon-\(UUID().uuidString).json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    func failure(_ arguments: [String]) -> String? {
        do {
            _ = try DaemonOptions.parse(arguments, defaults: defaults)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func insecureRegistriesFromFlagsAndFile() throws {
        let flags = try DaemonOptions.parse(["--insecure-registry", "10.0.0.0/8", "--insecure-registry=registry.example:5000"],
                                            defaults: defaults)
        #expect(flags.insecureRegistries == ["10.0.0.0/8", "registry.example:5000"])
        try withConfig(#"{"insecure-registries": ["192.168.0.0/16", "r.example"]}"#) { path in
            let file = try DaemonOptions.parse(["--config-file", path], defaults: defaults)
            #expect(file.insecureRegistries == ["192.168.0.0/16", "r.example"])
        }
        try withConfig(#"{"insecure-registries": "r.example"}"#) { path in
            #expect(failure(["--config-file", path])?.contains("invalid value for insecure-registries") == true)
        }
    }

    @Test func flagsInEverySpelling() throws {
        let options = try DaemonOptions.parse([
            "-H", "unix:///tmp/a.sock", "--host=tcp://127.0.0.1:2375", "--host", "fd://",
            "--data-root=/d", "--exec-root", "/e", "-D", "--log-level", "warn", "-G", "staff",
            "--pidfile", "/p.pid", "--live-restore=false", "--log-driver", "local", "--log-opt", "max-size=10m",
            "--log-opt=max-file=3",
        ], defaults: defaults)
        #expect(options.hosts == ["unix:///tmp/a.sock", "tcp://127.0.0.1:2375", "fd://"])
        #expect(options.dataRoot == "/d")
        #expect(options.execRoot == "/e")
        #expect(options.debug)
        #expect(options.logLevel == "warn")
        #expect(options.group == "staff")
        #expect(options.pidFile == "/p.pid")
        #expect(!options.liveRestore)
        #expect(options.logDriver == "local")
        #expect(options.logOptions == ["max-size": "10m", "max-file": "3"])
    }

    @Test func defaultsWhenNothingIsGiven() throws {
        let options = try DaemonOptions.parse([], defaults: defaults)
        #expect(options.hosts == ["unix:///run/berth/berth.sock"])
        #expect(options.dataRoot == "/var/lib/berth")
        #expect(options.pidFile == "/run/berth/berthd.pid")
        #expect(options.logLevel == "info")
        #expect(!options.debug)
    }

    @Test func badFlagsAreRefused() {
        #expect(failure(["--bogus"]) == "unknown flag: --bogus")
        #expect(failure(["--data-root"]) == "flag needs an argument: --data-root")
        #expect(failure(["--log-level", "loud"]) == "unable to parse logging level: loud")
        #expect(failure(["--debug=maybe"]) == "invalid boolean value \"maybe\" for --debug")
        #expect(failure(["--log-opt", "novalue"]) == "invalid key/value pair \"novalue\": must be in the form key=value")
    }

    @Test func configFileKeysApply() throws {
        try withConfig(#"{"data-root": "/srv/berth", "debug": true, "hosts": ["unix:///x.sock"], "log-opts": {"max-size": "1m"}, "bip": "10.0.0.1/24"}"#) { path in
            let options = try DaemonOptions.parse(["--config-file", path], defaults: defaults)
            #expect(options.dataRoot == "/srv/berth")
            #expect(options.debug)
            #expect(options.hosts == ["unix:///x.sock"])
            #expect(options.logOptions == ["max-size": "1m"])
        }
    }

    @Test func configFileErrorsUseDockersWording() throws {
        try withConfig(#"{"foo": 1, "bar": 2}"#) { path in
            #expect(failure(["--config-file", path])
                == "unable to configure the Berth daemon with file \(path): the following directives don't match any configuration option: bar, foo")
        }
        try withConfig(#"{"data-root": "/b"}"#) { path in
            #expect(failure(["--config-file", path, "--data-root", "/a"])
                == "unable to configure the Berth daemon with file \(path): the following directives are specified both as a flag and in the configuration file: data-root: (from flag: /a, from file: /b)")
        }
        try withConfig("{not json") { path in
            #expect(failure(["--config-file", path])?.hasPrefix("unable to configure the Berth daemon with file \(path): invalid JSON") == true)
        }
        try withConfig(#"{"debug": "yes"}"#) { path in
            #expect(failure(["--config-file", path]) == "unable to configure the Berth daemon with file \(path): invalid value for debug: yes")
        }
        let absent = NSTemporaryDirectory() + "berth-none-\(UUID().uuidString).json"
        #expect(failure(["--config-file", absent])
            == "unable to configure the Berth daemon with file \(absent): open \(absent): no such file or directory")
    }

    @Test func hostGatewayIPFromFlagOrFile() throws {
        let flag = try DaemonOptions.parse(["--host-gateway-ip", "192.0.2.1"], defaults: defaults)
        #expect(flag.hostGatewayIP == "192.0.2.1")
        #expect(failure(["--host-gateway-ip", "nope"])
            == "invalid argument \"nope\" for \"--host-gateway-ip\" flag: invalid string being converted to IP address: nope")
        try withConfig(#"{"host-gateway-ip": "2001:db8::1"}"#) { path in
            let file = try DaemonOptions.parse(["--config-file", path], defaults: defaults)
            #expect(file.hostGatewayIP == "2001:db8::1")
        }
        try withConfig(#"{"host-gateway-ip": "x"}"#) { path in
            #expect(failure(["--config-file", path]) == "unable to configure the Berth daemon with file \(path): invalid value for host-gateway-ip: x")
        }
    }

    @Test func networkSettingsFollowDockerdsRules() throws {
        try withConfig(#"{"icc": false, "ip-masq": false, "bridge": "none"}"#) { path in
            let options = try DaemonOptions.parse(["--config-file", path], defaults: defaults)
            #expect(options.icc == false)
            #expect(options.ipMasquerade == false)
            #expect(options.bridge == "none")
        }
        let plain = try DaemonOptions.parse([], defaults: defaults)
        #expect(plain.icc && plain.ipMasquerade && plain.ipForward && plain.iptables)
        try withConfig(#"{"icc": "no"}"#) { path in
            #expect(failure(["--config-file", path]) == "unable to configure the Berth daemon with file \(path): invalid value for icc: no")
        }
        try withConfig(#"{"icc": false, "iptables": false}"#) { path in
            #expect(failure(["--config-file", path])
                == "You specified --iptables=false with --icc=false. ICC=false uses iptables to function. Please set --icc or --iptables to true")
        }
        try withConfig(#"{"bridge": "br0", "bip": "10.0.0.1/24"}"#) { path in
            #expect(failure(["--config-file", path]) == "You specified -b & --bip, mutually exclusive options. Please specify only one")
        }
    }

    /// default-shm-size, default-ipc-mode, init, default-ulimits and seccomp-profile reach
    /// every container's defaults, from daemon.json or flags, checked with dockerd's words.
    @Test func containerDefaultsFromTheDaemon() throws {
        try withConfig(#"{"default-shm-size": "128M", "default-ipc-mode": "shareable", "init": true, "default-ulimits": {"nofile": {"Name": "nofile", "Soft": 4096, "Hard": 8192}}}"#) { path in
            let options = try DaemonOptions.parse(["--config-file", path], defaults: defaults)
            let spec = try options.specDefaults(DaemonSpecDefaults())
            #expect(spec.shmSize == 128 << 20 && spec.ipcMode == "shareable" && spec.initByDefault)
            #expect(spec.ulimits == ["nofile": Ulimit(Name: "nofile", Soft: 4096, Hard: 8192)])
            #expect(spec.seccompProfile == nil)
        }
        let flags = try DaemonOptions.parse(["--default-shm-size=1g", "--init", "--default-ipc-mode", "private"], defaults: defaults)
        #expect(flags.defaultShmSize == 1 << 30 && flags.initByDefault && flags.defaultIpcMode == "private")
        #expect(failure(["--default-ipc-mode", "host"]) == #"IPC mode "host" is not supported as default value; use "shareable" or "private""#)
        #expect(failure(["--default-ipc-mode", "bogus"]) == #"default IPC mode setting (bogus) is invalid; use "shareable" or "private""#)
        #expect(failure(["--default-shm-size", "lots"]) == #"invalid default-shm-size "lots": invalid size: 'lots'"#)

        let profile = NSTemporaryDirectory() + "berth-profile-\(UUID().uuidString).json"
        try #"{"defaultAction": "SCMP_ACT_ALLOW"}"#.write(toFile: profile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let withProfile = try DaemonOptions.parse(["--seccomp-profile", profile], defaults: defaults)
        #expect(try withProfile.specDefaults(DaemonSpecDefaults()).seccompProfile == #"{"defaultAction": "SCMP_ACT_ALLOW"}"#)
        let missing = try DaemonOptions.parse(["--seccomp-profile", "/nonexistent.json"], defaults: defaults)
        #expect(throws: DaemonOptions.Failure("opening seccomp profile (/nonexistent.json) failed: open /nonexistent.json: no such file or directory")) {
            try missing.specDefaults(DaemonSpecDefaults())
        }
        #expect(withProfile.seccompProfileName == profile && flags.seccompProfileName == "builtin")
        // unconfined: no file to read, and no filter for containers that name no profile.
        let unconfined = try DaemonOptions.parse(["--seccomp-profile", "unconfined"], defaults: defaults)
        let unconfinedSpec = try unconfined.specDefaults(DaemonSpecDefaults())
        #expect(unconfinedSpec.seccompUnconfined && unconfinedSpec.seccompProfile == nil && unconfined.seccompProfileName == "unconfined")
        #expect(try !DaemonOptions.parse(["--seccomp-profile", "builtin"], defaults: defaults).specDefaults(DaemonSpecDefaults()).seccompUnconfined)
    }

    /// `--default-ulimit name=soft[:hard]`, repeatable, read as go-units reads it.
    @Test func defaultUlimitFlags() throws {
        let options = try DaemonOptions.parse(["--default-ulimit", "nofile=1024:2048", "--default-ulimit=nproc=512"], defaults: defaults)
        #expect(options.defaultUlimits == ["nofile": Ulimit(Name: "nofile", Soft: 1024, Hard: 2048),
                                           "nproc": Ulimit(Name: "nproc", Soft: 512, Hard: 512)])
        let flag = #"invalid argument "%@" for "--default-ulimit" flag: "#
        let cases = [
            ("nofile", "invalid ulimit argument: nofile"),
            ("files=1", "invalid ulimit type: files"),
            ("nofile=x", #"strconv.ParseInt: parsing "x": invalid syntax"#),
            ("nofile=1:2:3", #"strconv.ParseInt: parsing "2:3": invalid syntax"#),
            ("nofile=20:10", "ulimit soft limit must be less than or equal to hard limit: 20 > 10"),
        ]
        for (value, message) in cases {
            #expect(failure(["--default-ulimit", value]) == flag.replacingOccurrences(of: "%@", with: value) + message, "\(value)")
        }
        try withConfig(#"{"default-ulimits": {"nofile": {"Name": "nofile", "Soft": 1, "Hard": 2}}}"#) { path in
            #expect(failure(["--config-file", path, "--default-ulimit", "nofile=3"])?.contains(
                "the following directives are specified both as a flag and in the configuration file: default-ulimits") == true)
        }
    }
}
