import BerthOCI
import Foundation
import Synchronization
import Testing

/// berthd killed in the middle of create/start/rm/stop/restart/exec (and shims and runtimes
/// killed mid-start): after a restart on the same data root every container is in a true
/// state, and once everything is removed nothing of them is left on the host.
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct CrashConsistencyTests {
    /// Milliseconds after the burst's first create reached berthd at which it is killed:
    /// fixed, so a failure repeats. "h": a shim and the runtimes at work are killed first;
    /// "r": the restarted berthd is killed again in the middle of its recovery. To hunt with
    /// other moments, BERTH_CRASH_DELAYS="40,130h,70hr,...", and BERTH_CRASH_VERBOSE=1 prints
    /// each round's commands and states.
    static let rounds: [(delay: Int, helpers: Bool, recovery: Int?)] = {
        let list = ProcessInfo.processInfo.environment["BERTH_CRASH_DELAYS"]
            ?? "5,60h,150r,300,25h,220,110hr,380,12,180h"
        return list.split(separator: ",").enumerated().map { index, round in
            (Int(round.filter(\.isNumber)) ?? 0, round.contains("h"), round.contains("r") ? 10 + index * 15 : nil)
        }
    }()

    @Test func crashesInTheMiddleOfCommandsLeaveTrueStatesAndNoLeftovers() throws {
        let rig = try CrashRig()
        defer { rig.cleanUp() }
        var everyName: Set<String> = []
        // Containers the first round's rm/stop/restart/exec work on.
        try rig.seed(round: 0)
        for (index, round) in Self.rounds.enumerated() {
            let number = index + 1
            let burst = rig.burst(round: number)
            everyName.formUnion(burst.map(\.name))
            let outcomes = rig.runBurst(burst, crashAfter: round.delay, killHelpers: round.helpers)
            if let recovery = round.recovery { rig.crashDuringRecovery(after: recovery) }
            try rig.restart()
            if ProcessInfo.processInfo.environment["BERTH_CRASH_VERBOSE"] != nil {
                for outcome in outcomes {
                    print("round \(number): \(outcome.command.steps.map { $0.joined(separator: " ") }) → \(outcome.statuses) \(outcome.stderr.prefix(200))")
                }
                for container in rig.inspectAll() { print("round \(number):   \(container.name) \(container.status) \(container.pid)") }
            }
            rig.checkTrueStates(round: number, outcomes: outcomes)
        }
        // Every container is usable: the stopped ones start, and every one is removed.
        let listed = rig.inspectAll()
        for container in listed where !container.running && !container.autoRemove {
            let start = rig.docker(["start", container.id])
            #expect(start.status == 0, "start of \(container.name) (\(container.status)) after the crashes: \(start.stderr)")
        }
        let ids = rig.allIDs()
        if !ids.isEmpty {
            let rm = rig.docker(["rm", "-f", "-v"] + ids)
            #expect(rm.status == 0, "rm -f of every container: \(rm.stderr)")
        }
        #expect(rig.allIDs().isEmpty, "containers left after rm -f of all: \(rig.docker(["ps", "-a"]).stdout)")
        rig.checkNoLeftovers()
        // The anonymous volumes went with their containers (rm -v); the named ones stay.
        let volumes = rig.docker(["volume", "ls", "-q"]).stdout.split(separator: "\n").filter { !$0.hasPrefix("crashvol") }
        #expect(volumes.isEmpty, "anonymous volumes left: \(volumes)")
        // Every name is free again.
        for name in everyName.sorted() {
            let create = rig.docker(["create", "--name", name, "busybox", "true"])
            #expect(create.status == 0, "the name \(name) is still held: \(create.stderr)")
        }
        let reused = rig.allIDs()
        if !reused.isEmpty { rig.docker(["rm", "-f"] + reused) }
        // No container holds the user network any more.
        let networkRemoval = rig.docker(["network", "rm", "crashnet"])
        #expect(networkRemoval.status == 0, "\(networkRemoval.stderr)")
    }

    /// What a runtime killed mid-create leaves (its directory without a state, a cgroup) does
    /// not block the container's next start ("already exists"), and goes with the container;
    /// at a restart berthd sweeps it for containers that are not running and unknown ones.
    @Test func whatAStartCutShortLeftIsCleanedUp() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            func id(_ name: String) -> String { ContainerBehaviourTests.inspect(daemon, "{{.Id}}", name).trimmingCharacters(in: .whitespacesAndNewlines) }
            func leave(_ id: String, in directory: String) -> [String] {
                mkdir(directory + "/exec/runtime/" + id, 0o711)
                let cgroups = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")
                    ? ["/sys/fs/cgroup/berth-test/\(id)"]
                    // On a hybrid host the named systemd hierarchy and the cgroup2 mount too.
                    : (["pids", "memory", "freezer"] + (HostCgroups.hostIsHybrid ? ["systemd", "unified"] : []))
                        .map { "/sys/fs/cgroup/\($0)/berth-test/\(id)" }
                for cgroup in cgroups { try? FileManager.default.createDirectory(atPath: cgroup, withIntermediateDirectories: true) }
                return [directory + "/exec/runtime/" + id] + cgroups
            }
            func gone(_ paths: [String]) -> Bool { paths.allSatisfy { !FileManager.default.fileExists(atPath: $0) } }

            #expect(daemon.docker(["create", "--name", "cut", "busybox", "sleep", "1000"]).status == 0)
            let cut = leave(id("cut"), in: daemon.directory)
            let start = daemon.docker(["start", "cut"])
            #expect(start.status == 0, "\(start.stderr)")
            #expect(daemon.docker(["exec", "cut", "true"]).status == 0)
            #expect(daemon.docker(["rm", "-f", "cut"]).status == 0)
            #expect(ContainerBehaviourTests.eventually(5) { gone(cut) }, "left: \(cut.filter { FileManager.default.fileExists(atPath: $0) })")

            // Removed while leftovers were there: they go with it.
            #expect(daemon.docker(["create", "--name", "cut2", "busybox", "sleep", "1000"]).status == 0)
            let cut2 = leave(id("cut2"), in: daemon.directory)
            #expect(daemon.docker(["rm", "cut2"]).status == 0)
            #expect(ContainerBehaviourTests.eventually(5) { gone(cut2) }, "left: \(cut2.filter { FileManager.default.fileExists(atPath: $0) })")

            // Found at a restart: of a created container, and of one berthd does not know.
            #expect(daemon.docker(["create", "--name", "cut3", "busybox", "sleep", "1000"]).status == 0)
            let cut3ID = id("cut3")
            daemon.crash()
            let left = leave(cut3ID, in: daemon.directory) + leave(String(repeating: "ab", count: 32), in: daemon.directory)
            let restarted = try TestDaemon(directory: daemon.directory)
            #expect(gone(left), "left after the restart: \(left.filter { FileManager.default.fileExists(atPath: $0) })")
            #expect(restarted.docker(["start", "cut3"]).status == 0)
            #expect(restarted.docker(["rm", "-f", "cut3"]).status == 0)
        }
    }

    /// Anonymous volumes a create made, or a removal (`rm -v`) was taking along, when a crash
    /// cut it short are removed at the next start; those a container uses stay.
    @Test func anonymousVolumesOfACreateCutShortAreRemoved() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["create", "-v", "/data", "--name", "anon", "busybox", "true"]).status == 0)
            let used = ContainerBehaviourTests.inspect(daemon, "{{(index .Mounts 0).Name}}", "anon").trimmingCharacters(in: .whitespacesAndNewlines)
            let orphan = String(repeating: "cd", count: 32)
            #expect(daemon.docker(["volume", "create", "--label", "com.docker.volume.anonymous=", orphan]).status == 0)
            daemon.crash()
            // A create cut short between its volumes and its config: a directory with the note only.
            let cutShort = daemon.directory + "/data/containers/" + String(repeating: "ef", count: 32)
            try FileManager.default.createDirectory(atPath: cutShort, withIntermediateDirectories: true)
            try "\(orphan)\n\(used)\n".write(toFile: cutShort + "/anonymous-volumes", atomically: true, encoding: .utf8)
            let restarted = try TestDaemon(directory: daemon.directory)
            let volumes = restarted.docker(["volume", "ls", "-q"]).stdout.split(separator: "\n").map(String.init)
            #expect(!volumes.contains(orphan), "\(volumes)")
            #expect(volumes.contains(used), "the volume of a container that exists went: \(volumes)")
            #expect(!FileManager.default.fileExists(atPath: cutShort))
            #expect(restarted.docker(["start", "-a", "anon"]).status == 0)
            #expect(restarted.docker(["rm", "-v", "anon"]).status == 0)
            #expect(restarted.docker(["volume", "ls", "-q"]).stdout.isEmpty)
        }
    }

    /// A container whose create a crash cut short after it was put on a user network: the
    /// network forgets it at the next start, so the network can be removed.
    @Test func aUserNetworkForgetsAContainerWhoseCreateWasCutShort() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let network = daemon.docker(["network", "create", "--subnet", "10.254.\(10 + Int(getpid()) % 200).0/24", "cutnet"])
            try #require(network.status == 0, "\(network.stderr)")
            let device = "br-" + network.stdout.prefix(12)
            defer { Harness.run("/usr/sbin/ip", ["link", "del", device]) }
            #expect(daemon.docker(["create", "--network", "cutnet", "--network-alias", "half", "--name", "half", "busybox", "true"]).status == 0)
            let id = ContainerBehaviourTests.inspect(daemon, "{{.Id}}", "half").trimmingCharacters(in: .whitespacesAndNewlines)
            let attachments = daemon.directory + "/data/network/attachments/\(id).json"
            #expect(FileManager.default.fileExists(atPath: attachments))
            daemon.crash()
            // As a create cut short before its config was written leaves it, and a write of
            // the network's records cut short.
            unlink(daemon.directory + "/data/containers/\(id)/config.v2.json")
            let halfWritten = daemon.directory + "/data/network/attachments/\(String(repeating: "12", count: 32)).json.tmp"
            #expect(FileManager.default.createFile(atPath: halfWritten, contents: Data("[{\"Netw".utf8)))
            let restarted = try TestDaemon(directory: daemon.directory)
            #expect(restarted.docker(["ps", "-aq"]).stdout.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: attachments), "the network still holds the container")
            #expect(!FileManager.default.fileExists(atPath: halfWritten))
            let removal = restarted.docker(["network", "rm", "cutnet"])
            #expect(removal.status == 0, "\(removal.stderr)")
        }
    }

    /// A crash between a freeze (or a thaw) and its record: after the restart the container's
    /// state is what its cgroup says, and `stop` ends it at once instead of signalling a
    /// frozen process in vain.
    @Test func pausedIsWhatTheCgroupSaysAfterACrash() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["run", "-d", "--name", "frozen", "busybox", "sleep", "1000"]).status == 0)
            #expect(daemon.docker(["run", "-d", "--name", "thawed", "busybox", "sleep", "1000"]).status == 0)
            #expect(daemon.docker(["pause", "thawed"]).status == 0)
            let ids = ["frozen", "thawed"].map { ContainerBehaviourTests.inspect(daemon, "{{.Id}}", $0).trimmingCharacters(in: .whitespacesAndNewlines) }
            func freeze(_ id: String, _ on: Bool) {
                let v2 = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")
                let (file, value) = v2 ? ("/sys/fs/cgroup/berth-test/\(id)/cgroup.freeze", on ? "1" : "0")
                    : ("/sys/fs/cgroup/freezer/berth-test/\(id)/freezer.state", on ? "FROZEN" : "THAWED")
                try? value.write(toFile: file, atomically: false, encoding: .utf8)
            }
            daemon.crash()
            freeze(ids[0], true)
            freeze(ids[1], false)
            let restarted = try TestDaemon(directory: daemon.directory)
            #expect(ContainerBehaviourTests.inspect(restarted, "{{.State.Status}} {{.State.Paused}}", "frozen") == "paused true\n")
            #expect(ContainerBehaviourTests.inspect(restarted, "{{.State.Status}} {{.State.Paused}}", "thawed") == "running false\n")
            let began = Date()
            #expect(restarted.docker(["stop", "-t", "1", "frozen"]).status == 0)
            #expect(Date().timeIntervalSince(began) < 10, "stop waited on a frozen process")
            #expect(ContainerBehaviourTests.inspect(restarted, "{{.State.Status}}", "frozen") == "exited\n")
            #expect(restarted.docker(["unpause", "thawed"]).stderr.contains("is not paused"))
            #expect(restarted.docker(["pause", "thawed"]).status == 0)
            #expect(restarted.docker(["rm", "-f", "frozen", "thawed"]).status == 0)
        }
    }

    /// As dockerd at its start: an --rm container that is not running is removed, with its
    /// anonymous volumes (a `run --rm` cut short between create and start); a running one stays.
    @Test func autoRemoveContainersThatAreNotRunningGoAtTheRestart() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["create", "--rm", "-v", "/scratch", "--name", "never", "busybox", "true"]).status == 0)
            #expect(daemon.docker(["run", "-d", "--rm", "--name", "still", "busybox", "sleep", "1000"]).status == 0)
            #expect(daemon.docker(["volume", "ls", "-q"]).stdout.split(separator: "\n").count == 1)
            daemon.crash()
            let restarted = try TestDaemon(directory: daemon.directory)
            #expect(restarted.docker(["ps", "-a", "--format", "{{.Names}} {{.State}}"]).stdout == "still running\n")
            #expect(restarted.docker(["volume", "ls", "-q"]).stdout.isEmpty)
            #expect(restarted.docker(["rm", "-f", "still"]).status == 0)
        }
    }

    /// The writable root of a container whose removal a crash cut short goes at the next
    /// start, whether its directory is still there (without its config) or already gone.
    @Test func rootsOfContainersThatDoNotExistAreRemoved() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["create", "--name", "kept", "busybox", "true"]).status == 0)
            let kept = ContainerBehaviourTests.inspect(daemon, "{{.Id}}", "kept").trimmingCharacters(in: .whitespacesAndNewlines)
            daemon.crash()
            let overlay = daemon.directory + "/data/overlay/"
            let withDirectory = String(repeating: "4a", count: 32), withoutDirectory = String(repeating: "5b", count: 32)
            for key in [withDirectory, withoutDirectory] {
                for sub in ["diff/etc", "work", "merged"] {
                    try FileManager.default.createDirectory(atPath: overlay + key + "/" + sub, withIntermediateDirectories: true)
                }
            }
            try FileManager.default.createDirectory(atPath: daemon.directory + "/data/containers/" + withDirectory,
                                                    withIntermediateDirectories: true)
            let restarted = try TestDaemon(directory: daemon.directory)
            #expect(!FileManager.default.fileExists(atPath: overlay + withDirectory))
            #expect(!FileManager.default.fileExists(atPath: overlay + withoutDirectory))
            #expect(!FileManager.default.fileExists(atPath: daemon.directory + "/data/containers/" + withDirectory))
            // A container that exists keeps its root, and the image its layers.
            #expect(FileManager.default.fileExists(atPath: overlay + kept))
            #expect(restarted.docker(["start", "-a", "kept"]).status == 0)
            #expect(restarted.docker(["run", "--rm", "busybox", "true"]).status == 0)
            #expect(restarted.docker(["rm", "kept"]).status == 0)
        }
    }

    /// A user's stop of an unless-stopped container that a crash cuts short (the signal sent,
    /// the exit not recorded yet) is still a user's stop after the restart: it stays stopped.
    @Test func aStopCutShortStillCountsAsTheUsers() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["run", "-d", "--restart", "unless-stopped", "--name", "slow", "busybox", "sh", "-c",
                                   "trap 'sleep 1; exit 3' TERM; while true; do sleep 0.1; done"]).status == 0)
            usleep(300_000)
            let stop = Process()
            stop.executableURL = URL(fileURLWithPath: Harness.dockerCLI)
            stop.arguments = ["-H", daemon.host, "stop", "slow"]
            stop.standardOutput = FileHandle.nullDevice
            stop.standardError = FileHandle.nullDevice
            try stop.run()
            // The container takes a second over its TERM: berthd dies meanwhile.
            usleep(500_000)
            daemon.crash()
            stop.waitUntilExit()
            usleep(1_000_000)
            let restarted = try TestDaemon(directory: daemon.directory)
            usleep(500_000)
            let state = ContainerBehaviourTests.inspect(restarted, "{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}", "slow")
            #expect(state == "exited 3 0\n", "\(state)")
            #expect(restarted.docker(["rm", "-f", "slow"]).status == 0)
        }
    }

    /// As dockerd at its start: a stopped `always` container runs again even when the user
    /// stopped it (Docker's documented exception), an `unless-stopped` one does not.
    @Test func restartPoliciesDecideAtTheDaemonsStartAsDockerds() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["run", "-d", "--restart", "always", "--name", "alw", "busybox", "sleep", "1000"]).status == 0)
            #expect(daemon.docker(["run", "-d", "--restart", "unless-stopped", "--name", "uls", "busybox", "sleep", "1000"]).status == 0)
            // on-failure: a stop's 137 counts as a failure at the daemon's start (as in dockerd's
            // restart manager); an exit 0, or no retry left, does not.
            #expect(daemon.docker(["run", "-d", "--restart", "on-failure", "--name", "onf", "busybox", "sleep", "1000"]).status == 0)
            #expect(daemon.docker(["run", "-d", "--restart", "on-failure", "--name", "onz", "busybox", "true"]).status == 0)
            #expect(daemon.docker(["run", "-d", "--restart", "on-failure:1", "--name", "spent", "busybox", "false"]).status == 0)
            #expect(daemon.docker(["stop", "-t", "0", "alw", "uls", "onf"]).status == 0)
            #expect(ContainerBehaviourTests.eventually {
                ContainerBehaviourTests.inspect(daemon, "{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}", "spent") == "exited 1 1\n"
                    && ContainerBehaviourTests.inspect(daemon, "{{.State.Status}}", "onz") == "exited\n"
            })
            daemon.crash()
            let restarted = try TestDaemon(directory: daemon.directory)
            #expect(ContainerBehaviourTests.eventually { ContainerBehaviourTests.inspect(restarted, "{{.State.Status}}", "alw") == "running\n" })
            #expect(ContainerBehaviourTests.eventually { ContainerBehaviourTests.inspect(restarted, "{{.State.Status}}", "onf") == "running\n" })
            #expect(ContainerBehaviourTests.inspect(restarted, "{{.State.Status}}", "uls") == "exited\n")
            #expect(ContainerBehaviourTests.inspect(restarted, "{{.State.Status}} {{.State.ExitCode}}", "onz") == "exited 0\n")
            #expect(ContainerBehaviourTests.inspect(restarted, "{{.State.Status}} {{.RestartCount}}", "spent") == "exited 1\n")
            // Running again as if started: its next exit is restarted.
            let pid = ContainerBehaviourTests.inspect(restarted, "{{.State.Pid}}", "alw").trimmingCharacters(in: .whitespacesAndNewlines)
            kill(Int32(pid) ?? 0, SIGKILL)
            #expect(ContainerBehaviourTests.eventually {
                ContainerBehaviourTests.inspect(restarted, "{{.State.Status}} {{.RestartCount}}", "alw") == "running 1\n"
            })
            #expect(restarted.docker(["rm", "-f", "alw", "uls", "onf", "onz", "spent"]).status == 0)
        }
    }

    /// Clients attached to a container or following its log end, with an error as the CLI
    /// gives for dockerd, when berthd is killed; after the restart both work again.
    @Test func attachedClientsEndWhenBerthdIsKilled() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["run", "-d", "--name", "talk", "busybox", "sh", "-c", "while true; do echo tick; sleep 0.1; done"]).status == 0)
            let clients = [try daemon.dockerInBackground(["attach", "--sig-proxy=false", "talk"]),
                           try daemon.dockerInBackground(["logs", "-f", "talk"])]
            usleep(700_000)
            let running = clients.allSatisfy { $0.isRunning }
            #expect(running)
            daemon.crash()
            let ended = ContainerBehaviourTests.eventually(5) { clients.allSatisfy { !$0.isRunning } }
            #expect(ended, "a client still waits on the killed daemon")
            for process in clients where process.isRunning { kill(process.processIdentifier, SIGKILL) }
            for process in clients {
                process.waitUntilExit()
                #expect(process.terminationStatus == 1, "\(process.arguments ?? []) ended with \(process.terminationStatus)")
            }
            let restarted = try TestDaemon(directory: daemon.directory)
            let follow = Harness.run("/usr/bin/timeout", ["1", Harness.dockerCLI, "-H", restarted.host, "logs", "-f", "--tail", "1", "talk"])
            #expect(follow.status == 124 && follow.stdout.split(separator: "\n").count >= 3, "logs -f after the restart: \(follow)")
            let attach = Harness.run("/usr/bin/timeout", ["-s", "KILL", "1", Harness.dockerCLI, "-H", restarted.host, "attach", "--sig-proxy=false", "talk"])
            #expect(attach.stdout.hasPrefix("tick\n"), "attach after the restart: \(attach)")
            #expect(restarted.docker(["rm", "-f", "talk"]).status == 0)
        }
    }
}

