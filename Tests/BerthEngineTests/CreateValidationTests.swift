import BerthOCI
import Testing
@testable import BerthEngine

struct CreateValidationTests {
    /// A two-CPU cgroup v1 host that supports everything.
    static let host = HostFacts(cpuCount: 2, onlineCPUs: "0-1", onlineMems: "0", totalMemory: 4 << 30, cgroupV2: false)

    static func validate(_ change: (inout HostConfig) -> Void, config: ContainerConfig = ContainerConfig(),
                         host: HostFacts = host) throws -> ValidatedCreate {
        var hostConfig = HostConfig()
        change(&hostConfig)
        return try CreateValidation.validate(config: config, hostConfig: hostConfig, host: host, pathExists: { $0 == "/exists" })
    }

    static func expectError(_ message: String, config: ContainerConfig = ContainerConfig(),
                            _ change: (inout HostConfig) -> Void) {
        #expect(throws: BerthError.invalidArgument(message)) { try validate(change, config: config) }
    }

    @Test func anEmptyRequestIsValid() throws {
        #expect(try Self.validate { _ in }.warnings == [])
    }

    @Test func cpuRange() {
        Self.expectError("Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available") { $0.NanoCpus = 3_000_000_000 }
        Self.expectError("Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available") { $0.NanoCpus = -1 }
    }

    @Test func memoryLimits() {
        Self.expectError("Minimum memory limit allowed is 6MB") { $0.Memory = 1 << 20 }
        Self.expectError("Minimum memoryswap limit should be larger than memory limit, see usage") {
            $0.Memory = 64 << 20
            $0.MemorySwap = 32 << 20
        }
        Self.expectError("You should always set the Memory limit when using Memoryswap limit, see usage") { $0.MemorySwap = 64 << 20 }
        Self.expectError("Invalid value: 101, valid memory swappiness range is 0-100") { $0.MemorySwappiness = 101 }
        Self.expectError("Minimum memory reservation allowed is 6MB") { $0.MemoryReservation = 1024 }
        Self.expectError("Minimum memory limit can not be less than memory reservation limit, see usage") {
            $0.Memory = 64 << 20
            $0.MemoryReservation = 128 << 20
        }
    }

    @Test func swappinessMinusOneMeansUnset() throws {
        let result = try Self.validate { $0.MemorySwappiness = -1 }
        #expect(result.hostConfig.MemorySwappiness == nil)
    }

    @Test func cpuPeriodAndQuota() {
        Self.expectError("Conflicting options: Nano CPUs and CPU Period cannot both be set") {
            $0.NanoCpus = 1_000_000_000
            $0.CpuPeriod = 100_000
        }
        Self.expectError("Conflicting options: Nano CPUs and CPU Quota cannot both be set") {
            $0.NanoCpus = 1_000_000_000
            $0.CpuQuota = 50_000
        }
        Self.expectError("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)") { $0.CpuPeriod = 10 }
        Self.expectError("CPU cfs quota can not be less than 1ms (i.e. 1000)") { $0.CpuQuota = 10 }
    }

    @Test func cpusets() {
        Self.expectError("Requested CPUs are not available - requested 0-7, available: 0-1") { $0.CpusetCpus = "0-7" }
        Self.expectError("Requested memory nodes are not available - requested 1, available: 0") { $0.CpusetMems = "1" }
        Self.expectError("Invalid value 0-a for cpuset cpus: invalid format: 0-a") { $0.CpusetCpus = "0-a" }
    }

    @Test func blkioWeight() {
        Self.expectError("Range of blkio weight is from 10 to 1000") { $0.BlkioWeight = 5 }
    }

    @Test func oomKillDisableWithoutMemoryWarns() throws {
        let result = try Self.validate { $0.OomKillDisable = true }
        #expect(result.warnings == ["OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources."])
    }

