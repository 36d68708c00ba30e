import BerthOCI
import Foundation
import Testing
@testable import BerthEngine

struct SpecBuilderTests {
    /// The option of a read-only bind: recursive where the kernel can.
    static let readOnly = RecursiveReadOnly.isSupported ? "rro" : "ro"
    static let id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

    static func build(_ change: (inout HostConfig) -> Void = { _ in }, config configChange: (inout ContainerConfig) -> Void = { _ in },
                      cgroupV2: Bool = true, defaults: DaemonSpecDefaults = DaemonSpecDefaults(),
                      shmPath: String? = nil) throws -> BuiltContainerSpec {
        let rootfs = try TestRootfs()
        var config = ContainerConfig()
        config.Cmd = ["sh"]
        configChange(&config)
        var host = HostConfig()
        change(&host)
        var input = SpecBuildInput(
            containerID: id, config: config, hostConfig: host.withDaemonDefaults(defaults, cgroupV2: cgroupV2),
            rootfsPath: rootfs.path, hostnamePath: "/c/hostname", hostsPath: "/c/hosts", resolvConfPath: "/c/resolv.conf",
            initPath: "/usr/libexec/berth-init", cgroupV2: cgroupV2, cgroupsPath: "/berth/\(id)", defaults: defaults,
            containerPID: { name in
                guard name == "db" else { throw BerthError.notFound("No such container: \(name)") }
                return 4242
            })
        input.shmPath = shmPath
        input.pathExists = { $0.hasPrefix("/exists") }
        input.hostHasSysctl = { _ in true }
        input.hostDevices = { [Spec.Device(type: "c", path: "/dev/null", major: 1, minor: 3)] }
        return try SpecBuilder.build(input)
    }

    static func mount(_ spec: Spec, _ destination: String) -> Spec.Mount? {
        spec.mounts?.first { $0.destination == destination }
    }

    static func namespaceTypes(_ spec: Spec) -> [String] {
        (spec.linux?.namespaces ?? []).map(\.type)
    }

