import BerthOCI
import Foundation
import CSystemShims
import Testing
@testable import BerthRuntime

struct CgroupConversionTests {
    @Test func sharesBecomeWeightOnTheQuadraticFit() {
        #expect(CgroupConversions.cpuWeight(shares: 0) == 0)
        #expect(CgroupConversions.cpuWeight(shares: 2) == 1)
        #expect(CgroupConversions.cpuWeight(shares: 1024) == 100)
        #expect(CgroupConversions.cpuWeight(shares: 262_144) == 10_000)
        #expect(CgroupConversions.cpuWeight(shares: 512) < 100)
        #expect(CgroupConversions.cpuWeight(shares: 2048) > 100)
    }

    @Test func swapIsMemoryPlusSwapInTheSpec() throws {
        #expect(try CgroupConversions.swapMax(memory: 100, swap: 300) == "200")
        #expect(try CgroupConversions.swapMax(memory: 100, swap: 100) == "0")
        #expect(try CgroupConversions.swapMax(memory: 100, swap: -1) == "max")
        #expect(try CgroupConversions.swapMax(memory: 100, swap: 0) == nil)
        #expect(try CgroupConversions.swapMax(memory: 100, swap: nil) == nil)
        #expect(throws: ConfigError.self) { try CgroupConversions.swapMax(memory: 300, swap: 100) }
    }

    @Test func cpuMaxFromQuotaAndPeriod() {
        #expect(CgroupConversions.cpuMax(quota: 50_000, period: 100_000) == "50000 100000")
        #expect(CgroupConversions.cpuMax(quota: -1, period: 100_000) == "max 100000")
        #expect(CgroupConversions.cpuMax(quota: nil, period: nil) == nil)
        // `update --cpu-period` alone keeps the quota in force.
        #expect(CgroupConversions.cpuMax(quota: nil, period: 200_000, current: "50000 100000") == "50000 200000")
        #expect(CgroupConversions.cpuMax(quota: nil, period: 200_000, current: "max 100000") == "max 200000")
        #expect(CgroupConversions.cpuMax(quota: 30_000, period: nil, current: "50000 100000") == "30000")
    }

    @Test func ioWeightScale() {
        #expect(CgroupConversions.ioWeight(blkioWeight: 10) == 1)
        #expect(CgroupConversions.ioWeight(blkioWeight: 1000) == 10_000)
    }

    @Test func weightFormulaAtTheKnownPoints() {
        // runc's published fit: 10^((l² + 125·l)/612 − 7/34) with l = log2(shares), rounded up.
        #expect(CgroupConversions.cpuWeight(shares: 512) == 59)
        #expect(CgroupConversions.cpuWeight(shares: 2048) == 174)
        #expect(CgroupConversions.cpuWeight(shares: 100_000) == 4_340)
    }

    @Test func badCPUBandwidthIsRefusedWithTheValue() {
        func message(_ cpu: Spec.CPU) -> String? {
            do { try CgroupConversions.validate(.init(cpu: cpu)); return nil } catch { return "\(error)" }
        }
        #expect(message(.init(quota: 50_000, period: 0)) == "cpu quota 50000 is set with a cpu period of 0")
        #expect(message(.init(quota: 500, period: 100_000)) == "cpu quota 500 is below the minimum of 1000 microseconds")
        #expect(message(.init(period: 999)) == "cpu period 999 is not between 1000 and 1000000 microseconds")
        #expect(message(.init(period: 2_000_000)) != nil)
        #expect(message(.init(quota: -1, period: 100_000)) == nil)   // -1: no limit
        #expect(message(.init(quota: 50_000)) == nil)                // period left at the kernel's default
    }

    @Test func badMemoryIsRefused() {
        #expect(throws: ConfigError.self) { try CgroupConversions.validate(.init(memory: .init(limit: -1, swap: 100 << 20))) }
        #expect(throws: ConfigError.self) { try CgroupConversions.validate(.init(memory: .init(swappiness: 101))) }
        #expect(throws: Never.self) { try CgroupConversions.validate(.init(memory: .init(limit: 100 << 20, swap: -1))) }
        #expect(throws: Never.self) { try CgroupConversions.validate(.init(memory: .init(limit: 100 << 20, swap: 0))) }
    }

    @Test func blkioWeightRange() {
        #expect(throws: ConfigError.self) { try CgroupConversions.validate(.init(blockIO: .init(weight: 5))) }
        #expect(throws: ConfigError.self) { try CgroupConversions.validate(.init(blockIO: .init(weight: 1001))) }
        #expect(throws: Never.self) { try CgroupConversions.validate(.init(blockIO: .init(weight: 10))) }
    }

