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
    }

    @Test func ioWeightScale() {
        #expect(CgroupConversions.ioWeight(blkioWeight: 10) == 1)
        #expect(CgroupConversions.ioWeight(blkioWeight: 1000) == 10_000)
    }

    @Test func badResourcesAreRefused() {
        #expect(throws: ConfigError.self) { try CgroupConversions.validate(.init(cpu: .init(cpus: "0-"))) }
        #expect(throws: ConfigError.self) { try CgroupConversions.validate(.init(cpu: .init(cpus: "a"))) }
        #expect(throws: ConfigError.self) { try CgroupConversions.validate(.init(cpu: .init(cpus: "3-1"))) }
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
                                                      "memory": "/sys/fs/cgroup/memory"]))
    }

    @Test func unifiedHost() throws {
        let host = try CgroupHost(mountinfo: "25 1 0:23 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate")
        #expect(host.isUnified)
    }

    @Test func noCgroupsIsAnError() {
        #expect(throws: ConfigError.self) { try CgroupHost(mountinfo: "1 0 8:1 / / rw - ext4 /dev/sda1 rw") }
    }
}

struct DeviceRuleTests {
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

/// Puts a sleeping process in the cgroup, freezes and thaws it, then kills it through the cgroup.
func exerciseMembershipFreezeKill(_ manager: CgroupManager) throws {
    let sleeper = Process()
    sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
    sleeper.arguments = ["30"]
    try sleeper.run()
    try manager.addProcess(sleeper.processIdentifier)
    #expect(try manager.processes() == [sleeper.processIdentifier])
    try manager.freeze()
    #expect(manager.isFrozen())
    try manager.thaw()
    #expect(!manager.isFrozen())
    try manager.killAll(signal: SIGKILL)
    sleeper.waitUntilExit()
    #expect(sleeper.terminationReason == .uncaughtSignal)
}

/// The cgroup v1 manager on this host's real hierarchies (root only).
@Suite(.enabled(if: geteuid() == 0 && !(try! CgroupHost.probe()).isUnified, "needs root on a cgroup v1 host"))
struct CgroupV1HostTests {
    @Test func limitsFreezeKillAndDestroy() throws {
        let id = "unit-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let manager = try makeCgroupManager(cgroupsPath: "/berth-test/" + id, containerID: id)
        try manager.create()
        defer { try? manager.killAll(signal: SIGKILL); usleep(50_000); try? manager.destroy() }
        try manager.apply(.init(memory: .init(limit: 32 << 20, reservation: 16 << 20),
                                cpu: .init(shares: 512, quota: 50_000, period: 100_000, cpus: "0"),
                                pids: .init(limit: 9)))
        let memory = try #require(manager.paths["memory"])
        #expect(try String(contentsOfFile: memory + "/memory.limit_in_bytes", encoding: .utf8) == "33554432\n")
        #expect(try String(contentsOfFile: manager.paths["pids"]! + "/pids.max", encoding: .utf8) == "9\n")
        #expect(try String(contentsOfFile: manager.paths["cpu"]! + "/cpu.cfs_quota_us", encoding: .utf8) == "50000\n")
        #expect(try String(contentsOfFile: manager.paths["cpuset"]! + "/cpuset.cpus", encoding: .utf8) == "0\n")

        try exerciseMembershipFreezeKill(manager)
        try manager.destroy()
        for (_, path) in manager.paths { #expect(!FileManager.default.fileExists(atPath: path)) }
    }
}

/// The v2 device filter, on the cgroup2 mount a hybrid host keeps at /sys/fs/cgroup/unified.
@Suite(.enabled(if: geteuid() == 0 && berth_filesystem_type("/sys/fs/cgroup/unified") == 0x6367_7270,
                "needs root and a cgroup2 mount at /sys/fs/cgroup/unified"))
struct DeviceFilterHostTests {
    @Test func deniedDeviceCannotBeOpened() throws {
        let directory = "/sys/fs/cgroup/unified/berth-test-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { rmdir(directory) }
        // Allow /dev/null only (the last-match rules: deny all, then allow c 1:3).
        try DeviceFilter.attach([.init(allow: false, access: "rwm"),
                                 .init(allow: true, type: "c", major: 1, minor: 3, access: "rwm")], to: directory)
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "echo $$ > \(directory)/cgroup.procs && cat /dev/null && echo null-ok; head -c1 /dev/zero >/dev/null 2>&1 || echo zero-denied"]
        let output = Pipe()
        shell.standardOutput = output
        try shell.run()
        shell.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text == "null-ok\nzero-denied\n")
        // Replacing the filter keeps exactly one program attached.
        try DeviceFilter.attach(DefaultSpec.deviceRules, to: directory)
        let fd = open(directory, O_DIRECTORY | O_RDONLY)
        defer { close(fd) }
        #expect(berth_bpf_attached_device_programs(fd) == 1)
    }
}

/// The cgroup v2 manager on the cgroup2 mount of a hybrid host (/sys/fs/cgroup/unified): it
/// holds no resource controllers there, but membership, freezing, kill and removal are v2's.
@Suite(.enabled(if: geteuid() == 0 && berth_filesystem_type("/sys/fs/cgroup/unified") == 0x6367_7270,
                "needs root and a cgroup2 mount at /sys/fs/cgroup/unified"))
struct CgroupV2HostTests {
    @Test func membershipFreezeKillAndDestroy() throws {
        let manager = CgroupV2(directory: "/sys/fs/cgroup/unified/berth-test-v2-\(getpid())/leaf",
                               mountPoint: "/sys/fs/cgroup/unified")
        try manager.create()
        defer {
            try? manager.killAll(signal: SIGKILL)
            usleep(50_000)
            try? manager.destroy()
            rmdir("/sys/fs/cgroup/unified/berth-test-v2-\(getpid())")
        }
        try exerciseMembershipFreezeKill(manager)
        try manager.destroy()
        #expect(!FileManager.default.fileExists(atPath: manager.directory))
    }
}