    @Test func defaultsAreDockers() throws {
        let spec = try Self.build().spec
        let process = try #require(spec.process)
        #expect(process.args == ["sh"])
        #expect(process.cwd == "/")
        #expect(process.terminal == false)
        #expect(process.capabilities?.bounding == ContainerCapabilities.defaults)
        #expect(process.capabilities?.effective?.count == 14)
        #expect(process.noNewPrivileges == false)
        #expect(spec.hostname == "0123456789ab")
        #expect(spec.root == Spec.Root(path: spec.root!.path, readonly: false))
        #expect(Set(Self.namespaceTypes(spec)) == ["mount", "network", "ipc", "pid", "uts", "cgroup"])
        #expect(spec.linux?.maskedPaths?.contains("/proc/kcore") == true)
        #expect(spec.linux?.readonlyPaths?.contains("/proc/sys") == true)
        #expect(spec.linux?.seccomp?.defaultAction == "SCMP_ACT_ERRNO")
        #expect(spec.linux?.cgroupsPath == "/berth/\(Self.id)")
        #expect(spec.linux?.sysctl?["net.ipv4.ip_unprivileged_port_start"] == "0")
        #expect(Self.mount(spec, "/dev/shm")?.options?.last == "size=67108864")
        #expect(Self.mount(spec, "/etc/hosts") == Spec.Mount(destination: "/etc/hosts", type: "bind", source: "/c/hosts",
                                                            options: ["rbind", "rprivate"]))
        #expect(Self.mount(spec, "/etc/resolv.conf")?.source == "/c/resolv.conf")
        #expect(Self.mount(spec, "/etc/hostname")?.source == "/c/hostname")
        #expect(spec.linux?.resources?.devices?.first == Spec.DeviceRule(allow: false, access: "rwm"))
    }

    @Test func cgroupNamespaceOnlyOnV2ByDefault() throws {
        #expect(!Self.namespaceTypes(try Self.build(cgroupV2: false).spec).contains("cgroup"))
        #expect(!Self.namespaceTypes(try Self.build({ $0.CgroupnsMode = "host" }).spec).contains("cgroup"))
    }

    @Test func capabilitiesAddDropAndAll() throws {
        var caps = try Self.build { $0.CapAdd = ["net_admin"]; $0.CapDrop = ["CAP_CHOWN", "mknod"] }.spec.process?.capabilities?.bounding
        #expect(caps?.contains("CAP_NET_ADMIN") == true)
        #expect(caps?.contains("CAP_CHOWN") == false)
        #expect(caps?.contains("CAP_MKNOD") == false)
        #expect(caps?.count == 13)
        caps = try Self.build { $0.CapDrop = ["ALL"]; $0.CapAdd = ["Cap_Kill"] }.spec.process?.capabilities?.bounding
        #expect(caps == ["CAP_KILL"])
        caps = try Self.build { $0.CapAdd = ["ALL"]; $0.CapDrop = ["sys_admin"] }.spec.process?.capabilities?.bounding
        #expect(caps?.count == ContainerCapabilities.all(lastCapability: 40).count - 1)
        #expect(caps?.contains("CAP_SYS_ADMIN") == false)
        #expect(throws: BerthError.invalidArgument("unknown capability: \"CAP_FOO\"")) {
            try Self.build { $0.CapAdd = ["foo"] }
        }
    }

    @Test func privilegedGetsEverything() throws {
        let spec = try Self.build { $0.Privileged = true }.spec
        // All 41 where the daemon's bounding set has them all (a sandbox may lack some).
        #expect(spec.process?.capabilities?.bounding == ContainerCapabilities.all(lastCapability: 40))
        #expect(spec.process?.capabilities?.bounding?.contains("CAP_SYS_ADMIN") == true)
        #expect(spec.linux?.seccomp == nil)
        #expect(spec.linux?.maskedPaths == nil)
        #expect(spec.linux?.readonlyPaths == nil)
        #expect(spec.linux?.devices?.first?.path == "/dev/null")
        #expect(spec.linux?.resources?.devices == [Spec.DeviceRule(allow: true, access: "rwm")])
        #expect(Self.mount(spec, "/sys")?.options?.contains("ro") == false)
        #expect(Self.mount(spec, "/sys/fs/cgroup")?.options?.contains("ro") == false)
    }

    @Test func securityOptions() throws {
        var spec = try Self.build { $0.SecurityOpt = ["no-new-privileges", "seccomp=unconfined"] }.spec
        #expect(spec.process?.noNewPrivileges == true)
        #expect(spec.linux?.seccomp == nil)
        let profile = #"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}"#
        spec = try Self.build { $0.SecurityOpt = ["seccomp=" + profile] }.spec
        #expect(spec.linux?.seccomp?.defaultAction == "SCMP_ACT_ALLOW")
        #expect(spec.linux?.seccomp?.syscalls?.first?.names == ["mkdir"])
        #expect(throws: BerthError.self) { try Self.build { $0.SecurityOpt = ["seccomp={nope"] } }
    }

    @Test func readonlyRootfs() throws {
        let spec = try Self.build { $0.ReadonlyRootfs = true }.spec
        #expect(spec.root?.readonly == true)
        // Read-only all the way down, as dockerd since API 1.44 (where the kernel has mount_setattr).
        #expect(Self.mount(spec, "/etc/hosts")?.options == ["rbind", Self.readOnly, "rprivate"])
        #expect(Self.mount(spec, "/dev/mqueue")?.options?.contains("ro") == false)
        #expect(Self.mount(spec, "/proc")?.options?.contains("ro") == false)
        #expect(Self.mount(spec, "/sys/fs/cgroup")?.options?.contains("ro") == true)
    }

    @Test func tmpfsMounts() throws {
        let spec = try Self.build {
            $0.Tmpfs = ["/run": "", "/cache": "size=64m,mode=1777", "/tmp": "exec"]
            $0.Mounts = [ContainerMount(Type: "tmpfs", Target: "/scratch")]
            $0.Mounts?[0].TmpfsOptions = .init(SizeBytes: 2 << 20, Mode: 0o700)
        }.spec
        #expect(Self.mount(spec, "/run") == Spec.Mount(destination: "/run", type: "tmpfs", source: "tmpfs",
                                                      options: ["noexec", "nosuid", "nodev", "rprivate"]))
        #expect(Self.mount(spec, "/cache")?.options == ["noexec", "nosuid", "nodev", "rprivate", "size=64m", "mode=1777"])
        #expect(Self.mount(spec, "/tmp")?.options == ["nosuid", "nodev", "rprivate", "exec"])
        #expect(Self.mount(spec, "/scratch")?.options == ["noexec", "nosuid", "nodev", "rprivate", "mode=700", "size=2m"])
        #expect(throws: BerthError.invalidArgument("invalid tmpfs option [\"bogus\"]")) {
            try Self.build { $0.Tmpfs = ["/run": "bogus"] }
        }
    }

    @Test func bindsAndMounts() throws {
        let built = try Self.build {
            $0.Binds = ["/exists/data:/data:ro", "/missing/logs:/var/log", "/exists/deep:/data/deep:rw,rslave"]
            $0.Mounts = [ContainerMount(Type: "bind", Source: "/exists/etc", Target: "/etc/app", ReadOnly: true)]
            $0.Mounts?[0].BindOptions = .init(NonRecursive: true)
        }
        let spec = built.spec
        #expect(Self.mount(spec, "/data") == Spec.Mount(destination: "/data", type: "bind", source: "/exists/data",
                                                       options: ["rbind", Self.readOnly, "rprivate"]))
        #expect(Self.mount(spec, "/var/log")?.options == ["rbind", "rprivate"])
        #expect(Self.mount(spec, "/data/deep")?.options == ["rbind", "rslave"])
        #expect(Self.mount(spec, "/etc/app")?.options == ["bind", Self.readOnly, "rprivate"])
        #expect(built.hostDirectoriesToCreate == ["/missing/logs"])
        let order = (spec.mounts ?? []).map(\.destination)
        #expect(order.firstIndex(of: "/data")! < order.firstIndex(of: "/data/deep")!)

        #expect(throws: BerthError.invalidArgument("Duplicate mount point: /data")) {
            try Self.build { $0.Binds = ["/exists/a:/data", "/exists/b:/data"] }
        }
        #expect(throws: BerthError.invalidArgument("invalid volume specification: '/exists:rw'")) {
            try Self.build { $0.Binds = ["/exists:rw"] }
        }
        #expect(throws: BerthError.invalidArgument("invalid mode: bogus")) {
            try Self.build { $0.Binds = ["/exists:/data:bogus"] }
        }
        // nocopy is for volumes, as dockerd's parser says.
        #expect(throws: BerthError.invalidArgument(#"invalid volume specification: '/exists:/data:ro,nocopy': invalid mount config for type "bind": field VolumeOptions must not be specified"#)) {
            try Self.build { $0.Binds = ["/exists:/data:ro,nocopy"] }
        }
        // A volume comes from the container's volume mounts (made at create), not from Binds.
        #expect(try Self.build { $0.Binds = ["named:/data"] }.spec.mounts?.contains { $0.destination == "/data" } == false)
        #expect(throws: BerthError.invalidArgument("Duplicate mount point: /data")) {
            try Self.build { $0.Binds = ["named:/data", "/exists:/data"] }
        }
    }

    @Test func userBindReplacesGeneratedFile() throws {
        let spec = try Self.build { $0.Binds = ["/exists/hosts:/etc/hosts:ro"] }.spec
        #expect(spec.mounts?.filter { $0.destination == "/etc/hosts" }.count == 1)
        #expect(Self.mount(spec, "/etc/hosts")?.source == "/exists/hosts")
    }

    @Test func devices() throws {
        let spec = try Self.build {
            $0.Devices = [DeviceMapping(PathOnHost: "/dev/null", PathInContainer: "/dev/mynull", CgroupPermissions: "rw")]
            $0.DeviceCgroupRules = ["c 42:* rmw"]
        }.spec
        let device = try #require(spec.linux?.devices?.first)
        #expect(device.path == "/dev/mynull")
        #expect(device.type == "c" && device.major == 1 && device.minor == 3)
        let rules = spec.linux?.resources?.devices ?? []
        #expect(rules.contains(Spec.DeviceRule(allow: true, type: "c", major: 1, minor: 3, access: "rw")))
        #expect(rules.last == Spec.DeviceRule(allow: true, type: "c", major: 42, minor: -1, access: "rmw"))
        #expect(throws: BerthError.invalidArgument("error gathering device information while adding custom device \"/dev/nope\": no such file or directory")) {
            try Self.build { $0.Devices = [DeviceMapping(PathOnHost: "/dev/nope", PathInContainer: "/dev/nope")] }
        }
        #expect(throws: BerthError.invalidArgument("invalid device cgroup rule format: 'x 1:2 r'")) {
            try Self.build { $0.DeviceCgroupRules = ["x 1:2 r"] }
        }
    }

    @Test func resources() throws {
        var resources = try #require(try Self.build {
            $0.Memory = 64 << 20
            $0.MemoryReservation = 32 << 20
            $0.CpuShares = 512
            $0.NanoCpus = 1_500_000_000
            $0.CpusetCpus = "0"
            $0.PidsLimit = 100
            $0.BlkioWeight = 300
            $0.OomKillDisable = true
            $0.MemorySwappiness = 10
        }.spec.linux?.resources)
        #expect(resources.memory == Spec.Memory(limit: 64 << 20, reservation: 32 << 20, swap: 128 << 20, swappiness: 10,
                                                disableOOMKiller: true))
        #expect(resources.cpu == Spec.CPU(shares: 512, quota: 150_000, period: 100_000, cpus: "0"))
        #expect(resources.pids == Spec.Pids(limit: 100))
        #expect(resources.blockIO == Spec.BlockIO(weight: 300))

        resources = try #require(try Self.build {
            $0.Memory = 64 << 20
            $0.MemorySwap = -1
            $0.PidsLimit = 0
            $0.CpuPeriod = 50_000
            $0.CpuQuota = 25_000
        }.spec.linux?.resources)
        #expect(resources.memory?.swap == -1)
        #expect(resources.pids == Spec.Pids(limit: -1))
        #expect(resources.cpu == Spec.CPU(quota: 25_000, period: 50_000))

        resources = try #require(try Self.build().spec.linux?.resources)
        #expect(resources.memory == nil && resources.cpu == nil && resources.pids == nil)
    }

    /// Per-device weights and limits name the device by its numbers (/dev/null is 1:3); a path
    /// that is not there fails in Go's words, which make the CLI exit 127 as with dockerd.
    @Test func blockIODeviceLimits() throws {
        let blockIO = try #require(try Self.build {
            $0.BlkioWeightDevice = [WeightDevice(Path: "/dev/null", Weight: 200)]
            $0.BlkioDeviceReadBps = [ThrottleDevice(Path: "/dev/null", Rate: 1 << 20)]
            $0.BlkioDeviceWriteBps = [ThrottleDevice(Path: "/dev/null", Rate: 2 << 20)]
            $0.BlkioDeviceReadIOps = [ThrottleDevice(Path: "/dev/null", Rate: 70)]
            $0.BlkioDeviceWriteIOps = [ThrottleDevice(Path: "/dev/null", Rate: 50)]
        }.spec.linux?.resources?.blockIO)
        #expect(blockIO == Spec.BlockIO(weightDevice: [.init(major: 1, minor: 3, weight: 200)],
                                        throttleReadBpsDevice: [.init(major: 1, minor: 3, rate: 1 << 20)],
                                        throttleWriteBpsDevice: [.init(major: 1, minor: 3, rate: 2 << 20)],
                                        throttleReadIOPSDevice: [.init(major: 1, minor: 3, rate: 70)],
                                        throttleWriteIOPSDevice: [.init(major: 1, minor: 3, rate: 50)]))
        #expect(throws: BerthError.internalError("stat /dev/nosuch: no such file or directory")) {
            try Self.build { $0.BlkioDeviceWriteIOps = [ThrottleDevice(Path: "/dev/nosuch", Rate: 1)] }
        }
    }

    /// A shared /dev/shm (host IPC, a shareable container's, a donor's) is bound in place of
    /// the tmpfs; a mount of the container's own at /dev/shm still wins.
    @Test func sharedMemoryFromTheHostIsBound() throws {
        var spec = try Self.build(shmPath: "/dev/shm").spec
        #expect(Self.mount(spec, "/dev/shm") == Spec.Mount(destination: "/dev/shm", type: "bind", source: "/dev/shm", options: ["rbind", "rprivate"]))
        spec = try Self.build({ $0.Tmpfs = ["/dev/shm": "size=1m"] }, shmPath: "/dev/shm").spec
        #expect(Self.mount(spec, "/dev/shm")?.type == "tmpfs" && Self.mount(spec, "/dev/shm")?.source != "/dev/shm")
    }

    @Test func ulimitsAndDaemonLimits() throws {
        var defaults = DaemonSpecDefaults()
        defaults.nofile = .init(soft: 1024, hard: 4096)
        defaults.nproc = .init(soft: 100, hard: 200)
        defaults.ulimits = ["nofile": Ulimit(Name: "nofile", Soft: 8192, Hard: 8192), "core": Ulimit(Name: "core", Soft: 0, Hard: 0)]
        var limits = try Self.build({ $0.Ulimits = [Ulimit(Name: "nproc", Soft: 10, Hard: 20)] }, defaults: defaults).spec.process?.rlimits
        #expect(limits == [
            Spec.Rlimit(type: "RLIMIT_NPROC", hard: 20, soft: 10),
            Spec.Rlimit(type: "RLIMIT_CORE", hard: 0, soft: 0),
            Spec.Rlimit(type: "RLIMIT_NOFILE", hard: 4096, soft: 4096),
        ])
        defaults.ulimits = [:]
        limits = try Self.build(defaults: defaults).spec.process?.rlimits
        #expect(limits == [Spec.Rlimit(type: "RLIMIT_NOFILE", hard: 4096, soft: 1024), Spec.Rlimit(type: "RLIMIT_NPROC", hard: 200, soft: 100)])
        #expect(throws: BerthError.invalidArgument("invalid ulimit type: bogus")) {
            try Self.build { $0.Ulimits = [Ulimit(Name: "bogus", Soft: 1, Hard: 1)] }
        }
    }

    @Test func namespaceModes() throws {
        let spec = try Self.build {
            $0.NetworkMode = "container:db"
            $0.IpcMode = "host"
            $0.PidMode = "container:db"
            $0.UTSMode = "host"
        }.spec
        let namespaces = spec.linux?.namespaces ?? []
        #expect(namespaces.contains(Spec.Namespace(type: "network", path: "/proc/4242/ns/net")))
        #expect(namespaces.contains(Spec.Namespace(type: "pid", path: "/proc/4242/ns/pid")))
        #expect(!namespaces.contains { $0.type == "ipc" || $0.type == "uts" })
        #expect(spec.hostname == nil)
        #expect(spec.linux?.sysctl == nil)
        #expect(throws: BerthError.notFound("No such container: other")) { try Self.build { $0.IpcMode = "container:other" } }

        let host = try Self.build { $0.NetworkMode = "host" }.spec
        #expect(!Self.namespaceTypes(host).contains("network"))
        #expect(host.linux?.sysctl == nil)
        let none = try Self.build { $0.NetworkMode = "none"; $0.IpcMode = "none" }.spec
        #expect(Self.namespaceTypes(none).contains("network"))
        #expect(Self.mount(none, "/dev/shm") == nil)
    }

    @Test func sysctls() throws {
        let spec = try Self.build { $0.Sysctls = ["net.ipv4.ip_forward": "1", "kernel.shmmax": "1000", "fs.mqueue.msg_max": "20"] }.spec
        #expect(spec.linux?.sysctl?["net.ipv4.ip_forward"] == "1")
        #expect(spec.linux?.sysctl?["kernel.shmmax"] == "1000")
        #expect(throws: BerthError.invalidArgument("sysctl \"kernel.panic\" is not in a separate kernel namespace")) {
            try Self.build { $0.Sysctls = ["kernel.panic": "1"] }
        }
        #expect(throws: BerthError.invalidArgument("sysctl \"net.ipv4.ip_forward\" not allowed in host network namespace")) {
            try Self.build { $0.NetworkMode = "host"; $0.Sysctls = ["net/ipv4/ip_forward": "1"] }
        }
        #expect(throws: BerthError.invalidArgument("sysctl \"kernel.shmmax\" is not allowed in the hosts ipc namespace")) {
            try Self.build { $0.IpcMode = "host"; $0.Sysctls = ["kernel.shmmax": "1"] }
        }
    }

    @Test func initAndProcessSettings() throws {
        let built = try Self.build({
            $0.Init = true
            $0.OomScoreAdj = 500
            $0.ShmSize = 1 << 20
            $0.ConsoleSize = [40, 100]
            $0.Annotations = ["org.example": "yes"]
        }, config: {
            $0.Entrypoint = ["/entry"]
            $0.Cmd = ["a", "b"]
            $0.Tty = true
            $0.WorkingDir = "/work"
            $0.Hostname = "web"
            $0.Domainname = "example.com"
            $0.User = "app"
            $0.StopSignal = "SIGQUIT"
        })
        let spec = built.spec
        #expect(spec.process?.args == ["/sbin/docker-init", "--", "/entry", "a", "b"])
        #expect(Self.mount(spec, "/sbin/docker-init") == Spec.Mount(destination: "/sbin/docker-init", type: "bind",
                                                                   source: "/usr/libexec/berth-init", options: ["bind", "ro"]))
        #expect(spec.process?.terminal == true)
        #expect(spec.process?.consoleSize == Spec.ConsoleSize(height: 40, width: 100))
        #expect(spec.process?.cwd == "/work")
        #expect(spec.process?.oomScoreAdj == 500)
        #expect(spec.process?.user.uid == 1000)
        #expect(spec.process?.env?.prefix(3) == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=web", "TERM=xterm"])
        #expect(spec.hostname == "web")
        #expect(spec.domainname == "example.com")
        #expect(spec.annotations == ["org.example": "yes"])
        #expect(Self.mount(spec, "/dev/shm")?.options?.last == "size=1048576")
        #expect(built.stopSignal == "SIGQUIT")

        // No init in a shared PID namespace: that container has its own PID 1.
        let shared = try Self.build { $0.Init = true; $0.PidMode = "host" }.spec
        #expect(shared.process?.args == ["sh"])
    }
}