    @Test func hugepageSizesMustLookLikeTheFileNames() {
        #expect(throws: ConfigError.self) { try CgroupConversions.validate(.init(hugepageLimits: [.init(pageSize: "2M", limit: 1)])) }
        #expect(throws: ConfigError.self) { try CgroupConversions.validate(.init(hugepageLimits: [.init(pageSize: "MB", limit: 1)])) }
        #expect(throws: Never.self) { try CgroupConversions.validate(.init(hugepageLimits: [.init(pageSize: "2MB", limit: 1)])) }
    }

    @Test func memoryAndSwapAreWrittenInAnOrderTheKernelAccepts() {
        typealias V1 = CgroupV1
        // Growing past the current memsw: memsw first.
        #expect(V1.memoryWrites(limit: 256, swap: 512, currentSwap: 128).map(\.file)
                == ["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"])
        // Shrinking: the limit first.
        #expect(V1.memoryWrites(limit: 64, swap: 64, currentSwap: 128).map(\.file)
                == ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"])
        // Unlimited: memsw (-1) first.
        #expect(V1.memoryWrites(limit: -1, swap: -1, currentSwap: 128).map(\.value) == ["-1", "-1"])
        #expect(V1.memoryWrites(limit: -1, swap: -1, currentSwap: 128).first?.file == "memory.memsw.limit_in_bytes")
        // No swap accounting: only the limit.
        #expect(V1.memoryWrites(limit: 64, swap: nil, currentSwap: nil).map(\.file) == ["memory.limit_in_bytes"])
        #expect(V1.memoryWrites(limit: nil, swap: nil, currentSwap: 128).isEmpty)
    }

    @Test func badResourcesAreRefused() {
        #expect(throws: ConfigError.self) { try CgroupConversions.validate(.init(cpu: .init(cpus: "0-"))) }
        #expect(throws: ConfigError.self) { try CgroupConversions.validate(.init(cpu: .init(cpus: "a"))) }
        #expect(throws: ConfigError.self) { try CgroupConversions.validate(.init(cpu: .init(cpus: "3-1"))) }
        #expect(throws: ConfigError.self) { try CgroupConversions.validate(.init(cpu: .init(cpus: "0,,1"))) }
        #expect(throws: ConfigError.self) { try CgroupConversions.validate(.init(cpu: .init(mems: "-1"))) }
        #expect(throws: ConfigError.self) { try CgroupConversions.validate(.init(memory: .init(limit: 200, swap: 100))) }
        #expect(throws: ConfigError.self) { try CgroupConversions.validate(.init(devices: [.init(allow: true, type: "x")])) }
        #expect(throws: Never.self) { try CgroupConversions.validate(.init(cpu: .init(cpus: "0-2,4", mems: "0"))) }
    }
}

struct CgroupHostTests {
    let hybrid = """
        30 22 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
        31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw
        32 30 0:28 / /sys/fs/cgroup/systemd rw,nosuid shared:11 - cgroup cgroup rw,xattr,name=systemd
        33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:12 - cgroup cgroup rw,cpu,cpuacct
        34 30 0:30 / /sys/fs/cgroup/memory rw,nosuid shared:13 - cgroup cgroup rw,memory
        """