    @Test func cgroupV2DiscardsWhatItCannotDo() throws {
        let v2 = HostFacts(cpuCount: 2, onlineCPUs: "0-1", onlineMems: "0", totalMemory: 4 << 30, cgroupV2: true)
        let result = try Self.validate({
            $0.OomKillDisable = true
            $0.MemorySwappiness = 10
        }, host: v2)
        #expect(result.hostConfig.OomKillDisable == nil)
        #expect(result.hostConfig.MemorySwappiness == nil)
        #expect(result.warnings == [
            "Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.",
            "Your kernel does not support OomKillDisable. OomKillDisable discarded.",
        ])
    }

    @Test func restartPolicies() {
        Self.expectError("invalid restart policy 'sometimes'") { $0.RestartPolicy = RestartPolicy(Name: "sometimes") }
        Self.expectError("maximum retry count cannot be used with restart policy 'always'") {
            $0.RestartPolicy = RestartPolicy(Name: "always", MaximumRetryCount: 3)
        }
        Self.expectError("maximum retry count cannot be negative") {
            $0.RestartPolicy = RestartPolicy(Name: "on-failure", MaximumRetryCount: -1)
        }
        Self.expectError("can't create 'AutoRemove' container with restart policy") {
            $0.AutoRemove = true
            $0.RestartPolicy = RestartPolicy(Name: "always")
        }
    }

    @Test func capabilities() throws {
        Self.expectError("invalid CapAdd: unknown capability: \"CAP_FOO\"") { $0.CapAdd = ["foo"] }
        Self.expectError("invalid CapDrop: unknown capability: \"CAP_BAR\"") { $0.CapDrop = ["CAP_BAR"] }
        _ = try Self.validate { $0.CapAdd = ["all", "net_admin", "CAP_SYS_TIME"] }
    }

    @Test func securityOptions() throws {
        Self.expectError("invalid --security-opt 1: \"bogus\"") { $0.SecurityOpt = ["bogus"] }
        Self.expectError("invalid --security-opt 2: \"foo=bar\"") { $0.SecurityOpt = ["foo=bar"] }
        Self.expectError("invalid --security-opt 2: \"no-new-privileges=maybe\"") { $0.SecurityOpt = ["no-new-privileges=maybe"] }
        let result = try Self.validate { $0.SecurityOpt = ["label=disable", "apparmor=unconfined", "no-new-privileges"] }
        // Warned about only where the host has what dockerd would have applied them with.
        let hostHas = (SecurityOptions.hostHasSELinux ? 1 : 0) + (SecurityOptions.hostHasAppArmor ? 1 : 0)
        #expect(result.warnings.count == hostHas)
        let options = try SecurityOptions(parsing: ["label=disable", "apparmor=unconfined"])
        #expect(options.warnings(selinux: true, apparmor: true) == [
            "SELinux is not supported by this daemon: security option label=disable is ignored.",
            "AppArmor is not supported by this daemon: security option apparmor=unconfined is ignored.",
        ])
        #expect(options.warnings(selinux: false, apparmor: false).isEmpty)
    }

    @Test func mountsAndTmpfs() {
        Self.expectError("invalid mount config for type \"bind\": bind source path does not exist: /nowhere") {
            $0.Mounts = [ContainerMount(Type: "bind", Source: "/nowhere", Target: "/data")]
        }
        Self.expectError("invalid mount config for type \"bind\": field Target must not be empty") {
            $0.Mounts = [ContainerMount(Type: "bind", Source: "/exists", Target: "")]
        }
        Self.expectError("invalid mount config for type \"bind\": invalid mount path: 'data' mount path must be absolute") {
            $0.Mounts = [ContainerMount(Type: "bind", Source: "/exists", Target: "data")]
        }
        Self.expectError("invalid mount config for type \"tmpfs\": field Source must not be specified") {
            $0.Mounts = [ContainerMount(Type: "tmpfs", Source: "/exists", Target: "/t")]
        }
        Self.expectError("invalid mount config for type \"nfs\": mount type unknown") {
            $0.Mounts = [ContainerMount(Type: "nfs", Target: "/t")]
        }
        Self.expectError("invalid specification: destination can't be '/'") { $0.Tmpfs = ["/": ""] }
        Self.expectError("invalid mount path: 'run' mount path must be absolute") { $0.Tmpfs = ["run": ""] }
    }

    @Test func extraHostsAndPorts() {
        Self.expectError("bad format for add-host: \"nocolon\"") { $0.ExtraHosts = ["nocolon"] }
        Self.expectError("invalid IP address in add-host: \"not-an-ip\"") { $0.ExtraHosts = ["db:not-an-ip"] }
        Self.expectError("invalid port specification: \"http\"") { $0.PortBindings = ["http/tcp": nil] }
        Self.expectError("invalid port specification: \"99999\"") { $0.PortBindings = ["80/tcp": [PortBinding(HostPort: "99999")]] }
    }

    @Test func namespaceModes() {
        Self.expectError("invalid IPC mode: weird") { $0.IpcMode = "weird" }
        Self.expectError("invalid PID mode: weird") { $0.PidMode = "weird" }
        Self.expectError("invalid UTS mode: weird") { $0.UTSMode = "weird" }
        Self.expectError("invalid cgroup namespace mode: weird") { $0.CgroupnsMode = "weird" }
        Self.expectError("Invalid network mode: invalid container format container:<name|id>") { $0.NetworkMode = "container:" }
        Self.expectError("Invalid value 1001, range for oom score adj is [-1000, 1000]") { $0.OomScoreAdj = 1001 }
        Self.expectError("SHM size can not be less than 0") { $0.ShmSize = -1 }
    }

    @Test func networkModeConflicts() {
        var config = ContainerConfig()
        config.Hostname = "web"
        Self.expectError("conflicting options: hostname and the network mode", config: config) { $0.NetworkMode = "container:db" }
        Self.expectError("conflicting options: hostname and the UTS mode", config: config) { $0.UTSMode = "host" }
        Self.expectError("conflicting options: dns and the network mode") {
            $0.NetworkMode = "container:db"
            $0.Dns = ["1.1.1.1"]
        }
    }

    @Test func hostNetworkWithPortsWarns() throws {
        let result = try Self.validate {
            $0.NetworkMode = "host"
            $0.PortBindings = ["80/tcp": [PortBinding(HostPort: "80")]]
        }
        #expect(result.warnings == ["Published ports are discarded when using host network mode"])
    }

    @Test func configChecks() {
        var config = ContainerConfig()
        config.WorkingDir = "relative"
        Self.expectError("the working directory 'relative' is invalid, it needs to be an absolute path", config: config) { _ in }
        config = ContainerConfig()
        config.StopSignal = "SIGNOPE"
        Self.expectError("invalid signal: SIGNOPE", config: config) { _ in }
        config = ContainerConfig()
        config.Env = ["=value"]
        Self.expectError("invalid environment variable: =value", config: config) { _ in }
        config = ContainerConfig()
        config.Healthcheck = HealthConfig(Interval: 1000)
        Self.expectError("Interval in Healthcheck cannot be less than 1ms", config: config) { _ in }
    }

    @Test func containerNames() throws {
        #expect(try CreateValidation.validateName("web-1") == "/web-1")
        #expect(try CreateValidation.validateName("/db.main_2") == "/db.main_2")
        for bad in ["a", "-web", "web!", "/_x", "wéb"] {
            #expect(throws: BerthError.invalidArgument("Invalid container name (\(bad)), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")) {
                try CreateValidation.validateName(bad)
            }
        }
    }

    @Test func generatedNamesAreDeterministicAndValid() throws {
        struct Counter: RandomNumberGenerator {
            var state: UInt64
            mutating func next() -> UInt64 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return state
            }
        }
        var first = Counter(state: 42), second = Counter(state: 42)
        let generator = NameGenerator()
        let name = generator.generate(using: &first)
        #expect(name == generator.generate(using: &second))
        #expect(name.split(separator: "_").count >= 2)
        #expect(NameGenerator.adjectives.contains(String(name.split(separator: "_")[0])))
        #expect(try CreateValidation.validateName(name) == "/" + name)
        #expect(NameGenerator.adjectives.count >= 50 && NameGenerator.surnames.count >= 100)
        #expect(generator.generate(using: &first, retry: 1).last?.isNumber == true)
    }

    @Test func signals() throws {
        #expect(try DockerSignal.parse("SIGTERM") == 15)
        #expect(try DockerSignal.parse("kill") == 9)
        #expect(try DockerSignal.parse("10") == 10)
        #expect(try DockerSignal.parse("RTMIN+3") == 37)
    }

    @Test func forwardingOffIsWarnedAboutUnlessTheNetworkIsHostOrNone() throws {
        var off = Self.host
        off.ipv4Forwarding = false
        #expect(try Self.validate({ _ in }, host: off).warnings == ["IPv4 forwarding is disabled. Networking will not work."])
        #expect(try Self.validate({ $0.NetworkMode = "mynet" }, host: off).warnings == ["IPv4 forwarding is disabled. Networking will not work."])
        #expect(try Self.validate({ $0.NetworkMode = "none" }, host: off).warnings == [])
        #expect(try Self.validate({ $0.NetworkMode = "host" }, host: off).warnings == [])
        #expect(try Self.validate({ _ in }).warnings == [])
    }
}

struct HostFactsTests {
    /// Reads this machine without failing; the values depend on the host.
    @Test func readsThisHost() throws {
        let facts = HostFacts.current()
        #expect(facts.cpuCount >= 1)
        #expect(try !NumberList.parse(facts.onlineCPUs).isEmpty)
        #expect(facts.totalMemory > 0)
        #expect(DaemonSpecDefaults.current().nofile != nil)
    }

    @Test func numberLists() throws {
        #expect(try NumberList.parse("0-2,4,6-7") == [0, 1, 2, 4, 6, 7])
        #expect(throws: (any Error).self) { try NumberList.parse("3-1") }
    }
}
