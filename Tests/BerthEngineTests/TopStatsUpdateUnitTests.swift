import BerthOCI
import BerthRuntime
import Foundation
import Testing
@testable import BerthEngine

struct ProcessTableTests {
    static let psOutput = """
        UID          PID    PPID  C STIME TTY          TIME CMD
        root           1       0  0 10:00 ?        00:00:01 /sbin/init splash
        root         500       1  0 10:01 ?        00:00:00 sleep 1000
        root         501     500  0 10:01 ?        00:00:00 sh -c echo a   b
        root         900       1  0 10:02 ?        00:00:00 other

        """

    @Test func keepsTheContainersRowsAndJoinsTheCommand() throws {
        let table = try ProcessTable.filter(psOutput: Self.psOutput, pids: [500, 501])
        #expect(table.Titles == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"])
        #expect(table.Processes == [
            ["root", "500", "1", "0", "10:01", "?", "00:00:00", "sleep 1000"],
            ["root", "501", "500", "0", "10:01", "?", "00:00:00", "sh -c echo a b"],
        ])
    }

    @Test func threadLinesFollowTheirProcess() throws {
        let output = "PID TID CMD\n500 - sleep\n- 500 -\n900 - other\n- 900 -\n"
        let table = try ProcessTable.filter(psOutput: output, pids: [500])
        #expect(table.Processes == [["500", "-", "sleep"], ["-", "500", "-"]])
    }

    @Test func noPidColumnAndBadPidsAreDockerdsErrors() {
        #expect(throws: BerthError.internalError("Couldn't find PID field in ps output")) {
            try ProcessTable.filter(psOutput: "COMMAND\nsleep\n", pids: [1])
        }
        #expect(throws: BerthError.internalError("Unexpected pid 'x': strconv.Atoi: parsing \"x\": invalid syntax")) {
            try ProcessTable.filter(psOutput: "PID CMD\nx sleep\n", pids: [1])
        }
    }

    @Test func noRowsIsAnEmptyList() throws {
        #expect(try ProcessTable.filter(psOutput: "PID CMD\n", pids: [1]).Processes == [])
    }

    @Test func aColumnRenamedToPIDIsRefusedUnlessItIsPid() throws {
        #expect(throws: BerthError.internalError(#"specifying "pid,comm=PIDX" is not allowed"#)) {
            try ProcessTable.validate("-o pid,comm=PIDX")
        }
        #expect(throws: BerthError.internalError(#"specifying "comm=PID" is not allowed"#)) {
            try ProcessTable.validate("-o pid -o comm= PID")
        }
        try ProcessTable.validate("-o pid=PIDX,comm")
        try ProcessTable.validate("-o pid,comm=NAME")
        try ProcessTable.validate("-ef")
    }

    @Test func argumentsDefaultToEfAndSplitOnSpaces() {
        #expect(ProcessTable.arguments(nil) == ["-ef"])
        #expect(ProcessTable.arguments("") == ["-ef"])
        #expect(ProcessTable.arguments("-o pid,comm") == ["-o", "pid,comm"])
        #expect(ProcessTable.arguments("aux") == ["aux"])
    }
}

struct StatsSourcesTests {
    @Test func hostCPUTimeIsTheFirstSevenFieldsInNanoseconds() {
        let stat = "cpu  100 2 30 4000 5 6 7 8 0 0\ncpu0 50 1 15 2000 2 3 3 4 0 0\nintr 1\n"
        #expect(HostCPUUsage.parse(procStat: stat, ticksPerSecond: 100) == (100 + 2 + 30 + 4000 + 5 + 6 + 7) * 10_000_000)
        #expect(HostCPUUsage.parse(procStat: "intr 1\n", ticksPerSecond: 100) == nil)
    }

    @Test func netDevCountersWithoutLoopback() {
        let text = """
            Inter-|   Receive                                                |  Transmit
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
                lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0
              eth0:    1516      18    1    2    0     0          0         0      656       8    3    4    0     0       0          0

            """
        let counters = NetworkDeviceCounters.parse(text)
        #expect(counters.keys.sorted() == ["eth0"])
        #expect(counters["eth0"] == StatsRecord.NetworkStats(rx_bytes: 1516, rx_packets: 18, rx_errors: 1, rx_dropped: 2,
                                                             tx_bytes: 656, tx_packets: 8, tx_errors: 3, tx_dropped: 4))
    }
}