    @Test func hybridHostIsLegacyWithCombinedMounts() throws {
        let host = try CgroupHost(mountinfo: hybrid)
        #expect(host.layout == .legacy(controllers: ["cpu": "/sys/fs/cgroup/cpu,cpuacct",
                                                      "cpuacct": "/sys/fs/cgroup/cpu,cpuacct",
                                                      "memory": "/sys/fs/cgroup/memory",
                                                      "name=systemd": "/sys/fs/cgroup/systemd",
                                                      "": "/sys/fs/cgroup/unified"]))
        #expect(host.v1MountPoints == ["/sys/fs/cgroup/systemd", "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/memory"])
    }

    @Test func containerBindsFollowTheHostsMountOrderWithoutCgroup2() throws {
        let host = try CgroupHost(mountinfo: hybrid)
        let paths = ["cpu": "/sys/fs/cgroup/cpu,cpuacct/berth/c", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct/berth/c",
                     "memory": "/sys/fs/cgroup/memory/berth/c", "name=systemd": "/sys/fs/cgroup/systemd/berth/c",
                     "": "/sys/fs/cgroup/unified/berth/c"]
        #expect(host.binds(for: paths) == [.init(source: "/sys/fs/cgroup/systemd/berth/c", name: "systemd", hierarchy: "name=systemd"),
                                           .init(source: "/sys/fs/cgroup/cpu,cpuacct/berth/c", name: "cpu,cpuacct", hierarchy: "cpu,cpuacct"),
                                           .init(source: "/sys/fs/cgroup/memory/berth/c", name: "memory", hierarchy: "memory")])
        // A container made before name=systemd was joined has no bind there.
        #expect(host.binds(for: ["memory": "/sys/fs/cgroup/memory/berth/c"]).map(\.name) == ["memory"])
        let unified = try CgroupHost(mountinfo: "25 1 0:23 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate")
        #expect(unified.binds(for: ["": "/sys/fs/cgroup/berth/c"]).isEmpty)
    }

    @Test func theUnifiedKeyAloneIsCgroupV2AndNextToControllersIsHybrid() throws {
        #expect(try openCgroupManager(paths: ["": "/sys/fs/cgroup/berth/c"]) is CgroupV2)
        let hybrid = try openCgroupManager(paths: ["memory": "/sys/fs/cgroup/memory/berth/c",
                                                   "": "/sys/fs/cgroup/unified/berth/c"])
        #expect(hybrid is CgroupV1)
        #expect(hybrid.joinFiles == ["/sys/fs/cgroup/memory/berth/c/tasks", "/sys/fs/cgroup/unified/berth/c/cgroup.procs"])
    }

    @Test func unifiedHost() throws {
        let host = try CgroupHost(mountinfo: "25 1 0:23 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate")
        #expect(host.isUnified)
    }

    @Test func thisHostsHybridLayout() throws {
        // The layout of the machine these tests run on: v1 controllers each on their own mount,
        // and a cgroup2 mount at /sys/fs/cgroup/unified that must not make it "unified" (but
        // that a container joins, as name=systemd).
        let mountinfo = """
            31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
            32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
            34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
            35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
            37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
            40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
            41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
            """
        let host = try CgroupHost(mountinfo: mountinfo)
        #expect(!host.isUnified)
        #expect(host.layout == .legacy(controllers: ["cpu": "/sys/fs/cgroup/cpu", "cpuset": "/sys/fs/cgroup/cpuset",
                                                      "memory": "/sys/fs/cgroup/memory", "freezer": "/sys/fs/cgroup/freezer",
                                                      "name=systemd": "/sys/fs/cgroup/systemd", "": "/sys/fs/cgroup/unified"]))
        #expect(host.v1MountPoints == ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuset", "/sys/fs/cgroup/memory",
                                       "/sys/fs/cgroup/freezer", "/sys/fs/cgroup/systemd"])
    }

    @Test func mountOptionalFieldsDoNotShiftTheType() throws {
        // Optional fields (shared:N master:M) come before the "-" separator.
        let host = try CgroupHost(mountinfo: "29 23 0:26 / /sys/fs/cgroup rw shared:4 master:1 - cgroup2 cgroup2 rw")
        #expect(host.layout == .unified(mountPoint: "/sys/fs/cgroup"))
    }

    @Test func noCgroupsIsAnError() {
        #expect(throws: ConfigError.self) { try CgroupHost(mountinfo: "1 0 8:1 / / rw - ext4 /dev/sda1 rw") }
    }
}

struct CgroupPathTests {
    @Test func systemdStylePathsAndEscapesAreRefused() {
        #expect(throws: ConfigError.self) { try makeCgroupManager(cgroupsPath: "system.slice:berth:abc", containerID: "abc") }
        #expect(throws: ConfigError.self) { try makeCgroupManager(cgroupsPath: "/berth/../etc", containerID: "abc") }
        #expect(throws: ConfigError.self) { try makeCgroupManager(cgroupsPath: "", containerID: "abc") }
    }

    /// Only computes paths: nothing is created until create().
    @Test(.enabled(if: !((try? CgroupHost.probe())?.isUnified ?? true), "a cgroup v1 host"))
    func pathsPerHierarchy() throws {
        let absolute = try makeCgroupManager(cgroupsPath: "/berth/abc", containerID: "abc")
        #expect(absolute.paths["memory"] == "/sys/fs/cgroup/memory/berth/abc")
        #expect(absolute.paths["freezer"] == "/sys/fs/cgroup/freezer/berth/abc")
        // The named systemd hierarchy and a hybrid host's cgroup2 mount follow the same rule.
        if FileManager.default.fileExists(atPath: "/sys/fs/cgroup/systemd/cgroup.procs") {
            #expect(absolute.paths["name=systemd"] == "/sys/fs/cgroup/systemd/berth/abc")
        }
        #expect(absolute.paths[""] == (hasUnifiedMountOnHybridHost ? "/sys/fs/cgroup/unified/berth/abc" : nil))

        let byID = try makeCgroupManager(cgroupsPath: nil, containerID: "xyz")
        #expect(byID.paths["pids"] == "/sys/fs/cgroup/pids/berth/xyz")

        // Relative: below the caller's own cgroup in each hierarchy.
        let relative = try makeCgroupManager(cgroupsPath: "sub/abc", containerID: "abc")
        let own = CgroupHost.ownPath(controller: "memory")
        #expect(relative.paths["memory"] == "/sys/fs/cgroup/memory" + (own == "/" ? "" : own) + "/sub/abc")
        if hasUnifiedMountOnHybridHost {
            let ownUnified = CgroupHost.ownPath(controller: "")
            #expect(relative.paths[""] == "/sys/fs/cgroup/unified" + (ownUnified == "/" ? "" : ownUnified) + "/sub/abc")
        }
    }
}

