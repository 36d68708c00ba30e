import BerthOCI
import CSystemShims
import Foundation
import Testing
@testable import BerthRuntime

// Root tests on this host's real cgroup hierarchies. Everything is made below a `berth-test`
// parent and removed again, also when a test fails.

let hostIsCgroupV1 = !((try? CgroupHost.probe())?.isUnified ?? true)
let hasUnifiedMountOnHybridHost = berth_filesystem_type("/sys/fs/cgroup/unified") == 0x6367_7270

/// Reads a cgroup file without its trailing newline.
func cgroupFile(_ directory: String?, _ name: String) -> String? {
    guard let directory else { return nil }
    return CgroupFile.read(directory, name)
}

/// A `/bin/sleep 30` started with a clean signal mask (Foundation's Process leaves most
/// signals blocked in the child, so SIGTERM would never arrive).
struct Sleeper {
    let pid: pid_t

    init() throws {
        var argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sleep"), strdup("30"), nil]
        defer { for arg in argv { free(arg) } }
        var envp: [UnsafeMutablePointer<CChar>?] = [nil]
        pid = berth_spawn("/bin/sleep", &argv, &envp, nil, 0, 0)
        if pid < 0 { throw SystemError("spawn /bin/sleep") }
    }

    /// Waits for the exit and returns the signal that ended it (0 when it exited).
    func waitForSignal() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return berth_wifsignaled(status) != 0 ? berth_wtermsig(status) : 0
    }

    /// Kills and reaps it if it is still there.
    func stop() {
        if kill(pid, SIGKILL) == 0 { _ = waitForSignal() }
    }
}