/// One berthd, killed and restarted on the same directory, with its own default bridge,
/// subnet and cgroup parent; cleans everything it made whatever happens.
final class CrashRig {
    /// Its own per test process: a rig's clean-up kills what it finds below its parent, which
    /// must not be another run's containers on a shared machine.
    static let cgroupParent = "berth-crash-test-\(getpid())"
    let directory: String
    let bridge: String
    /// The user network's bridge (crashnet).
    private(set) var userBridge = ""
    private(set) var daemon: TestDaemon
    /// The bridge's firewall table with no container: what every rule check compares with.
    private(set) var idleFirewall = ""
    /// The overlay directory with the image's layers only.
    private(set) var idleOverlay: Set<String> = []

    var dataRoot: String { directory + "/data" }
    var execRoot: String { directory + "/exec" }

    init() throws {
        let octet = 10 + Int(getpid()) % 200
        let configuration = #"{"cgroup-parent": "/\#(Self.cgroupParent)", "bip": "10.251.\#(octet).1/24"}"#
        daemon = try TestDaemon(configuration: configuration)
        directory = daemon.directory
        bridge = NetworkDaemon.defaultBridge(dataRoot: directory + "/data")
        let load = daemon.docker(["load", "-q", "-i", Harness.imageDir + "/busybox.tar"])
        guard load.status == 0 else { throw TestFailure("load failed: \(load.stderr)") }
        let network = daemon.docker(["network", "create", "--subnet", "10.253.\(octet).0/24", "crashnet"])
        guard network.status == 0 else { throw TestFailure("network create failed: \(network.stderr)") }
        userBridge = "br-" + network.stdout.prefix(12)
        idleFirewall = firewall()
        idleOverlay = Set((try? FileManager.default.contentsOfDirectory(atPath: dataRoot + "/overlay")) ?? [])
    }

