import BerthOCI
import BerthRuntime
import Foundation
import Testing

/// create/start/state/kill/exec/pause/delete and cgroup limits, as root.
@Suite(.enabled(if: Harness.isRoot, "berth-runtime needs root"))
struct RuntimeLifecycleTests {
    /// Reads the saved state of a container to reach its cgroup like the engine does.
    func cgroup(of bundle: TestBundle) throws -> CgroupManager {
        let saved = try ContainerStore(root: bundle.stateRoot).load(bundle.id)
        return try openCgroupManager(paths: saved.cgroupPaths)
    }

    @Test func createStartStateKillDelete() throws {
        let bundle = try TestBundle(args: ["sh", "-c", "trap 'exit 3' TERM; while true; do sleep 0.05; done"])
        try bundle.writeSpec()
        let pidFile = bundle.directory + "/init.pid"
        let created = bundle.runtime(["create", "--bundle", bundle.directory, "--pid-file", pidFile, bundle.id])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(bundle.state() == "created")
        let pid = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8)))
        #expect(kill(pid, 0) == 0)
        #expect(bundle.runtime(["start", bundle.id]).status == 0)
        #expect(bundle.state() == "running")
        // A second start is refused.
        #expect(bundle.runtime(["start", bundle.id]).status == 1)
        // A running container cannot be deleted without --force.
        let refused = bundle.runtime(["delete", bundle.id])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("is not stopped: running"))
        #expect(bundle.runtime(["kill", bundle.id, "TERM"]).status == 0)
        #expect(bundle.waitForState("stopped"))
        let paths = try ContainerStore(root: bundle.stateRoot).load(bundle.id).cgroupPaths
        #expect(bundle.runtime(["delete", bundle.id]).status == 0)
        // Nothing left: no state, no cgroup directories, no mounts naming the bundle.
        #expect(bundle.runtime(["state", bundle.id]).status == 1)
        for (_, path) in paths { #expect(!FileManager.default.fileExists(atPath: path), "\(path) left behind") }
        let mounts = readProcFile("/proc/self/mountinfo") ?? ""
        #expect(!mounts.contains(bundle.directory))
    }

    @Test func signalsReachTheInitAndItsStatusIsReturned() throws {
        let bundle = try TestBundle(args: ["sh", "-c", "trap 'exit 42' USR1; while true; do sleep 0.05; done"])
        let runner = try bundle.startRun()
        #expect(bundle.waitForState("running"))
        usleep(100_000)
        #expect(bundle.runtime(["kill", bundle.id, "SIGUSR1"]).status == 0)
        runner.waitUntilExit()
        #expect(runner.terminationStatus == 42)
    }

    @Test func execJoinsTheContainersNamespacesAndCgroup() throws {
        let bundle = try TestBundle(args: ["sleep", "30"])
        bundle.spec.hostname = "exec-box"
        try bundle.writeSpec()
        #expect(bundle.runtime(["run", "--detach", "--bundle", bundle.directory, bundle.id]).status == 0)
        let saved = try ContainerStore(root: bundle.stateRoot).load(bundle.id)
        let exec = bundle.runtime(["exec", bundle.id, "sh", "-c",
                                   "hostname; cat /proc/1/cmdline | tr '\\0' ' '; echo; for n in pid mnt net; do readlink /proc/self/ns/$n; done; grep CapEff /proc/self/status; cat /proc/self/cgroup"])
        #expect(exec.status == 0, "\(exec.stderr)")
        let lines = exec.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "exec-box")
        #expect(lines.count > 1 && lines[1] == "sleep 30 ")
        for (index, ns) in ["pid", "mnt", "net"].enumerated() {
            let theirs = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(saved.pid)/ns/\(ns)")
            #expect(lines.count > 2 + index && lines[2 + index] == theirs)
        }
        #expect(exec.stdout.contains("CapEff:\t00000000a80425fb"))
        // In the container's cgroup in every hierarchy that has controllers (the child moves
        // itself there on cgroup v1), as the init is.
        for text in [exec.stdout, (try? String(contentsOfFile: "/proc/\(saved.pid)/cgroup", encoding: .utf8)) ?? ""] {
            let memberships = text.split(separator: "\n").compactMap { line -> (String, String)? in
                let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                guard fields.count == 3, Int(fields[0]) != nil else { return nil }
                return (String(fields[1]), String(fields[2]))
            }
            let controlled = memberships.filter { !$0.0.hasPrefix("name=") && ($0.0 != "" || memberships.count == 1) }
            #expect(!controlled.isEmpty && controlled.allSatisfy { $0.1.hasSuffix(bundle.cgroupsPath) }, "\(controlled)")
        }
        // The exit code of an exec'd process is the runtime's.
        #expect(bundle.runtime(["exec", bundle.id, "sh", "-c", "exit 5"]).status == 5)
        // --process with a JSON process, as an engine sends it.
        var process = try #require(bundle.spec.process)
        process.args = ["id", "-u"]
        process.user = .init(uid: 65534, gid: 65534)
        let processFile = bundle.directory + "/process.json"
        try JSONEncoder().encode(process).write(to: URL(fileURLWithPath: processFile))
        let asNobody = bundle.runtime(["exec", "--process", processFile, bundle.id])
        #expect(asNobody.stdout == "65534\n", "\(asNobody.stderr)")
    }

    /// exec decodes only the small part of the state file and loads the compiled seccomp program
    /// of the container's process; a state file from before that (no seccomp source) still works.
    @Test func execGetsTheContainersSeccompFilterFromItsCompiledProgram() throws {
        let bundle = try TestBundle(args: ["sleep", "30"])
        bundle.spec.linux?.seccomp = .init(defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64"],
                                           syscalls: [.init(names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO")])
        try bundle.writeSpec()
        #expect(bundle.runtime(["run", "--detach", "--bundle", bundle.directory, bundle.id]).status == 0)
        let store = ContainerStore(root: bundle.stateRoot)
        #expect(try store.load(bundle.id).seccomp == .program)
        #expect(FileManager.default.fileExists(atPath: store.directory(bundle.id) + "/seccomp.bpf"))
        let check = ["exec", bundle.id, "sh", "-c", "grep Seccomp: /proc/self/status; mkdir /tmp/denied; echo rc=$?"]
        let exec = bundle.runtime(check)
        #expect(exec.stdout == "Seccomp:\t2\nrc=1\n", "\(exec.stdout) \(exec.stderr)")
        #expect(exec.stderr.contains("Operation not permitted"))

        // The old state: no seccomp source, no program file; the filter comes from the config.
        let directory = store.directory(bundle.id)
        var old = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/state.json"))) as? [String: Any])
        #expect((old["config"] as? [String: Any])?["linux"] != nil)
        old["seccomp"] = nil
        try JSONSerialization.data(withJSONObject: old).write(to: URL(fileURLWithPath: directory + "/state.json"))
        try FileManager.default.removeItem(atPath: directory + "/seccomp.bpf")
        #expect(bundle.runtime(check).stdout == "Seccomp:\t2\nrc=1\n")
        #expect(bundle.runtime(["state", bundle.id]).stdout.contains("\"status\" : \"running\""))
    }

    @Test func pauseFreezesAndResumeThaws() throws {
        let bundle = try TestBundle(args: ["sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.01; done"])
        try bundle.writeSpec()
        #expect(bundle.runtime(["run", "--detach", "--bundle", bundle.directory, bundle.id]).status == 0)
        let counter = bundle.rootfs + "/tmp/count"
        // The shell truncates the file before each write: a read can land in between.
        func count() -> Int {
            for _ in 0..<50 {
                if let value = Int((try? String(contentsOfFile: counter, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") { return value }
                usleep(2000)
            }
            return -1
        }
        usleep(200_000)
        #expect(bundle.runtime(["pause", bundle.id]).status == 0)
        #expect(bundle.state() == "paused")
        usleep(50_000)
        let frozen = count()
        usleep(300_000)
        #expect(count() == frozen, "the counter moved while paused")
        #expect(bundle.runtime(["exec", bundle.id, "true"]).status == 1)
        #expect(bundle.runtime(["resume", bundle.id]).status == 0)
        #expect(bundle.state() == "running")
        usleep(300_000)
        #expect(count() > frozen)
    }

    @Test func memoryLimitOOMKillsAnAllocator() throws {
        // The shell keeps 64 MiB of text in a variable: far above the 16 MiB limit.
        let bundle = try TestBundle(args: ["sh", "-c", "x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo survived ${#x}"])
        bundle.spec.linux?.resources?.memory = .init(limit: 16 << 20, swap: 16 << 20)
        let result = try bundle.run(extra: ["--keep"])
        #expect(result.status == 137 || !result.stdout.contains("survived"), "\(result.stdout) \(result.stderr)")
        let cgroup = try cgroup(of: bundle)
        #expect(cgroup.oomKillCount() >= 1)
    }

    @Test func cpusetAndPidsLimitsAreInEffect() throws {
        let bundle = try TestBundle(args: ["sh", "-c",
            "grep Cpus_allowed_list /proc/self/status; for i in 1 2 3 4 5 6 7 8; do sleep 2 & done 2>&1; echo spawned"])
        bundle.spec.linux?.resources?.cpu = .init(cpus: "0")
        bundle.spec.linux?.resources?.pids = .init(limit: 4)
        let result = try bundle.run()
        #expect(result.stdout.contains("Cpus_allowed_list:\t0\n"), "\(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains("fork") || result.stdout.contains("fork"), "\(result.stdout) \(result.stderr)")
    }

    @Test func updateChangesLimitsOfARunningContainer() throws {
        let bundle = try TestBundle(args: ["sleep", "30"])
        try bundle.writeSpec()
        #expect(bundle.runtime(["run", "--detach", "--bundle", bundle.directory, bundle.id]).status == 0)
        let update = bundle.runtime(["update", "--pids-limit", "17", bundle.id])
        #expect(update.status == 0, "\(update.stderr)")
        let pidsDir = try #require(try ContainerStore(root: bundle.stateRoot).load(bundle.id).cgroupPaths["pids"])
        #expect(try String(contentsOfFile: pidsDir + "/pids.max", encoding: .utf8) == "17\n")
    }

    @Test func errorsNameTheFailingStepAndLeaveNothing() throws {
        let missing = try TestBundle(args: ["no-such-program"])
        let result = try missing.run()
        #expect(result.status == 1)
        #expect(result.stderr.contains("exec: \"no-such-program\": executable file not found in $PATH"))
        #expect(missing.runtime(["list", "--quiet"]).stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory" + missing.cgroupsPath))

        let badCwd = try TestBundle(args: ["true"])
        badCwd.spec.process?.cwd = "/does/not/exist"
        let cwdResult = try badCwd.run()
        #expect(cwdResult.status == 1)
        #expect(cwdResult.stderr.contains("chdir to cwd (\"/does/not/exist\") set in config.json failed: no such file or directory"))

        let badMount = try TestBundle(args: ["true"])
        badMount.spec.mounts?.append(.init(destination: "/mnt/x", type: "nosuchfs", source: "none"))
        let mountResult = try badMount.run()
        #expect(mountResult.status == 1)
        #expect(mountResult.stderr.contains("mount nosuchfs on /mnt/x"), "\(mountResult.stderr)")
        #expect(mountResult.stderr.contains("no such device"))
    }

    @Test func namespaceGivenByPathIsJoined() throws {
        let first = try TestBundle(args: ["sleep", "30"])
        try first.writeSpec()
        #expect(first.runtime(["run", "--detach", "--bundle", first.directory, first.id]).status == 0)
        let pid = try ContainerStore(root: first.stateRoot).load(first.id).pid
        let second = try TestBundle(args: ["readlink", "/proc/self/ns/net"])
        let namespaces = second.spec.linux?.namespaces?.map {
            $0.type == "network" ? Spec.Namespace(type: "network", path: "/proc/\(pid)/ns/net") : $0
        }
        second.spec.linux?.namespaces = namespaces
        let result = try second.run()
        #expect(result.status == 0, "\(result.stderr)")
        let theirs = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/net")
        #expect(result.stdout == theirs + "\n")
    }

    @Test func userNamespaceMapsRoot() throws {
        let bundle = try TestBundle(args: ["sh", "-c", "id -u; cat /proc/self/uid_map"])
        bundle.spec.linux?.namespaces?.append(.init(type: "user"))
        bundle.spec.linux?.uidMappings = [.init(containerID: 0, hostID: 200000, size: 65536)]
        bundle.spec.linux?.gidMappings = [.init(containerID: 0, hostID: 200000, size: 65536)]
        let result = try bundle.run()
        #expect(result.status == 0, "\(result.stderr)")
        let words = result.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" })
        #expect(words == ["0", "0", "200000", "65536"])
    }

    @Test func killAllReachesEveryProcessInTheCgroup() throws {
        // The init ignores TERM (PID 1 without a handler); its children do not.
        let bundle = try TestBundle(args: ["sh", "-c", "sleep 30 & sleep 30 & wait"])
        try bundle.writeSpec()
        #expect(bundle.runtime(["run", "--detach", "--bundle", bundle.directory, bundle.id]).status == 0)
        let cgroup = try cgroup(of: bundle)
        let deadline = Date().addingTimeInterval(5)
        while (try cgroup.processes().count) < 3 && Date() < deadline { usleep(10_000) }
        #expect(try cgroup.processes().count == 3)
        #expect(bundle.runtime(["kill", "--all", bundle.id, "9"]).status == 0)
        #expect(bundle.waitForState("stopped"))
        let emptyBy = Date().addingTimeInterval(5)
        while !(try cgroup.processes().isEmpty) && Date() < emptyBy { usleep(10_000) }
        #expect(try cgroup.processes().isEmpty)
    }
}