struct CgroupStatsParserTests {
    @Test func v1BlockIOKeepsEveryDeviceOperationButNotTheGrandTotal() {
        let text = "8:0 Read 4096\n8:0 Write 512\n8:0 Sync 4608\n8:0 Total 4608\nTotal 4608\n"
        #expect(CgroupStatsParser.v1BlockIO(text) == [.init(major: 8, minor: 0, operation: "Read", bytes: 4096),
                                                       .init(major: 8, minor: 0, operation: "Write", bytes: 512),
                                                       .init(major: 8, minor: 0, operation: "Sync", bytes: 4608),
                                                       .init(major: 8, minor: 0, operation: "Total", bytes: 4608)])
    }

    @Test func v2IOStatBecomesReadAndWrite() {
        let text = "259:0 rbytes=1024 wbytes=2048 rios=1 wios=2 dbytes=0 dios=0\n"
        #expect(CgroupStatsParser.v2BlockIO(text) == [.init(major: 259, minor: 0, operation: "Read", bytes: 1024),
                                                       .init(major: 259, minor: 0, operation: "Write", bytes: 2048)])
    }

    @Test func limitsAndKeyedValues() {
        #expect(CgroupStatsParser.limit("max") == nil)
        #expect(CgroupStatsParser.limit("9223372036854771712") == nil)   // v1's "unlimited"
        #expect(CgroupStatsParser.limit("33554432") == 33_554_432)
        #expect(CgroupStatsParser.keyedValues("usage_usec 10\nuser_usec 7\nbad\n") == ["usage_usec": 10, "user_usec": 7])
    }
}

struct DeviceRuleTests {
    @Test func accessDefaultsToAll() {
        let lines = DeviceRules.v1Lines([.init(allow: true, type: "c", major: 1, minor: 3),
                                         .init(allow: true, type: "b", major: 8, minor: -1, access: "")])
        #expect(lines.map(\.line) == ["c 1:3 rwm", "b 8:* rwm"])
    }

    @Test func v1LinesInOrder() {
        let lines = DeviceRules.v1Lines([.init(allow: false, access: "rwm"),
                                         .init(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),
                                         .init(allow: true, type: "c", major: 136, access: "rw")])
        #expect(lines.map(\.file) == ["devices.deny", "devices.allow", "devices.allow"])
        #expect(lines.map(\.line) == ["a *:* rwm", "c 1:3 rwm", "c 136:* rw"])
    }

    @Test func bpfProgramShape() {
        let program = DeviceRules.bpfProgram(DefaultSpec.deviceRules)
        // Prologue of 6, a block per rule, and the final deny.
        #expect(program.count > 6 + DefaultSpec.deviceRules.count * 2)
        #expect(program.last == 0x95)                 // exit
        #expect(program[program.count - 2] == 0xb7)   // r0 = 0: deny what no rule matched
    }
}


struct ResourcesUpdateTests {
    @Test func anUpdateChangesOnlyWhatItNames() {
        let saved = Spec.Resources(devices: [.init(allow: false, access: "rwm")],
                                   memory: .init(limit: 64 << 20, swap: 128 << 20),
                                   cpu: .init(shares: 1024, cpus: "0"), pids: .init(limit: 100))
        let update = Spec.Resources(memory: .init(limit: 32 << 20), cpu: .init(quota: 50_000, period: 100_000))
        let merged = ResourcesUpdate.merge(update, into: saved)
        #expect(merged.memory == .init(limit: 32 << 20, swap: 128 << 20))
        #expect(merged.cpu == .init(shares: 1024, quota: 50_000, period: 100_000, cpus: "0"))
        #expect(merged.pids == .init(limit: 100))
        #expect(merged.devices == saved.devices)
        #expect(ResourcesUpdate.merge(update, into: nil) == update)
    }
}