struct StatsRecordTests {
    static func object(_ record: StatsRecord) throws -> [String: Any] {
        let data = try JSONEncoder().encode(record)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static let host = StatsRecord.HostSample(systemCPU: 5_000_000_000, onlineCPUs: 2, memory: 4 << 30)

    static var usage: CgroupStats {
        var stats = CgroupStats()
        stats.cpuTotal = 900
        stats.cpuUser = 600
        stats.cpuSystem = 300
        stats.cpuPerCPU = [400, 500]
        stats.memoryUsage = 2048
        stats.memoryMaxUsage = 4096
        stats.memoryFailCount = 2
        stats.memoryStat = ["total_inactive_file": 10, "anon": 5, "sec_pagetables": 1]
        stats.pidsCurrent = 3
        stats.blockIO = [.init(major: 8, minor: 0, operation: "Read", bytes: 512)]
        stats.blockIOServiced = [.init(major: 8, minor: 0, operation: "Read", bytes: 1)]
        return stats
    }

    /// What dockerd 20.10 answers for a container that is not running (keys and values).
    @Test func anEmptyRecordIsDockerds() throws {
        let dockerd = #"""
            {"read":"0001-01-01T00:00:00Z","preread":"0001-01-01T00:00:00Z","pids_stats":{},"blkio_stats":{"io_service_bytes_recursive":null,"io_serviced_recursive":null,"io_queue_recursive":null,"io_service_time_recursive":null,"io_wait_time_recursive":null,"io_merged_recursive":null,"io_time_recursive":null,"sectors_recursive":null},"num_procs":0,"storage_stats":{},"cpu_stats":{"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},"precpu_stats":{"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},"memory_stats":{},"name":"/b","id":"abc"}
            """#
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(dockerd.utf8)) as? NSDictionary)
        let ours = try Self.object(.empty(name: "/b", id: "abc"))
        #expect(NSDictionary(dictionary: ours) == expected)
        // As the API writes it: byte for byte, in dockerd v28's order, which names the container first.
        let inOrder = dockerd.replacing(#","name":"/b","id":"abc"}"#, with: "}").replacing(#"{"read""#, with: #"{"name":"/b","id":"abc","read""#)
        #expect(String(decoding: try DeclarationOrderJSON.encode(StatsRecord.empty(name: "/b", id: "abc")), as: UTF8.self) == inOrder)
    }

    @Test func v1SampleKeepsPerCPUAndV1Lists() throws {
        let record = StatsRecord.sample(name: "/a", id: "abc", read: "2026-01-01T00:00:00Z", cgroup: Self.usage, unified: false,
                                        host: Self.host, networks: ["eth0": .init(rx_bytes: 7)])
        let json = try Self.object(record)
        let cpu = try #require(json["cpu_stats"] as? [String: Any])
        let usage = try #require(cpu["cpu_usage"] as? [String: Any])
        #expect(usage["percpu_usage"] as? [Int] == [400, 500])
        #expect(usage["usage_in_kernelmode"] as? Int == 300 && usage["usage_in_usermode"] as? Int == 600)
        #expect(cpu["system_cpu_usage"] as? Int == 5_000_000_000 && cpu["online_cpus"] as? Int == 2)
        let memory = try #require(json["memory_stats"] as? [String: Any])
        #expect(memory["limit"] as? Int == 4 << 30, "no limit: the host's memory")
        #expect(memory["max_usage"] as? Int == 4096 && memory["failcnt"] as? Int == 2)
        // dockerd's fixed v1 key set: missing lines are 0, newer kernels' extra lines are left out.
        let stats = try #require(memory["stats"] as? [String: Int])
        #expect(stats.count == 32 && stats["total_inactive_file"] == 10 && stats["cache"] == 0)
        #expect(stats["sec_pagetables"] == nil && stats["anon"] == nil)
        let blkio = try #require(json["blkio_stats"] as? [String: Any])
        #expect((blkio["io_service_bytes_recursive"] as? [[String: Any]])?.first?["op"] as? String == "Read")
        #expect((blkio["io_serviced_recursive"] as? [[String: Any]])?.first?["value"] as? Int == 1)
        #expect((blkio["io_queue_recursive"] as? [Any])?.isEmpty == true)
        #expect((json["pids_stats"] as? [String: Int]) == ["current": 3])
        #expect((json["networks"] as? [String: Any])?.keys.sorted() == ["eth0"])
    }

    @Test func v2SampleHasDockerdsV2Shape() throws {
        var usage = Self.usage
        usage.cpuPerCPU = []
        usage.memoryLimit = 1 << 20
        usage.pidsLimit = 10
        let record = StatsRecord.sample(name: "/a", id: "abc", read: "2026-01-01T00:00:00Z", cgroup: usage, unified: true,
                                        host: Self.host, networks: nil)
        let json = try Self.object(record)
        let usageJSON = try #require((json["cpu_stats"] as? [String: Any])?["cpu_usage"] as? [String: Any])
        #expect(usageJSON["percpu_usage"] == nil)
        let memory = try #require(json["memory_stats"] as? [String: Any])
        #expect(memory["limit"] as? Int == 1 << 20)
        #expect(memory["max_usage"] == nil && memory["failcnt"] == nil)
        #expect(memory["stats"] as? [String: Int] == ["anon": 5], "only dockerd's v2 keys")
        let blkio = try #require(json["blkio_stats"] as? [String: Any])
        #expect((blkio["io_service_bytes_recursive"] as? [[String: Any]])?.first?["op"] as? String == "read")
        #expect(blkio["io_serviced_recursive"] is NSNull)
        #expect((json["pids_stats"] as? [String: Int]) == ["current": 3, "limit": 10])
        #expect(json["networks"] == nil)
    }

    @Test func aLimitAboveTheHostsMemoryShowsTheHosts() {
        var usage = Self.usage
        usage.memoryLimit = 1 << 40
        let record = StatsRecord.sample(name: "/a", id: "abc", read: "t", cgroup: usage, unified: false, host: Self.host, networks: nil)
        #expect(record.memory.limit == 4 << 30)
    }

    @Test func followingCarriesThePreviousCPUAndTime() {
        let first = StatsRecord.sample(name: "/a", id: "abc", read: "t1", cgroup: Self.usage, unified: false, host: Self.host, networks: nil)
        let second = StatsRecord.sample(name: "/a", id: "abc", read: "t2", cgroup: Self.usage, unified: false, host: Self.host, networks: nil)
        #expect(first.following(nil).preread == StatsRecord.zeroTime)
        #expect(first.following(nil).precpu == StatsRecord.CPUStats())
        #expect(second.following(first).preread == "t1")
        #expect(second.following(first).precpu == first.cpu)
    }
}

struct ContainerUpdateTests {
    static var current: HostConfig {
        var config = HostConfig()
        config.Memory = 64 << 20
        config.MemorySwap = 128 << 20
        config.RestartPolicy = RestartPolicy(Name: "no")
        return config
    }

    @Test func zeroFieldsLeaveTheCurrentValues() throws {
        var request = HostConfig()
        request.CpuShares = 512
        request.CpusetCpus = ""
        let merged = try ContainerUpdate.merge(request, into: Self.current)
        #expect(merged.CpuShares == 512 && merged.Memory == 64 << 20 && merged.MemorySwap == 128 << 20)
        #expect(merged.RestartPolicy == RestartPolicy(Name: "no"))
    }

    @Test func aMemoryLimitAboveTheSwapLimitNeedsANewSwapLimit() throws {
        var request = HostConfig()
        request.Memory = 200 << 20
        #expect(throws: BerthError.conflict("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time")) {
            try ContainerUpdate.merge(request, into: Self.current)
        }
        request.MemorySwap = 400 << 20
        let merged = try ContainerUpdate.merge(request, into: Self.current)
        #expect(merged.Memory == 200 << 20 && merged.MemorySwap == 400 << 20)
    }

    @Test func nanoCPUsAndQuotaExcludeEachOtherAcrossUpdates() {
        var current = Self.current
        current.NanoCpus = 500_000_000
        var request = HostConfig()
        request.CpuQuota = 50_000
        #expect(throws: BerthError.conflict("Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set")) {
            try ContainerUpdate.merge(request, into: current)
        }
        current = Self.current
        current.CpuPeriod = 100_000
        request = HostConfig()
        request.NanoCpus = 1_000_000_000
        #expect(throws: BerthError.conflict("Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set")) {
            try ContainerUpdate.merge(request, into: current)
        }
    }

    @Test func restartPolicyAndAutoRemove() throws {
        var request = HostConfig()
        request.RestartPolicy = RestartPolicy(Name: "on-failure", MaximumRetryCount: 3)
        #expect(try ContainerUpdate.merge(request, into: Self.current).RestartPolicy == request.RestartPolicy)
        var autoRemove = Self.current
        autoRemove.AutoRemove = true
        #expect(throws: BerthError.conflict("Restart policy cannot be updated because AutoRemove is enabled for the container")) {
            try ContainerUpdate.merge(request, into: autoRemove)
        }
        request.RestartPolicy = RestartPolicy(Name: "no")
        #expect(try ContainerUpdate.merge(request, into: autoRemove).RestartPolicy == RestartPolicy(Name: "no"))
    }

    @Test func cgroupValuesComeFromTheRequestOnly() throws {
        var request = HostConfig()
        request.NanoCpus = 1_500_000_000
        request.PidsLimit = -1
        request.MemorySwap = 256 << 20
        let resources = ContainerUpdate.resources(request, merged: try ContainerUpdate.merge(request, into: Self.current))
        #expect(resources.cpu == Spec.CPU(quota: 150_000, period: 100_000))
        #expect(resources.pids?.limit == -1)
        // A swap limit carries the memory limit in force (v2 needs it for memory.swap.max).
        #expect(resources.memory?.limit == 64 << 20 && resources.memory?.swap == 256 << 20)
        #expect(resources.blockIO == nil && resources.memory?.reservation == nil)
    }

    @Test func updateValidationAllowsASwapLimitAlone() throws {
        var request = HostConfig()
        request.MemorySwap = 256 << 20
        #expect(throws: BerthError.invalidArgument("You should always set the Memory limit when using Memoryswap limit, see usage")) {
            var copy = request
            _ = try CreateValidation.validateResources(&copy, host: CreateValidationTests.host)
        }
        var copy = request
        #expect(try CreateValidation.validateResources(&copy, host: CreateValidationTests.host, update: true) == [])
    }
}