    @discardableResult
    func docker(_ args: [String]) -> Harness.Result { daemon.docker(args) }

    func firewall() -> String {
        Harness.run("/usr/sbin/nft", ["list", "table", "ip", "berth-" + bridge]).stdout
    }

    // MARK: - bursts

    struct Command {
        var name: String
        var steps: [[String]]
        /// An acknowledged success must still show after the crash (true) or be gone (false).
        var durable: Bool?
    }

    struct Outcome {
        var command: Command
        var statuses: [Int32]
        var stderr: String
        var succeeded: Bool { !statuses.isEmpty && statuses.count == command.steps.count && statuses.allSatisfy { $0 == 0 } }
    }

    static func port(_ round: Int) -> Int { 30000 + (Int(getpid()) * 13 + round * 7) % 9000 }

    /// Long-lived containers of round `round`, which the next round stops, restarts, execs
    /// into and removes.
    func seed(round: Int) throws {
        for command in burst(round: round) where command.durable == true {
            for step in command.steps {
                let result = docker(step)
                guard result.status == 0 else { throw TestFailure("seed \(step): \(result.stderr)") }
            }
        }
    }

    func burst(round r: Int) -> [Command] {
        let p = r - 1
        return [
            Command(name: "d\(r)", steps: [["run", "-d", "--name", "d\(r)", "busybox", "sleep", "1000"]], durable: true),
            Command(name: "rmfg\(r)", steps: [["run", "--rm", "--name", "rmfg\(r)", "busybox", "sh", "-c", "echo hi; sleep 0.1"]]),
            Command(name: "rmd\(r)", steps: [["run", "-d", "--rm", "--name", "rmd\(r)", "busybox", "sleep", "0.2"]]),
            Command(name: "rmv\(r)", steps: [["run", "-d", "--rm", "-v", "/scratch", "--name", "rmv\(r)", "busybox", "sleep", "0.1"]]),
            Command(name: "c\(r)", steps: [["create", "--name", "c\(r)", "busybox", "sleep", "1000"], ["start", "c\(r)"]], durable: true),
            Command(name: "p\(r)", steps: [["run", "-d", "-p", "127.0.0.1:\(Self.port(r)):80", "--name", "p\(r)", "busybox",
                                            "httpd", "-f", "-p", "80"]], durable: true),
            Command(name: "v\(r)", steps: [["run", "-d", "-v", "crashvol\(r % 3):/data", "--name", "v\(r)", "busybox", "sleep", "1000"]],
                    durable: true),
            Command(name: "z\(r)", steps: [["run", "-d", "--name", "z\(r)", "busybox", "sleep", "1000"]], durable: true),
            Command(name: "k\(r)", steps: [["run", "-d", "--name", "k\(r)", "busybox", "sleep", "1000"]], durable: true),
            Command(name: "al\(r)", steps: [["run", "-d", "--restart", "always", "--name", "al\(r)", "busybox", "sleep", "0.3"]]),
            Command(name: "x\(r)", steps: [["create", "--rm", "--name", "x\(r)", "busybox", "true"]]),
            Command(name: "n\(r)", steps: [["run", "-d", "--network", "crashnet", "--network-alias", "web\(r)", "--name", "n\(r)",
                                            "busybox", "sleep", "1000"]], durable: true),
            // On the previous round's containers.
            Command(name: "d\(p)", steps: [["rm", "-f", "d\(p)"]], durable: false),
            Command(name: "c\(p)", steps: [["stop", "-t", "0", "c\(p)"]]),
            Command(name: "v\(p)", steps: [["restart", "-t", "0", "v\(p)"]]),
            Command(name: "p\(p)", steps: [["exec", "p\(p)", "true"]]),
            Command(name: "al\(p)", steps: [["rm", "-f", "al\(p)"]], durable: false),
            Command(name: "n\(p)", steps: [["rm", "-f", "n\(p)"]], durable: false),
            Command(name: "z\(p)", steps: [["pause", "z\(p)"]]),
            Command(name: "kk\(p)", steps: [["rename", "k\(p)", "kk\(p)"]], durable: true),
            Command(name: "k\(p)", steps: [["kill", "k\(p)"]]),
        ].filter { r > 0 || !$0.name.hasSuffix("-1") }
    }

