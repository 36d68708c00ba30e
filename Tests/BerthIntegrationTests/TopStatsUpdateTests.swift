import Foundation
import Glibc
import Testing

/// `docker top`, `docker stats` and `docker update` through the stock CLI (and raw HTTP for the
/// stats stream), with dockerd 20.10's answers as the reference.
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct TopStatsUpdateTests {
    static func withDaemon(_ body: (TestDaemon) throws -> Void) throws {
        try ContainerBehaviourTests.withDaemon(#"{"cgroup-parent": "/berth-test"}"#, body)
    }

    static func inspect(_ daemon: TestDaemon, _ format: String, _ name: String) -> String {
        daemon.docker(["inspect", "--format", format, name]).stdout.trimmingCharacters(in: .newlines)
    }

    /// A file of the container's cgroup, found through /proc/<pid>/cgroup: `controller` names
    /// the v1 hierarchy; on a v2 host the unified directory is used and `v2File` read instead.
    static func cgroupFile(pid: String, controller: String, v1File: String, v2File: String) -> String? {
        guard let table = try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8) else { return nil }
        let unified = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")
        for line in table.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let path: String
            if unified {
                guard parts[0] == "0" else { continue }
                path = "/sys/fs/cgroup" + parts[2] + "/" + v2File
            } else {
                guard parts[1].split(separator: ",").contains(Substring(controller)) else { continue }
                path = "/sys/fs/cgroup/" + controller + parts[2] + "/" + v1File
            }
            return (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return nil
    }

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    // MARK: - docker top

    @Test func topShowsTheContainersProcessesAsPsDoes() throws {
        try Self.withDaemon { daemon in
            #expect(daemon.docker(["run", "-d", "--name", "tp", "busybox", "sleep", "1000"]).status == 0)
            let pid = Self.inspect(daemon, "{{.State.Pid}}", "tp")
            #expect(daemon.docker(["exec", "-d", "tp", "sleep", "999"]).status == 0)
            #expect(ContainerBehaviourTests.eventually(5) { daemon.docker(["top", "tp"]).stdout.contains("sleep 999") })

            let top = daemon.docker(["top", "tp"])
            #expect(top.status == 0, "\(top.stderr)")
            let lines = top.stdout.split(separator: "\n")
            #expect(lines.first?.split(separator: " ") == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"], "\(top.stdout)")
            #expect(lines.count == 3, "only the container's two processes: \(top.stdout)")
            #expect(lines.contains { $0.split(separator: " ").dropFirst().first.map(String.init) == pid && $0.hasSuffix("sleep 1000") })
            #expect(lines.contains { $0.hasSuffix("sleep 999") })

            let columns = daemon.docker(["top", "tp", "-o", "pid,comm"])
            #expect(columns.status == 0)
            let rows = columns.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            #expect(rows.first == ["PID", "COMMAND"])
            #expect(rows.contains([pid, "sleep"]), "\(columns.stdout)")

            // The API's shape: titles, and rows of as many strings (CMD keeps its spaces).
            let raw = Self.json(daemon.curl(["http://berth/v1.50/containers/tp/top"]).stdout)
            let titles = raw["Titles"] as? [String] ?? []
            let processes = raw["Processes"] as? [[String]] ?? []
            #expect(titles.count == 8 && processes.count == 2 && processes.allSatisfy { $0.count == 8 }, "\(raw)")
            #expect(processes.contains { $0[1] == pid && $0[7] == "sleep 1000" })

            let noPid = daemon.docker(["top", "tp", "-o", "comm"])
            #expect(noPid.status == 1 && noPid.stderr == "Error response from daemon: Couldn't find PID field in ps output\n", "\(noPid)")
            // ps's own complaint, its first line (procps: "ps: error: unsupported option (BSD syntax)").
            let bad = daemon.docker(["top", "tp", "xyz"])
            #expect(bad.status == 1 && bad.stderr.hasPrefix("Error response from daemon: ps: "), "\(bad)")
            #expect(bad.stderr.split(separator: "\n").count == 1)
            let status = daemon.curl(["-o", "/dev/null", "-w", "%{http_code}", "http://berth/v1.50/containers/tp/top?ps_args=xyz"])
            #expect(status.stdout == "500")

            #expect(daemon.docker(["create", "--name", "tpc", "busybox", "true"]).status == 0)
            let id = Self.inspect(daemon, "{{.Id}}", "tpc")
            let stopped = daemon.docker(["top", "tpc"])
            #expect(stopped.status == 1 && stopped.stderr == "Error response from daemon: Container \(id) is not running\n", "\(stopped)")
            let conflict = daemon.curl(["-o", "/dev/null", "-w", "%{http_code}", "http://berth/v1.50/containers/tpc/top"])
            #expect(conflict.stdout == "409")
            let missing = daemon.docker(["top", "nosuchc"])
            #expect(missing.status == 1 && missing.stderr == "Error response from daemon: No such container: nosuchc\n")
        }
    }

    // MARK: - docker stats

    @Test func statsNoStreamShowsSaneNumbers() throws {
        try Self.withDaemon { daemon in
            #expect(daemon.docker(["run", "-d", "--name", "st", "-m", "64m", "busybox", "sleep", "1000"]).status == 0)
            #expect(daemon.docker(["run", "-d", "--name", "su", "busybox", "sleep", "1000"]).status == 0)
            #expect(daemon.docker(["create", "--name", "sx", "busybox", "true"]).status == 0)

            let format = "{{.Name}}|{{.MemUsage}}|{{.PIDs}}|{{.CPUPerc}}|{{.NetIO}}|{{.BlockIO}}"
            let one = daemon.docker(["stats", "--no-stream", "--format", format, "st"])
            #expect(one.status == 0, "\(one.stderr)")
            let fields = one.stdout.trimmingCharacters(in: .newlines).split(separator: "|").map(String.init)
            try #require(fields.count == 6, "\(one.stdout)")
            #expect(fields[0] == "st")
            #expect(fields[1].hasSuffix(" / 64MiB") && !fields[1].hasPrefix("0B"), "\(fields[1])")
            #expect(fields[2] == "1")
            let cpu = Double(fields[3].dropLast()) ?? -1
            #expect(fields[3].hasSuffix("%") && cpu >= 0 && cpu <= 200, "\(fields[3])")
            #expect(fields[4].contains(" / "), "\(fields[4])")

            // No args: the running containers only; -a: the stopped one too, with zeros.
            let running = daemon.docker(["stats", "--no-stream", "--format", "{{.Name}}"])
            #expect(running.status == 0)
            #expect(Set(running.stdout.split(separator: "\n")) == ["st", "su"], "\(running.stdout)")
            let all = daemon.docker(["stats", "--no-stream", "-a", "--format", format])
            #expect(all.stdout.split(separator: "\n").contains("sx|0B / 0B|0|0.00%|0B / 0B|0B / 0B"), "\(all.stdout)")

            // Without a limit the limit is the host's memory, as dockerd shows it.
            let unlimited = Self.json(daemon.curl(["http://berth/v1.50/containers/su/stats?stream=false"]).stdout)
            let memory = unlimited["memory_stats"] as? [String: Any] ?? [:]
            let hostMemory = Int64(sysconf(Int32(_SC_PHYS_PAGES))) * Int64(sysconf(Int32(_SC_PAGESIZE)))
            #expect((memory["limit"] as? NSNumber)?.int64Value == hostMemory, "\(memory)")

            // The default table's columns.
            let table = daemon.docker(["stats", "--no-stream", "st"])
            let header = table.stdout.split(separator: "\n").first?.split(separator: " ").joined(separator: " ")
            #expect(header == "CONTAINER ID NAME CPU % MEM USAGE / LIMIT MEM % NET I/O BLOCK I/O PIDS", "\(table.stdout)")
        }
    }

    @Test func statsJSONHasDockersShape() throws {
        try Self.withDaemon { daemon in
            #expect(daemon.docker(["run", "-d", "--name", "sj", "-m", "64m", "busybox", "sleep", "1000"]).status == 0)
            let id = Self.inspect(daemon, "{{.Id}}", "sj")
            let sample = Self.json(daemon.curl(["http://berth/v1.50/containers/sj/stats?stream=false"]).stdout)
            #expect(sample["id"] as? String == id && sample["name"] as? String == "/sj")
            #expect(sample["preread"] as? String != "0001-01-01T00:00:00Z", "stream=false primes precpu: \(sample)")
            let cpu = sample["cpu_stats"] as? [String: Any] ?? [:]
            let precpu = sample["precpu_stats"] as? [String: Any] ?? [:]
            #expect((cpu["online_cpus"] as? Int ?? 0) >= 1)
            #expect((cpu["system_cpu_usage"] as? NSNumber)?.uint64Value ?? 0 > (precpu["system_cpu_usage"] as? NSNumber)?.uint64Value ?? 0)
            #expect((cpu["cpu_usage"] as? [String: Any])?["total_usage"] != nil)
            #expect(cpu["throttling_data"] != nil)
            let memory = sample["memory_stats"] as? [String: Any] ?? [:]
            #expect((memory["limit"] as? Int) == 64 * 1024 * 1024)
            #expect((memory["usage"] as? Int ?? 0) > 0)
            let stats = memory["stats"] as? [String: Any] ?? [:]
            #expect(stats["inactive_file"] != nil || stats["total_inactive_file"] != nil, "\(stats.keys)")
            #expect((sample["pids_stats"] as? [String: Any])?["current"] as? Int == 1)
            #expect(sample["blkio_stats"] is [String: Any])
            let networks = sample["networks"] as? [String: Any] ?? [:]
            #expect(networks.keys.sorted() == ["eth0"], "\(networks)")
            #expect((networks["eth0"] as? [String: Any])?["rx_bytes"] != nil)

            // one-shot: a single sample, no pre-fields.
            let oneShot = Self.json(daemon.curl(["http://berth/v1.50/containers/sj/stats?stream=false&one-shot=true"]).stdout)
            #expect(oneShot["preread"] as? String == "0001-01-01T00:00:00Z")

            // A container not running: dockerd's empty record.
            #expect(daemon.docker(["create", "--name", "sk", "busybox", "true"]).status == 0)
            let empty = Self.json(daemon.curl(["http://berth/v1.50/containers/sk/stats?stream=false"]).stdout)
            #expect(empty["read"] as? String == "0001-01-01T00:00:00Z")
            #expect((empty["memory_stats"] as? [String: Any])?.isEmpty == true)
            #expect((empty["pids_stats"] as? [String: Any])?.isEmpty == true)
            #expect(empty["networks"] == nil)
            let missing = daemon.curl(["-w", " %{http_code}", "http://berth/v1.50/containers/nosuch/stats?stream=false"])
            #expect(missing.stdout == "{\"message\":\"No such container: nosuch\"}\n 404", "\(missing.stdout)")
        }
    }

    @Test func statsStreamsOneRecordASecondAndEndsWithTheContainer() throws {
        try Self.withDaemon { daemon in
            #expect(daemon.docker(["run", "-d", "--name", "ss", "busybox", "sleep", "1000"]).status == 0)
            let stream = daemon.curl(["-N", "-m", "3.5", "http://berth/v1.50/containers/ss/stats"])
            let records = stream.stdout.split(separator: "\n").map { Self.json(String($0)) }
            #expect(records.count >= 2 && records.count <= 5, "\(stream.stdout.prefix(300))")
            try #require(records.count >= 2)
            #expect(records[0]["preread"] as? String == "0001-01-01T00:00:00Z")
            #expect((records[0]["precpu_stats"] as? [String: Any])?["system_cpu_usage"] == nil)
            #expect(records[1]["preread"] as? String == records[0]["read"] as? String)
            let precpu = records[1]["precpu_stats"] as? [String: Any] ?? [:]
            #expect((precpu["system_cpu_usage"] as? NSNumber)?.uint64Value ?? 0 > 0, "\(precpu)")

            // The stream ends when the container exits.
            #expect(daemon.docker(["run", "-d", "--name", "se", "busybox", "sleep", "2"]).status == 0)
            let began = Date()
            let ending = daemon.curl(["-N", "-m", "15", "-w", "%{exitcode}", "http://berth/v1.50/containers/se/stats"])
            #expect(Date().timeIntervalSince(began) < 8, "\(ending.stdout.suffix(100))")
            #expect(ending.stdout.hasSuffix("}\n0"), "\(ending.stdout.suffix(100))")
        }
    }

    // MARK: - docker update

    /// On cgroup v1 the kernel refuses a limit below what the container uses: runc's words,
    /// and the container keeps its limit (v2 reclaims or OOM-kills instead).
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory/memory.limit_in_bytes"), "memory is a v1 controller"))
    func aMemoryLimitBelowTheUsageIsRefused() throws {
        try Self.withDaemon { daemon in
            #expect(daemon.docker(["run", "-d", "--name", "full", "-m", "64m", "--memory-swap", "64m", "busybox", "sh", "-c",
                                   "dd if=/dev/zero of=/dev/shm/f bs=1M count=24 2>/dev/null; touch /filled; sleep 1000"]).status == 0)
            CopyExportDiffTests.waitFor { daemon.docker(["exec", "full", "test", "-f", "/filled"]).status == 0 }
            let id = Self.inspect(daemon, "{{.Id}}", "full")
            let refused = daemon.docker(["update", "-m", "8m", "--memory-swap", "8m", "full"])
            #expect(refused.status == 1 && refused.stderr.hasPrefix(
                "Error response from daemon: Cannot update container \(id): unable to set memory limit to 8388608 (current usage: "), "\(refused)")
            #expect(Self.inspect(daemon, "{{.HostConfig.Memory}} {{.State.Running}}", "full") == "67108864 true")
            #expect(daemon.docker(["rm", "-f", "full"]).status == 0)
        }
    }

    @Test func updateChangesTheLiveCgroupAndTheHostConfig() throws {
        try Self.withDaemon { daemon in
            #expect(daemon.docker(["run", "-d", "--name", "up", "-m", "64m", "busybox", "sleep", "1000"]).status == 0)
            var pid = Self.inspect(daemon, "{{.State.Pid}}", "up")
            func memoryLimit() -> String? {
                Self.cgroupFile(pid: pid, controller: "memory", v1File: "memory.limit_in_bytes", v2File: "memory.max")
            }
            #expect(memoryLimit() == "67108864")

            let smaller = daemon.docker(["update", "-m", "32m", "up"])
            #expect(smaller.status == 0 && smaller.stdout == "up\n", "\(smaller)")
            #expect(Self.inspect(daemon, "{{.HostConfig.Memory}}", "up") == "33554432")
            #expect(memoryLimit() == "33554432")

            let larger = daemon.docker(["update", "-m", "200m", "--memory-swap", "400m", "up"])
            #expect(larger.status == 0, "\(larger.stderr)")
            #expect(memoryLimit() == "209715200")
            #expect(Self.inspect(daemon, "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}", "up") == "209715200 419430400")

            #expect(daemon.docker(["update", "--cpus", "0.5", "--pids-limit", "50", "--cpu-shares", "512", "up"]).status == 0)
            #expect(Self.inspect(daemon, "{{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.CpuShares}}", "up")
                    == "500000000 50 512")
            #expect(Self.cgroupFile(pid: pid, controller: "pids", v1File: "pids.max", v2File: "pids.max") == "50")
            #expect(Self.cgroupFile(pid: pid, controller: "cpu", v1File: "cpu.cfs_quota_us", v2File: "cpu.max")?
                .hasPrefix("50000") == true)

            // A restart keeps them (the new run's cgroup is made from the saved HostConfig).
            #expect(daemon.docker(["restart", "-t", "0", "up"]).status == 0)
            pid = Self.inspect(daemon, "{{.State.Pid}}", "up")
            #expect(memoryLimit() == "209715200")
            #expect(Self.cgroupFile(pid: pid, controller: "pids", v1File: "pids.max", v2File: "pids.max") == "50")

            // No pids limit: any value below 1, recorded as dockerd records it (0 by update,
            // null at create).
            #expect(daemon.docker(["update", "--pids-limit", "-5", "up"]).status == 0)
            #expect(Self.inspect(daemon, "{{.HostConfig.PidsLimit}}", "up") == "0")
            #expect(Self.cgroupFile(pid: pid, controller: "pids", v1File: "pids.max", v2File: "pids.max") == "max")
            #expect(daemon.docker(["update", "--pids-limit", "50", "up"]).status == 0)
            #expect(daemon.docker(["create", "--name", "unlimited", "--pids-limit", "-1", "busybox", "true"]).status == 0)
            #expect(Self.inspect(daemon, "{{.HostConfig.PidsLimit}}", "unlimited") == "<nil>")

            // A stopped container: only the HostConfig changes, and the next start applies it.
            #expect(daemon.docker(["create", "--name", "uq", "busybox", "sleep", "1000"]).status == 0)
            let stopped = daemon.docker(["update", "-m", "20m", "--memory-swap", "40m", "uq"])
            #expect(stopped.status == 0, "\(stopped.stderr)")
            #expect(daemon.docker(["start", "uq"]).status == 0)
            pid = Self.inspect(daemon, "{{.State.Pid}}", "uq")
            #expect(memoryLimit() == "20971520")

            // Real-time values are stored, neither checked nor applied to the running
            // container's cgroup (dockerd 20.10 does the same: its update never hands them on).
            let realtime = daemon.docker(["update", "--cpu-rt-runtime", "10", "--cpu-rt-period", "5", "up"])
            #expect(realtime.status == 0 && realtime.stdout == "up\n", "\(realtime)")
            #expect(Self.inspect(daemon, "{{.HostConfig.CpuRealtimeRuntime}} {{.HostConfig.CpuRealtimePeriod}}", "up") == "10 5")

            // The answer's shape: no warnings is null.
            let raw = daemon.curl(["-X", "POST", "-H", "Content-Type: application/json", "-d", #"{"CpuShares": 256}"#,
                                   "http://berth/v1.50/containers/up/update"])
            #expect(raw.stdout == "{\"Warnings\":null}\n", "\(raw.stdout)")
        }
    }

    @Test func updateRestartPolicy() throws {
        try Self.withDaemon { daemon in
            #expect(daemon.docker(["run", "-d", "--name", "ur", "busybox", "sleep", "1000"]).status == 0)
            #expect(daemon.docker(["update", "--restart", "on-failure:3", "ur"]).status == 0)
            #expect(Self.inspect(daemon, "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}", "ur")
                    == "on-failure:3")
            let bad = daemon.docker(["update", "--restart", "foo", "ur"])
            #expect(bad.status == 1 && bad.stderr == "Error response from daemon: invalid restart policy 'foo'\n", "\(bad)")

            // An --rm container keeps "no".
            #expect(daemon.docker(["run", "-d", "--rm", "--name", "ua", "busybox", "sleep", "1000"]).status == 0)
            let id = Self.inspect(daemon, "{{.Id}}", "ua")
            let autoRemove = daemon.docker(["update", "--restart", "always", "ua"])
            #expect(autoRemove.status == 1)
            #expect(autoRemove.stderr == "Error response from daemon: Cannot update container \(id): Restart policy cannot be updated because AutoRemove is enabled for the container\n", "\(autoRemove)")
            #expect(daemon.docker(["update", "--restart", "no", "ua"]).status == 0)

            // The new policy is the one the supervisor follows: an exit restarts the container.
            #expect(daemon.docker(["run", "-d", "--name", "ul", "busybox", "sh", "-c", "sleep 2; exit 3"]).status == 0)
            #expect(daemon.docker(["update", "--restart", "always", "ul"]).status == 0)
            #expect(ContainerBehaviourTests.eventually(10) { Self.inspect(daemon, "{{.RestartCount}}", "ul") != "0" })
        }
    }

    @Test func updateRejectsBadValuesAsDockerdDoes() throws {
        try Self.withDaemon { daemon in
            #expect(daemon.docker(["run", "-d", "--name", "ub", "-m", "64m", "busybox", "sleep", "1000"]).status == 0)
            let id = Self.inspect(daemon, "{{.Id}}", "ub")
            let cpus = ProcessInfo.processInfo.activeProcessorCount
            let online = ((try? String(contentsOfFile: "/sys/devices/system/cpu/online", encoding: .utf8)) ?? "")
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let cases: [([String], String)] = [
                (["-m", "4m"], "Minimum memory limit allowed is 6MB"),
                (["-m", "300m"], "Cannot update container \(id): Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time"),
                (["--cpus", "\(cpus + 3)"], "Range of CPUs is from 0.01 to \(cpus).00, as there are only \(cpus) CPUs available"),
                (["--cpu-period", "500"], "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"),
                (["--cpu-quota", "500"], "CPU cfs quota can not be less than 1ms (i.e. 1000)"),
                (["--memory-reservation", "1m"], "Minimum memory reservation allowed is 6MB"),
                (["-m", "10m", "--memory-reservation", "20m"], "Minimum memory limit can not be less than memory reservation limit, see usage"),
                (["-m", "100m", "--memory-swap", "50m"], "Minimum memoryswap limit should be larger than memory limit, see usage"),
                (["--cpuset-cpus", "99"], "Requested CPUs are not available - requested 99, available: \(online)"),
                (["--cpus", "1", "--cpu-quota", "50000"], "Conflicting options: Nano CPUs and CPU Quota cannot both be set"),
            ]
            for (args, message) in cases {
                let result = daemon.docker(["update"] + args + ["ub"])
                #expect(result.status == 1 && result.stderr == "Error response from daemon: \(message)\n", "\(args): \(result)")
            }
            // NanoCPUs set: a quota alone conflicts with it.
            #expect(daemon.docker(["update", "--cpus", "0.5", "ub"]).status == 0)
            let quota = daemon.docker(["update", "--cpu-quota", "50000", "ub"])
            #expect(quota.stderr == "Error response from daemon: Cannot update container \(id): Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set\n", "\(quota)")
            // Nothing of the refused updates stuck.
            #expect(Self.inspect(daemon, "{{.HostConfig.Memory}} {{.HostConfig.CpuQuota}}", "ub") == "67108864 0")
            let missing = daemon.docker(["update", "-m", "64m", "nosuchc"])
            #expect(missing.status == 1 && missing.stderr == "Error response from daemon: No such container: nosuchc\n", "\(missing)")
            let status = daemon.curl(["-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "Content-Type: application/json",
                                      "-d", #"{"Memory": 1000}"#, "http://berth/v1.50/containers/ub/update"])
            #expect(status.stdout == "400")
        }
    }
}