/// Runs `/bin/sh -c script` and returns its stdout.
func shell(_ script: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", script]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

/// Makes a v1 manager at /berth-test/<unique>, runs `body`, then kills what is left in it and
/// removes it (and the shared /berth-test parent when nothing else uses it).
func withV1TestCgroup(_ body: (CgroupManager) throws -> Void) throws {
    let id = "unit-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let manager = try makeCgroupManager(cgroupsPath: "/berth-test/" + id, containerID: id)
    defer {
        try? manager.thaw()
        try? manager.killAll(signal: SIGKILL)
        for _ in 0..<100 where !((try? manager.processes())?.isEmpty ?? true) { usleep(10_000) }
        try? manager.destroy()
        for directory in Set(manager.paths.values) {
            rmdir((directory as NSString).deletingLastPathComponent)   // EBUSY while another test uses it
        }
    }
    try manager.create()
    try body(manager)
}

/// Puts a sleeping process in the cgroup, freezes and thaws it, then kills it through the cgroup.
func exerciseMembershipFreezeKill(_ manager: CgroupManager) throws {
    let sleeper = try Sleeper()
    defer { sleeper.stop() }
    try manager.addProcess(sleeper.pid)
    #expect(try manager.processes() == [sleeper.pid])
    try manager.freeze()
    #expect(manager.isFrozen())
    try manager.thaw()
    #expect(!manager.isFrozen())
    try manager.killAll(signal: SIGKILL)
    #expect(sleeper.waitForSignal() == SIGKILL)
}

@Suite(.enabled(if: geteuid() == 0 && hostIsCgroupV1, "needs root on a cgroup v1 host"))
struct CgroupV1LiveTests {
    @Test func limitsAreWrittenAndReadBack() throws {
        try withV1TestCgroup { manager in
            try manager.apply(.init(memory: .init(limit: 32 << 20, reservation: 16 << 20, swap: 64 << 20, swappiness: 10),
                                    cpu: .init(shares: 512, quota: 50_000, period: 100_000, cpus: "0", mems: "0"),
                                    pids: .init(limit: 9)))
            let paths = manager.paths
            #expect(cgroupFile(paths["memory"], "memory.limit_in_bytes") == "33554432")
            #expect(cgroupFile(paths["memory"], "memory.soft_limit_in_bytes") == "16777216")
            #expect(cgroupFile(paths["memory"], "memory.swappiness") == "10")
            if CgroupFile.exists(paths["memory"]!, "memory.memsw.limit_in_bytes") {
                #expect(cgroupFile(paths["memory"], "memory.memsw.limit_in_bytes") == "67108864")
            }
            #expect(cgroupFile(paths["pids"], "pids.max") == "9")
            #expect(cgroupFile(paths["cpu"], "cpu.shares") == "512")
            #expect(cgroupFile(paths["cpu"], "cpu.cfs_quota_us") == "50000")
            #expect(cgroupFile(paths["cpu"], "cpu.cfs_period_us") == "100000")
            #expect(cgroupFile(paths["cpuset"], "cpuset.cpus") == "0")
            #expect(cgroupFile(paths["cpuset"], "cpuset.mems") == "0")

            try manager.apply(.init(blockIO: .init(weight: 500)))
            if let blkio = paths["blkio"], CgroupFile.exists(blkio, "blkio.bfq.weight") {
                #expect(cgroupFile(blkio, "blkio.bfq.weight") == "500")
            }

            // pids -1 is "max"; 0 leaves the value alone; quota -1 lifts the CPU limit.
            try manager.apply(.init(cpu: .init(quota: -1), pids: .init(limit: -1)))
            #expect(cgroupFile(paths["pids"], "pids.max") == "max")
            #expect(cgroupFile(paths["cpu"], "cpu.cfs_quota_us") == "-1")
            try manager.apply(.init(pids: .init(limit: 0)))
            #expect(cgroupFile(paths["pids"], "pids.max") == "max")
        }
    }

    @Test func cpusetStartsWithTheParentsCPUsAndMems() throws {
        try withV1TestCgroup { manager in
            let root = "/sys/fs/cgroup/cpuset"
            let directory = try #require(manager.paths["cpuset"])
            #expect(cgroupFile(directory, "cpuset.cpus") == cgroupFile(root, "cpuset.cpus"))
            #expect(cgroupFile(directory, "cpuset.mems") == cgroupFile(root, "cpuset.mems"))
            // So a process can join before any limit is applied.
            try exerciseMembershipFreezeKill(manager)
        }
    }

    @Test func memoryCanGrowAndShrinkWithSwap() throws {
        try withV1TestCgroup { manager in
            let memory = try #require(manager.paths["memory"])
            guard CgroupFile.exists(memory, "memory.memsw.limit_in_bytes") else { return }
            try manager.apply(.init(memory: .init(limit: 32 << 20, swap: 64 << 20)))
            // The new limit is above the current memsw: memsw has to be raised first.
            try manager.apply(.init(memory: .init(limit: 128 << 20, swap: 256 << 20)))
            #expect(cgroupFile(memory, "memory.limit_in_bytes") == String(128 << 20))
            #expect(cgroupFile(memory, "memory.memsw.limit_in_bytes") == String(256 << 20))
            // The new memsw is below the current limit: the limit has to be lowered first.
            try manager.apply(.init(memory: .init(limit: 16 << 20, swap: 16 << 20)))
            #expect(cgroupFile(memory, "memory.limit_in_bytes") == String(16 << 20))
            #expect(cgroupFile(memory, "memory.memsw.limit_in_bytes") == String(16 << 20))
            // Unlimited memory with swap unset lifts memsw too.
            try manager.apply(.init(memory: .init(limit: -1)))
            #expect(CgroupStatsParser.limit(cgroupFile(memory, "memory.limit_in_bytes")) == nil)
            #expect(CgroupStatsParser.limit(cgroupFile(memory, "memory.memsw.limit_in_bytes")) == nil)
        }
    }

    @Test func aFailedWriteNamesTheFile() throws {
        try withV1TestCgroup { manager in
            // Valid syntax, but this host has no CPU 63: the kernel says EINVAL.
            do {
                try manager.apply(.init(cpu: .init(cpus: "63")))
                Issue.record("cpuset.cpus 63 was accepted")
            } catch let error as SystemError {
                #expect(error.step.hasPrefix("write " + manager.paths["cpuset"]! + "/cpuset.cpus"))
                #expect("\(error)".hasSuffix(": numerical result out of range"))
            }
        }
    }

    @Test func deviceRulesDenyWhatIsNotAllowed() throws {
        try withV1TestCgroup { manager in
            let devices = try #require(manager.paths["devices"])
            try manager.apply(.init(devices: [.init(allow: false, access: "rwm"),
                                              .init(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),
                                              .init(allow: true, type: "c", major: 1, minor: 8, access: "rwm")]))
            // The two allow rules, written one by one through one open of devices.allow.
            #expect(cgroupFile(devices, "devices.list") == "c 1:3 rwm\nc 1:8 rwm")
            let output = try shell("""
                echo $$ > \(devices)/cgroup.procs && cat /dev/null && echo null-ok
                head -c1 /dev/zero >/dev/null 2>&1 || echo zero-denied
                """)
            #expect(output == "null-ok\nzero-denied\n")
        }
    }

    @Test func membershipFreezeKillAndDestroy() throws {
        var paths: [String: String] = [:]
        try withV1TestCgroup { manager in
            paths = manager.paths
            try exerciseMembershipFreezeKill(manager)
            // Re-opened from the saved paths, as `berth-runtime state/kill/delete` do.
            let reopened = try openCgroupManager(paths: manager.paths)
            #expect(reopened.paths == manager.paths)
            #expect(try reopened.processes().isEmpty)
            try reopened.destroy()
            for (_, path) in manager.paths { #expect(!FileManager.default.fileExists(atPath: path)) }
        }
        #expect(!paths.isEmpty)
    }

    @Test func aProcessJoinsTheSystemdAndCgroup2HierarchiesToo() throws {
        try withV1TestCgroup { manager in
            let sleeper = try Sleeper()
            defer { sleeper.stop() }
            try manager.addProcess(sleeper.pid)
            let own = try String(contentsOfFile: "/proc/\(sleeper.pid)/cgroup", encoding: .utf8)
            let expected = manager.paths["memory"]!.dropFirst("/sys/fs/cgroup/memory".count)
            if manager.paths["name=systemd"] != nil { #expect(own.contains(":name=systemd:\(expected)\n"), "\(own)") }
            if hasUnifiedMountOnHybridHost { #expect(own.contains("0::\(expected)\n"), "\(own)") }
        }
    }

    @Test func killAllWithAnotherSignalReachesEveryProcess() throws {
        try withV1TestCgroup { manager in
            let sleepers = try [Sleeper(), Sleeper()]
            defer { for sleeper in sleepers { sleeper.stop() } }
            for sleeper in sleepers { try manager.addProcess(sleeper.pid) }
            #expect(Set(try manager.processes()) == Set(sleepers.map(\.pid)))
            try manager.killAll(signal: SIGTERM)
            for sleeper in sleepers { #expect(sleeper.waitForSignal() == SIGTERM) }
            #expect(!manager.isFrozen())
        }
    }

    @Test func statsAndOOMKills() throws {
        try withV1TestCgroup { manager in
            try manager.apply(.init(memory: .init(limit: 16 << 20, swap: 16 << 20), pids: .init(limit: 20)))
            #expect(manager.oomKillCount() == 0)
            // `tail /dev/zero` buffers a line that never ends, until the OOM killer stops it.
            let join = Set(manager.paths.values).sorted().map { "echo $$ > \($0)/cgroup.procs" }.joined(separator: "\n")
            let output = try shell("""
                \(join)
                tail /dev/zero
                echo "tail ended with $?"
                """)
            #expect(output == "tail ended with 137\n")
            #expect(manager.oomKillCount() >= 1)

            let sleeper = try Sleeper()
            defer { sleeper.stop() }
            try manager.addProcess(sleeper.pid)
            let stats = manager.stats()
            #expect(stats.memoryLimit == 16 << 20)
            #expect(stats.memoryMaxUsage >= 8 << 20)
            #expect(stats.memoryStat["cache"] != nil)
            #expect(stats.pidsCurrent == 1)
            #expect(stats.pidsLimit == 20)
            #expect(stats.cpuTotal > 0)          // tail ran in here
            #expect(!stats.cpuPerCPU.isEmpty)
        }
    }
}

/// The v2 pieces, on the cgroup2 mount a hybrid host keeps at /sys/fs/cgroup/unified (it holds
/// only hugetlb here, but membership, freezing, kill, delegation and device filters are v2's).
@Suite(.enabled(if: geteuid() == 0 && hasUnifiedMountOnHybridHost, "needs root and a cgroup2 mount at /sys/fs/cgroup/unified"))
struct CgroupV2LiveTests {
    let parent = "/sys/fs/cgroup/unified/berth-test-v2-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

    func withV2TestCgroup(_ body: (CgroupV2) throws -> Void) throws {
        let manager = CgroupV2(directory: parent + "/leaf", mountPoint: "/sys/fs/cgroup/unified")
        defer {
            try? manager.thaw()
            try? manager.killAll(signal: SIGKILL)
            for _ in 0..<100 where !((try? manager.processes())?.isEmpty ?? true) { usleep(10_000) }
            try? manager.destroy()
            rmdir(parent)
        }
        try manager.create()
        try body(manager)
    }

    @Test func membershipFreezeKillAndDestroy() throws {
        try withV2TestCgroup { manager in
            try exerciseMembershipFreezeKill(manager)
            try manager.destroy()
            #expect(!FileManager.default.fileExists(atPath: manager.directory))
        }
    }

    /// A process cloned with the manager's cgroup2 directory is born there: nobody moves it
    /// (a move through cgroup.procs waits out an RCU grace period).
    @Test func aClonedChildIsBornInTheCgroup() throws {
        try withV2TestCgroup { manager in
            let directory = try #require(manager.cgroup2Directory)
            let fd = open(directory, Int32(BERTH_O_PATH) | O_DIRECTORY | O_CLOEXEC)
            try #require(fd >= 0)
            defer { close(fd) }
            var bornThere = false
            let pid = berth_clone(0, fd, &bornThere)
            if pid == 0 {
                pause()
                _exit(0)
            }
            try #require(pid > 0)
            defer {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
            }
            #expect(bornThere)
            #expect(try manager.processes() == [pid])
            let own = try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)
            #expect(own.contains("0::" + directory.dropFirst("/sys/fs/cgroup/unified".count) + "\n"), "\(own)")
        }
    }

    @Test func controllersAreDelegatedDownToTheContainer() throws {
        try withV2TestCgroup { manager in
            let offered = Set((cgroupFile("/sys/fs/cgroup/unified", "cgroup.controllers") ?? "").split(separator: " "))
            let wanted = offered.filter { CgroupV2.wanted.contains(String($0)) }
            let leaf = Set((cgroupFile(manager.directory, "cgroup.controllers") ?? "").split(separator: " "))
            #expect(wanted.isSubset(of: leaf))
            if leaf.contains("hugetlb"), CgroupFile.exists(manager.directory, "hugetlb.2MB.max") {
                try manager.apply(.init(hugepageLimits: [.init(pageSize: "2MB", limit: 4 << 20)]))
                #expect(cgroupFile(manager.directory, "hugetlb.2MB.max") == String(4 << 20))
            }
        }
    }

    @Test func cpuUsageIsReadFromCPUStat() throws {
        try withV2TestCgroup { manager in
            _ = try shell("echo $$ > \(manager.directory)/cgroup.procs; i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done")
            #expect(manager.stats().cpuTotal > 0)
            #expect(manager.oomKillCount() == 0)   // no memory controller here: no memory.events
        }
    }

    @Test func deviceFilterDeniesWhatIsNotAllowed() throws {
        try withV2TestCgroup { manager in
            // Allow /dev/null only (the last-match rules: deny all, then allow c 1:3).
            try manager.apply(.init(devices: [.init(allow: false, access: "rwm"),
                                              .init(allow: true, type: "c", major: 1, minor: 3, access: "rwm")]))
            let output = try shell("""
                echo $$ > \(manager.directory)/cgroup.procs && cat /dev/null && echo null-ok
                head -c1 /dev/zero >/dev/null 2>&1 || echo zero-denied
                """)
            #expect(output == "null-ok\nzero-denied\n")
            // Replacing the filter (docker update, a second apply) keeps exactly one program attached.
            try DeviceFilter.attach(DefaultSpec.deviceRules, to: manager.directory)
            let fd = open(manager.directory, O_DIRECTORY | O_RDONLY)
            defer { close(fd) }
            #expect(berth_bpf_attached_device_programs(fd) == 1)
            #expect(try shell("head -c1 /dev/zero | wc -c; echo $$ > \(manager.directory)/cgroup.procs; head -c1 /dev/zero | wc -c")
                    == "1\n1\n")
        }
    }
}