    /// Starts every command at once, kills the shim and runtimes (when asked) and then berthd
    /// `delay` ms in, and waits for every CLI to end.
    func runBurst(_ commands: [Command], crashAfter delay: Int, killHelpers: Bool) -> [Outcome] {
        let outcomes = Mutex<[Outcome]>([])
        let group = DispatchGroup()
        let host = daemon.host
        let containers = dataRoot + "/containers"
        let before = Set((try? FileManager.default.contentsOfDirectory(atPath: containers)) ?? [])
        for command in commands {
            group.enter()
            Thread.detachNewThread {
                var statuses: [Int32] = []
                var stderr = ""
                for step in command.steps {
                    let result = Harness.run(Harness.dockerCLI, ["-H", host] + step, timeout: 30)
                    statuses.append(result.status)
                    stderr += result.stderr
                    if result.status != 0 { break }
                }
                let outcome = Outcome(command: command, statuses: statuses, stderr: stderr)
                outcomes.withLock { $0.append(outcome) }
                group.leave()
            }
        }
        // The CLIs take a while to start: the clock starts at the first container made.
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline && Set((try? FileManager.default.contentsOfDirectory(atPath: containers)) ?? []).subtracting(before).isEmpty {
            usleep(1000)
        }
        if killHelpers {
            usleep(UInt32(delay * 1000 / 2))
            let helpers = helperProcesses()
            // The newest shim (a start in progress, most likely) and every runtime at work.
            if let shim = helpers.filter({ $0.kind == "berth-shim" }).map(\.pid).max() { kill(shim, SIGKILL) }
            for runtime in helpers where runtime.kind == "berth-runtime" { kill(runtime.pid, SIGKILL) }
            usleep(UInt32(delay * 1000 / 2))
        } else {
            usleep(UInt32(delay * 1000))
        }
        daemon.crash()
        // A CLI whose daemon died must end, not hang.
        if group.wait(timeout: .now() + 20) == .timedOut {
            Issue.record("a docker command hung after berthd was killed")
            group.wait()
        }
        return outcomes.withLock { $0 }
    }

    /// The shims and runtimes of this daemon (their arguments name its directory).
    func helperProcesses() -> [(pid: Int32, kind: String, id: String)] {
        var found: [(pid: Int32, kind: String, id: String)] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { continue }
            let argv = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard let program = argv.first, argv.contains(where: { $0.hasPrefix(directory + "/") }) else { continue }
            let kind = String(program.split(separator: "/").last ?? "")
            guard kind == "berth-shim" || kind == "berth-runtime" else { continue }
            let id = argv.firstIndex(of: "--id").flatMap { $0 + 1 < argv.count ? argv[$0 + 1] : nil } ?? argv.last ?? ""
            found.append((pid, kind, id))
        }
        return found
    }

    func restart() throws {
        daemon = try TestDaemon(directory: directory)
    }

    /// Starts berthd on the directory and kills it `milliseconds` later, in the middle of its
    /// recovery (it answers no request before that is done).
    func crashDuringRecovery(after milliseconds: Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Harness.binary("berthd"))
        process.arguments = daemon.arguments
        process.environment = Harness.loopbackOnlyEnvironment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: directory + "/berthd.log")
        guard (try? process.run()) != nil else {
            Issue.record("cannot start berthd")
            return
        }
        usleep(UInt32(milliseconds * 1000))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    // MARK: - checks

    struct Listed {
        var id: String
        var name: String
        var status: String
        var running: Bool
        var pid: Int32
        var autoRemove: Bool
    }

    func allIDs() -> [String] {
        docker(["ps", "-aq", "--no-trunc"]).stdout.split(separator: "\n").map(String.init)
    }

    func inspectAll() -> [Listed] {
        let ids = allIDs()
        guard !ids.isEmpty else { return [] }
        let result = docker(["inspect", "--format", "{{.Id}} {{.Name}} {{.State.Status}} {{.State.Running}} {{.State.Pid}} {{.HostConfig.AutoRemove}}"] + ids)
        if result.status != 0 {
            // One of them may have gone meanwhile (an --rm exit): inspect each.
            return ids.compactMap { id in
                let one = docker(["inspect", "--format", "{{.Id}} {{.Name}} {{.State.Status}} {{.State.Running}} {{.State.Pid}} {{.HostConfig.AutoRemove}}", id])
                if one.status != 0 && !one.stderr.contains("No such object") && !one.stderr.contains("No such container") {
                    Issue.record("inspect of listed container \(id) fails: \(one.stderr)")
                }
                return one.status == 0 ? Self.parse(one.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) : nil
            }
        }
        return result.stdout.split(separator: "\n").compactMap { Self.parse(String($0)) }
    }

    static func parse(_ line: String) -> Listed? {
        let fields = line.split(separator: " ").map(String.init)
        guard fields.count == 6 else { return nil }
        // A restarting container counts as Running, as in dockerd, but has no process until
        // its next start: here "running" means one holding a process.
        return Listed(id: fields[0], name: String(fields[1].dropFirst()), status: fields[2],
                      running: fields[3] == "true" && fields[2] != "restarting",
                      pid: Int32(fields[4]) ?? 0, autoRemove: fields[5] == "true")
    }

    static func isContainerID(_ name: String) -> Bool {
        name.utf8.count == 64 && name.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// Whether `pid` lives in the container's cgroup.
    static func inContainerCgroup(_ pid: Int32, id: String) -> Bool {
        let cgroups = readProcFile("/proc/\(pid)/cgroup") ?? ""
        return cgroups.split(separator: "\n").contains { $0.hasSuffix("/\(cgroupParent)/\(id)") }
    }

    /// The processes in the container's cgroup (any controller).
    static func cgroupProcesses(_ id: String) -> [Int32] {
        var pids: Set<Int32> = []
        for controller in (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [] {
            let procs = "/sys/fs/cgroup/\(controller)/\(cgroupParent)/\(id)/cgroup.procs"
            for line in (readProcFile(procs) ?? "").split(separator: "\n") { if let pid = Int32(line) { pids.insert(pid) } }
        }
        for line in (readProcFile("/sys/fs/cgroup/\(cgroupParent)/\(id)/cgroup.procs") ?? "").split(separator: "\n") {
            if let pid = Int32(line) { pids.insert(pid) }
        }
        return pids.sorted()
    }

    func checkTrueStates(round: Int, outcomes: [Outcome]) {
        let listed = inspectAll()
        let names = Set(listed.map(\.name))
        for outcome in outcomes where outcome.succeeded {
            if outcome.command.durable == true {
                #expect(names.contains(outcome.command.name), "round \(round): \(outcome.command.steps) succeeded before the crash, and \(outcome.command.name) is gone")
            } else if outcome.command.durable == false {
                #expect(!names.contains(outcome.command.name), "round \(round): \(outcome.command.steps) succeeded before the crash, and \(outcome.command.name) is back")
            }
        }
        for container in listed {
            let label = "round \(round): \(container.name) \(container.status)"
            if container.running {
                // Running: its process is alive, in its cgroup (or it has just exited, and says so).
                let holds = ContainerBehaviourTests.eventually(3) {
                    (ContainerBehaviourTests.alive(container.pid) && Self.inContainerCgroup(container.pid, id: container.id))
                        || inspect(container.id).map { !$0.running } ?? true
                }
                #expect(holds, "\(label): pid \(container.pid) is not a live process of its cgroup")
            } else {
                // Not running: no process and no shim of it remain.
                let settled = ContainerBehaviourTests.eventually(3) {
                    Self.cgroupProcesses(container.id).isEmpty && !helperProcesses().contains { $0.id == container.id && $0.kind == "berth-shim" }
                        || inspect(container.id).map(\.running) ?? false
                }
                #expect(settled, "\(label): processes \(Self.cgroupProcesses(container.id)) or a shim remain")
            }
            // An --rm container that is not running is removed (as dockerd removes them at its
            // start, also those created and never started).
            if container.autoRemove && ["exited", "created"].contains(container.status) {
                let gone = ContainerBehaviourTests.eventually(3) { inspect(container.id).map { !["exited", "created"].contains($0.status) } ?? true }
                #expect(gone, "\(label): an --rm container that is not running stays")
            }
            // A published port of a running container answers again.
            if container.running && container.name.hasPrefix("p"), let round = Int(container.name.dropFirst()) {
                let url = "http://127.0.0.1:\(Self.port(round))/"
                let answers = ContainerBehaviourTests.eventually(3) {
                    Harness.run("/usr/bin/curl", ["-s", "-m", "1", "-o", "/dev/null", "-w", "%{http_code}", url]).stdout != "000"
                        || inspect(container.id).map { !$0.running } ?? true
                }
                #expect(answers, "\(label): nothing answers on its published port \(url)")
            }
            // Its log reads back, whatever a killed shim was writing.
            let logs = docker(["logs", container.id])
            #expect(logs.status == 0 || logs.stderr.contains("No such container"), "\(label): docker logs fails: \(logs.stderr)")
            #expect(["created", "running", "paused", "exited", "restarting"].contains(container.status), "\(label): not a state a container should be left in")
        }
    }

    func inspect(_ id: String) -> Listed? {
        let one = docker(["inspect", "--format", "{{.Id}} {{.Name}} {{.State.Status}} {{.State.Running}} {{.State.Pid}} {{.HostConfig.AutoRemove}}", id])
        return one.status == 0 ? Self.parse(one.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) : nil
    }

    /// With every container removed: no mount, cgroup, directory, shim, namespace, veth or
    /// firewall rule of any of `ids` is left.
    func checkNoLeftovers() {
        func mountsUnderDirectory() -> [String] {
            (readProcFile("/proc/self/mountinfo") ?? "").split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ")
                return fields.count > 4 && fields[4].hasPrefix(directory + "/") ? String(fields[4]) : nil
            }
        }
        #expect(ContainerBehaviourTests.eventually(5) { mountsUnderDirectory().isEmpty }, "mounts left: \(mountsUnderDirectory())")
        // Not only of the containers listed: a create cut short never was.
        func cgroupsLeft() -> [String] {
            let fm = FileManager.default
            let parents = ((try? fm.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []).map { "/sys/fs/cgroup/\($0)/\(Self.cgroupParent)" }
                + ["/sys/fs/cgroup/\(Self.cgroupParent)"]
            return parents.flatMap { parent in
                ((try? fm.contentsOfDirectory(atPath: parent)) ?? []).filter(Self.isContainerID).map { parent + "/" + $0 }
            }
        }
        #expect(ContainerBehaviourTests.eventually(5) { cgroupsLeft().isEmpty }, "cgroups left: \(cgroupsLeft())")
        func directoriesLeft() -> [String] {
            let fm = FileManager.default
            var left: [String] = []
            for home in [dataRoot + "/containers", execRoot + "/containers", execRoot + "/runtime",
                         dataRoot + "/network/attachments", dataRoot + "/network/sandboxes"] {
                left += ((try? fm.contentsOfDirectory(atPath: home)) ?? []).filter { Self.isContainerID(String($0.prefix(64))) }
                    .map { home + "/" + $0 }
            }
            // The image's layers stay; every container's own layer goes.
            let overlay = Set((try? fm.contentsOfDirectory(atPath: dataRoot + "/overlay")) ?? [])
            left += overlay.subtracting(idleOverlay).sorted().map { dataRoot + "/overlay/" + $0 }
            return left
        }
        // Writes a crash cut short (temporary files) are swept, except in the image's layers.
        func temporariesLeft() -> [String] {
            let walker = FileManager.default.enumerator(atPath: dataRoot)
            var found: [String] = []
            while let path = walker?.nextObject() as? String {
                if path.hasPrefix("overlay/") { walker?.skipDescendants(); continue }
                if path.hasSuffix(".tmp") || path.hasSuffix(".saving") { found.append(path) }
            }
            return found
        }
        #expect(temporariesLeft().isEmpty, "half-written files left: \(temporariesLeft())")
        #expect(ContainerBehaviourTests.eventually(5) { directoriesLeft().isEmpty }, "container directories left: \(directoriesLeft())")
        #expect(ContainerBehaviourTests.eventually(5) { helperProcesses().isEmpty }, "shims or runtimes left: \(helperProcesses())")
        func vethsLeft() -> String {
            Harness.run("/usr/sbin/ip", ["-o", "link", "show", "master", bridge]).stdout
                + Harness.run("/usr/sbin/ip", ["-o", "link", "show", "master", userBridge]).stdout
        }
        #expect(ContainerBehaviourTests.eventually(5) { vethsLeft().isEmpty }, "interfaces left on the bridge: \(vethsLeft())")
        // The namespace kept ready for the next start is held by an fd, never bound to a file.
        func namespacesLeft() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: execRoot + "/netns")) ?? [] }
        #expect(ContainerBehaviourTests.eventually(5) { namespacesLeft().isEmpty }, "network namespaces left: \(namespacesLeft())")
        #expect(ContainerBehaviourTests.eventually(5) { firewall() == idleFirewall }, "firewall rules left:\n\(firewall())\nidle:\n\(idleFirewall)")
    }

    /// The rig's own cleanup, whatever the test found: the daemon's containers, then anything
    /// it left (shims by pid, mounts, cgroups), the bridge, the firewall table and the directory.
    func cleanUp() {
        // The last berthd is killed on purpose only when a round failed before its restart;
        // otherwise, if it is gone, its log (removed below with the directory) says why.
        if !daemon.process.isRunning {
            Issue.record("berthd is not running at clean-up (status \(daemon.process.terminationStatus)); its log ends: \(daemon.log.suffix(4000))")
        }
        let ids = allIDs()
        if !ids.isEmpty { docker(["rm", "-f", "-v"] + ids) }
        docker(["network", "rm", "crashnet"])
        _ = daemon.stop()
        let leftovers = ContainerBehaviourTests.scrub(directory)
        if !leftovers.isEmpty { Issue.record("berthd left behind: \(leftovers)") }
        Harness.run("/usr/sbin/ip", ["link", "del", bridge])
        if !userBridge.isEmpty { Harness.run("/usr/sbin/ip", ["link", "del", userBridge]) }
        Harness.run("/usr/sbin/nft", ["delete", "table", "ip", "berth-" + bridge])
        let fm = FileManager.default
        for controller in (try? fm.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [] {
            let parent = "/sys/fs/cgroup/\(controller)/\(Self.cgroupParent)"
            for child in (try? fm.contentsOfDirectory(atPath: parent)) ?? [] {
                ContainerBehaviourTests.thawAndKill(id: child, parent: Self.cgroupParent)
                rmdir(parent + "/" + child)
            }
            rmdir(parent)
        }
        rmdir("/sys/fs/cgroup/\(Self.cgroupParent)")
        try? fm.removeItem(atPath: directory)
    }
}
