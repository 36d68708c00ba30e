import BerthOCI
import Foundation
import Glibc
import Testing
import Synchronization

/// Differences `scripts/compare-cases-with-dockerd` (scripts/parity-cases/run-lifecycle.txt)
/// found between berthd and dockerd in run, exec and the lifecycle commands, each pinned
/// through the stock CLI: exit code, stdout and stderr.
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct RunParityTests {
    static func succeeds(_ daemon: TestDaemon, _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        DockerParityTests.succeeds(daemon, arguments, sourceLocation: sourceLocation)
    }

    static func inspect(_ daemon: TestDaemon, _ format: String, _ name: String) -> String {
        DockerParityTests.inspect(daemon, format, name)
    }

    /// An exec made through the API with this body; its ID.
    static func createExec(_ daemon: TestDaemon, _ container: String, _ body: String) throws -> String {
        let created = daemon.curl(["-X", "POST", "-H", "Content-Type: application/json", "-d", body,
                                   "http://berth/v1.50/containers/\(container)/exec"])
        return try #require((try? JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any])?["Id"] as? String,
                            "\(created)")
    }

    /// Starts the exec attached, without a terminal for the stream: the stream's bytes.
    static func startExec(_ daemon: TestDaemon, _ id: String) -> [UInt8] {
        Array(daemon.curl(["-X", "POST", "-H", "Content-Type: application/json", "-d", #"{"Detach":false,"Tty":false}"#,
                           "http://berth/v1.50/exec/\(id)/start"]).stdout.utf8)
    }

    static func fails(_ daemon: TestDaemon, _ arguments: [String], stderr: String, status: Int32 = 125,
                      sourceLocation: SourceLocation = #_sourceLocation) {
        let result = daemon.docker(arguments)
        #expect(result.status == status, "docker \(arguments.joined(separator: " ")): \(result)", sourceLocation: sourceLocation)
        #expect(result.stderr == stderr, "docker \(arguments.joined(separator: " "))", sourceLocation: sourceLocation)
    }

    /// dockerd checks `mode` and `max-buffer-size` for every driver, and reads max-size with
    /// go-units (a positive size, k = 1000).
    @Test func logOptionsAreCheckedAsDockerdChecksThem() throws {
        try DockerParityTests.withDaemon { daemon in
            let cases: [([String], String)] = [
                (["--log-opt", "mode=bad"], "logger: logging mode not supported: bad"),
                (["--log-opt", "max-buffer-size=1m"], "logger: max-buffer-size option is only supported with 'mode=non-blocking'"),
                (["--log-opt", "mode=non-blocking", "--log-opt", "max-buffer-size=-1"], "error parsing option max-buffer-size: invalid size: '-1'"),
                (["--log-opt", "max-size=-1"], "failed to initialize logging driver: invalid size: '-1'"),
                (["--log-opt", "max-size=0"], "failed to initialize logging driver: max-size must be a positive number"),
                (["--log-opt", "max-size=1.2.3"], "failed to initialize logging driver: strconv.ParseFloat: parsing \"1.2.3\": invalid syntax"),
                // Windows's own driver is no plugin a Linux dockerd knows.
                (["--log-driver", "etwlogs"], "error looking up logging plugin etwlogs: plugin \"etwlogs\" not found"),
            ]
            for (options, message) in cases {
                Self.fails(daemon, ["run", "--rm"] + options + ["busybox", "true"], stderr: DockerParityTests.runError(message))
            }
            // The common non-blocking setting runs, and is kept as given.
            let run = daemon.docker(["run", "--name", "nb", "--log-opt", "mode=non-blocking", "--log-opt", "max-buffer-size=4m",
                                     "--log-opt", "max-size=10k", "busybox", "echo", "hello"])
            #expect(run.status == 0 && run.stdout == "hello\n", "\(run)")
            #expect(daemon.docker(["logs", "nb"]).stdout == "hello\n")
            #expect(Self.inspect(daemon, "{{json .HostConfig.LogConfig.Config}}", "nb")
                    == #"{"max-buffer-size":"4m","max-size":"10k","mode":"non-blocking"}"#)
            Self.succeeds(daemon, ["rm", "nb"])
            // max-size=1k is 1000 bytes, not 1024: a record of 1001 to 1011 bytes (940 characters
            // with its JSON and time) fills the file, so the next one starts another.
            let line = String(repeating: "x", count: 940)
            Self.succeeds(daemon, ["run", "--name", "rot", "--log-opt", "max-size=1k", "--log-opt", "max-file=2", "busybox",
                                   "sh", "-c", "echo \(line); sleep 0.2; echo y"])
            let path = Self.inspect(daemon, "{{.LogPath}}", "rot")
            #expect(FileManager.default.fileExists(atPath: path + ".1"), "no rotation at 1000 bytes")
            Self.succeeds(daemon, ["rm", "rot"])
        }
    }

    /// A container in its restart back-off counts as running for dockerd: exec and pause say
    /// to wait, rm names the state, start leaves the loop alone, and kill ends the loop.
    @Test func aContainerInItsRestartBackOff() throws {
        try DockerParityTests.withDaemon { daemon in
            Self.succeeds(daemon, ["run", "-d", "--name", "flap", "--restart", "always", "busybox", "sh", "-c", "exit 1"])
            let id = Self.inspect(daemon, "{{.Id}}", "flap")
            // From the fifth restart on, the back-off (3.2 s and more) leaves time for the checks.
            // Settled in a back-off: the same count, restarting, a moment apart (not the start of a restart).
            #expect(ContainerBehaviourTests.eventually(30) {
                let before = Self.inspect(daemon, "{{.State.Status}} {{.RestartCount}} {{ge .RestartCount 5}}", "flap")
                guard before.hasPrefix("restarting ") && before.hasSuffix(" true") else { return false }
                usleep(300_000)
                return Self.inspect(daemon, "{{.State.Status}} {{.RestartCount}} {{ge .RestartCount 5}}", "flap") == before
            })
            let waitMessage = "Error response from daemon: Container \(id) is restarting, wait until the container is running\n"
            Self.fails(daemon, ["exec", "flap", "true"], stderr: waitMessage, status: 1)
            Self.fails(daemon, ["exec", "-d", "flap", "true"], stderr: waitMessage, status: 1)
            Self.fails(daemon, ["pause", "flap"], stderr: waitMessage, status: 1)
            Self.fails(daemon, ["rm", "flap"], stderr:
                "Error response from daemon: You cannot remove a restarting container \(id). Stop the container before attempting removal or force remove\n",
                status: 1)
            let start = daemon.docker(["start", "flap"])
            #expect(start.status == 0 && start.stdout == "flap\n" && start.stderr.isEmpty, "\(start)")
            #expect(Self.inspect(daemon, "{{.State.Restarting}}", "flap") == "true")
            let kill = daemon.docker(["kill", "flap"])
            #expect(kill.status == 0 && kill.stdout == "flap\n" && kill.stderr.isEmpty, "\(kill)")
            let after = Self.inspect(daemon, "{{.State.Status}} {{.RestartCount}}", "flap")
            #expect(after.hasPrefix("exited "), "\(after)")
            usleep(4_000_000)
            #expect(Self.inspect(daemon, "{{.State.Status}} {{.RestartCount}}", "flap") == after, "the restart loop went on")
            Self.succeeds(daemon, ["rm", "flap"])
        }
    }

    /// The restart loop's decision at an exit and its own starts are part of the loop: a
    /// `docker start` at any moment of it is answered as during the back-off (dockerd holds the
    /// container's lock through them), never "busy", nor a second start.
    @Test func startsDuringTheRestartLoopLeaveItAlone() throws {
        try DockerParityTests.withDaemon { daemon in
            Self.succeeds(daemon, ["run", "-d", "--name", "loop", "--restart", "always", "busybox", "true"])
            // The first restarts come 0.1, 0.2, 0.4, 0.8 and 1.6 s apart, each with its start.
            let deadline = Date().addingTimeInterval(4)
            var refused: [String] = []
            var starts = 0
            while Date() < deadline {
                let start = daemon.docker(["start", "loop"])
                starts += 1
                if start.status != 0 || start.stdout != "loop\n" { refused.append(start.stderr) }
            }
            #expect(refused.isEmpty, "\(refused.count) of \(starts) starts refused: \(refused.prefix(3))")
            Self.succeeds(daemon, ["rm", "-f", "loop"])
        }
    }

    /// A stop that comes while the restart loop starts the container waits for that start and
    /// then stops what runs, as dockerd's waits behind the container's lock: it is never
    /// answered while the container goes on running. Stops come at spread moments around the
    /// first restart, some of them while its start is at work.
    @Test func aStopDuringARestartsStartStopsTheContainer() throws {
        try DockerParityTests.withDaemon { daemon in
            let names = (0..<12).map { "flap\($0)" }
            // Each fails once (its first run), then runs: its restart comes 100 ms after that
            // exit. Its stop comes 60 to 335 ms after its run, in the background.
            var script = ""
            for (index, name) in names.enumerated() {
                script += "DOCKER run -d --name \(name) --restart always busybox sh -c 'test -f /ran || { touch /ran; exit 1; }; sleep 100' >/dev/null\n"
                script += "( sleep 0.\(String(format: "%03d", 60 + index * 25)); DOCKER stop -t 1 \(name) ) &\n"
            }
            script += "wait\n"
            let stops = CopyExportDiffTests.shell(daemon, script)
            #expect(stops.status == 0 && stops.stdout.split(separator: "\n").sorted() == names.map { Substring($0) }.sorted(), "\(stops)")
            usleep(500_000)
            let running = daemon.docker(["ps", "--filter", "name=flap", "--format", "{{.Names}} {{.Status}}"]).stdout
            #expect(running.isEmpty, "still running after their stops: \(running)")
            Self.succeeds(daemon, ["rm", "-f"] + names)
        }
    }

    @Test func removingAPausedContainerSaysToUnpauseFirst() throws {
        try DockerParityTests.withDaemon { daemon in
            Self.succeeds(daemon, ["run", "-d", "--name", "pz", "busybox", "sleep", "100"])
            Self.succeeds(daemon, ["pause", "pz"])
            let id = Self.inspect(daemon, "{{.Id}}", "pz")
            Self.fails(daemon, ["rm", "pz"], stderr:
                "Error response from daemon: You cannot remove a paused container \(id). Unpause and then stop the container before attempting removal or force remove\n",
                status: 1)
            Self.succeeds(daemon, ["rm", "-f", "pz"])
        }
    }

    /// The CLI sends the pauses (and unpauses) of several names at once: a second one of the
    /// same container, while the first is under way, is answered with dockerd's words.
    @Test func pauseAndUnpauseTheSameContainerTwice() throws {
        try DockerParityTests.withDaemon { daemon in
            Self.succeeds(daemon, ["run", "-d", "--name", "pp2", "busybox", "sleep", "100"])
            let id = Self.inspect(daemon, "{{.Id}}", "pp2")
            let paused = daemon.docker(["pause", "pp2", "pp2"])
            #expect(paused.status == 1 && paused.stdout == "pp2\n", "\(paused)")
            #expect(paused.stderr.hasPrefix("Error response from daemon: Container \(id) is already paused\n"), "\(paused.stderr)")
            let unpaused = daemon.docker(["unpause", "pp2", "pp2"])
            #expect(unpaused.status == 1 && unpaused.stdout == "pp2\n", "\(unpaused)")
            #expect(unpaused.stderr.hasPrefix("Error response from daemon: Container \(id) is not paused\n"), "\(unpaused.stderr)")
            #expect(Self.inspect(daemon, "{{.State.Status}}", "pp2") == "running")
            Self.succeeds(daemon, ["rm", "-f", "pp2"])
        }
    }

    /// A restart whose start fails says so as dockerd does, around the runtime's reason.
    @Test func aFailedRestartNamesTheContainer() throws {
        try DockerParityTests.withDaemon { daemon in
            Self.succeeds(daemon, ["create", "--name", "rsbad", "busybox", "nosuchcmd"])
            Self.fails(daemon, ["restart", "rsbad"], stderr: "Error response from daemon: Cannot restart container rsbad: failed to create task for container: OCI runtime create failed: unable to start container process: exec: \"nosuchcmd\": executable file not found in $PATH: unknown\n", status: 1)
            Self.fails(daemon, ["restart", "nosuch"], stderr: "Error response from daemon: No such container: nosuch\n", status: 1)
            Self.succeeds(daemon, ["rm", "rsbad"])
        }
    }

    @Test func createTimeWordings() throws {
        try DockerParityTests.withDaemon { daemon in
            // Current dockerd's request check (20.10 said "Invalid isolation: \"bad\" - ...").
            Self.fails(daemon, ["run", "--rm", "--isolation", "hyperv", "busybox", "true"],
                       stderr: DockerParityTests.runError("invalid isolation (hyperv): linux only supports 'default'"))
            Self.fails(daemon, ["run", "--rm", "--tmpfs", "/t:bad", "busybox", "true"],
                       stderr: DockerParityTests.runError("invalid tmpfs option [\"bad\"]"))
            // The host's domainname is not the container's: the start fails (Berth set nothing
            // and ran it), and the container stays created with exit code 128, as with dockerd.
            Self.fails(daemon, ["run", "--name", "dn", "--uts", "host", "--domainname", "example.com", "busybox", "true"],
                       stderr: DockerParityTests.runError("unable to set domainname without a private UTS namespace"))
            #expect(Self.inspect(daemon, "{{.State.Status}} {{.State.ExitCode}}", "dn") == "created 128")
            Self.succeeds(daemon, ["rm", "dn"])
        }
    }

    /// dockerd adds its hint about mounts to a "not a directory" failure of an exec.
    @Test func execInAFileAsWorkingDirectory() throws {
        try DockerParityTests.withDaemon { daemon in
            Self.succeeds(daemon, ["run", "-d", "--name", "ew", "busybox", "sleep", "100"])
            let result = daemon.docker(["exec", "-w", "/etc/passwd", "ew", "pwd"])
            #expect(result.status == 126, "\(result)")
            #expect(result.stdout == "OCI runtime exec failed: exec failed: unable to start container process: chdir to cwd (\"/etc/passwd\") set in config.json failed: not a directory: unknown: Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type\r\n", "\(result.stdout)")
            Self.succeeds(daemon, ["rm", "-f", "ew"])
        }
    }

    /// `docker rm --link parent/alias` drops the legacy link from the parent: its
    /// HostConfig.Links and the alias's line in its /etc/hosts; dockerd's errors otherwise.
    @Test func removingALegacyLink() throws {
        try DockerParityTests.withDaemon { daemon in
            Self.succeeds(daemon, ["run", "-d", "--name", "db", "busybox", "sleep", "100"])
            Self.succeeds(daemon, ["run", "-d", "--name", "web", "--link", "db:dbalias", "busybox", "sleep", "100"])
            #expect(daemon.docker(["exec", "web", "grep", "-c", "dbalias", "/etc/hosts"]).stdout == "1\n")
            Self.fails(daemon, ["rm", "-l", "web/nosuch"], stderr: "Error response from daemon: No such container: web/nosuch\n", status: 1)
            Self.fails(daemon, ["rm", "-l", "nosuch/x"], stderr: "Error response from daemon: No such container: nosuch/x\n", status: 1)
            Self.fails(daemon, ["rm", "-l", "db"],
                       stderr: "Error response from daemon: Conflict, cannot remove the default link name of the container\n", status: 1)
            Self.fails(daemon, ["rm", "-l", "nosuch"], stderr: "Error response from daemon: No such container: nosuch\n", status: 1)
            let removed = daemon.docker(["rm", "-l", "/web/dbalias"])
            #expect(removed.status == 0 && removed.stdout == "/web/dbalias\n" && removed.stderr.isEmpty, "\(removed)")
            #expect(Self.inspect(daemon, "{{.HostConfig.Links}}", "web") == "[]")
            #expect(daemon.docker(["exec", "web", "grep", "-c", "dbalias", "/etc/hosts"]).stdout == "0\n")
            Self.fails(daemon, ["rm", "-l", "web/dbalias"], stderr: "Error response from daemon: No such container: web/dbalias\n", status: 1)
            // Both containers are still there, and a restart brings no link back.
            Self.succeeds(daemon, ["restart", "-t", "0", "web"])
            #expect(daemon.docker(["exec", "web", "grep", "-c", "dbalias", "/etc/hosts"]).stdout == "0\n")
            Self.fails(daemon, ["rm", "a/b"], stderr: "Error response from daemon: No such container: a/b\n", status: 1)
            Self.succeeds(daemon, ["rm", "-f", "web", "db"])
        }
    }

    /// `--volume-driver` applies to the -v volumes: Berth has only the local driver, and
    /// answers 404 for another as dockerd does for a missing plugin (the CLI then tries a pull).
    @Test func anUnknownVolumeDriverIsRefused() throws {
        try DockerParityTests.withDaemon { daemon in
            let result = daemon.docker(["create", "--volume-driver", "bad", "-v", "vd:/v", "busybox", "true"])
            #expect(result.status == 1 && result.stderr.hasPrefix("Unable to find image 'busybox:latest' locally\n"), "\(result)")
            #expect(daemon.docker(["volume", "ls", "-q"]).stdout.isEmpty)
            #expect(daemon.docker(["ps", "-aq"]).stdout.isEmpty)
            // Binds are no volumes: the driver does not matter to them.
            Self.succeeds(daemon, ["run", "--rm", "--volume-driver", "bad", "-v", "/tmp:/x", "busybox", "true"])
        }
    }

    /// The runtime's failures in runc's words: errno in lower case (the CLI reads
    /// "no such file or directory" as exit 127), mounts into /proc refused, every host device
    /// with `--device /dev`, and a working directory entered before the user switch.
    @Test func runtimeFailuresAndCornersAsWithRunc() throws {
        try DockerParityTests.withDaemon { daemon in
            let missing = daemon.docker(["run", "--rm", "-w", "/proc/nosuch", "busybox", "true"])
            #expect(missing.status == 127 && missing.stderr.contains(#"chdir to cwd ("/proc/nosuch") set in config.json failed: no such file or directory"#), "\(missing)")
            let inside = daemon.docker(["run", "--rm", "-v", "/tmp:/proc/y", "busybox", "true"])
            #expect(inside.status == 125 && inside.stderr.contains(#"error mounting "/tmp" to rootfs at "/proc/y": "#)
                    && inside.stderr.contains(#"/proc/y" cannot be mounted because it is inside /proc: unknown"#), "\(inside)")
            let over = daemon.docker(["run", "--rm", "-v", "/tmp:/proc", "busybox", "true"])
            #expect(over.status == 125 && over.stderr.contains(#"/proc" cannot be mounted because it is not of type proc: unknown"#), "\(over)")
            Self.succeeds(daemon, ["run", "--rm", "-v", "/proc:/proc", "busybox", "true"])
            // A file over a directory: runc's words around the mount's failure, and dockerd's hint.
            let fileOnDirectory = daemon.docker(["run", "--rm", "-v", "/etc/hostname:/etc", "busybox", "true"])
            #expect(fileOnDirectory.status == 125 && fileOnDirectory.stderr.contains(#"error mounting "/etc/hostname" to rootfs at "/etc": "#)
                    && fileOnDirectory.stderr.contains(": not a directory: unknown: Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type\n"),
                    "\(fileOnDirectory)")
            // --device /dev names the host's /dev/pts entries too. ptmx is there already; a
            // terminal's node cannot be made in the container's devpts, with runc either.
            let terminals = ((try? FileManager.default.contentsOfDirectory(atPath: "/dev/pts")) ?? []).filter { $0 != "ptmx" }
            let wholeDev = daemon.docker(["run", "--rm", "--device", "/dev", "busybox", "test", "-c", "/dev/null"])
            if terminals.isEmpty {
                #expect(wholeDev.status == 0, "\(wholeDev)")
            } else {
                #expect(wholeDev.status == 126 && wholeDev.stderr.contains("error creating device nodes: open ")
                        && wholeDev.stderr.contains("/dev/pts/") && wholeDev.stderr.contains(": permission denied: unknown"), "\(wholeDev)")
            }
            // --device's permissions are all the cgroup grants, as with runc: `:r` cannot be
            // opened for writing (the node is made whatever the permissions say).
            let readOnly = daemon.docker(["run", "--rm", "--device", "/dev/loop-control:/dev/lc:r", "busybox", "sh", "-c", "echo x > /dev/lc"])
            #expect(readOnly.status != 0 && readOnly.stderr == "sh: can't create /dev/lc: Operation not permitted\n", "\(readOnly)")
            let writable = daemon.docker(["run", "--rm", "--device", "/dev/loop-control:/dev/lc", "busybox", "sh", "-c", "echo x > /dev/lc"])
            #expect(writable.stderr == "sh: write error: Invalid argument\n", "\(writable)")
            Self.succeeds(daemon, ["run", "-d", "--name", "cwd", "busybox", "sleep", "100"])
            let unreadable = daemon.docker(["exec", "-u", "1:1", "-w", "/root", "cwd", "ls"])
            #expect(unreadable.status == 1 && unreadable.stderr == "ls: .: Permission denied\n", "\(unreadable)")
            #expect(daemon.docker(["exec", "-u", "1:1", "-w", "/root", "cwd", "pwd"]).stdout == "/root\n")
            #expect(daemon.docker(["run", "--rm", "-u", "1:1", "-w", "/root", "busybox", "pwd"]).stdout == "/root\n")
        }
    }

    /// `container:<name>` modes are kept by the other container's full ID, so that renaming it
    /// breaks nothing; for IPC and PID it must exist at create, for the network at start.
    @Test func containerModesNameTheOtherByItsID() throws {
        try DockerParityTests.withDaemon { daemon in
            for flag in ["--ipc", "--pid"] {
                Self.fails(daemon, ["create", flag, "container:nosuch", "busybox", "true"],
                           stderr: "Error response from daemon: No such container: nosuch\n", status: 1)
            }
            #expect(daemon.docker(["ps", "-aq"]).stdout.isEmpty)
            Self.succeeds(daemon, ["create", "--name", "later", "--network", "container:nosuch", "busybox", "true"])
            Self.succeeds(daemon, ["run", "-d", "--name", "donor", "--ipc", "shareable", "busybox", "sleep", "100"])
            let id = Self.inspect(daemon, "{{.Id}}", "donor")
            Self.succeeds(daemon, ["create", "--name", "guest", "--ipc", "container:donor", "--pid", "container:donor",
                                   "--network", "container:donor", "busybox", "sleep", "100"])
            #expect(Self.inspect(daemon, "{{.HostConfig.IpcMode}} {{.HostConfig.PidMode}} {{.HostConfig.NetworkMode}}", "guest")
                    == "container:\(id) container:\(id) container:\(id)")
            Self.succeeds(daemon, ["rename", "donor", "renamed"])
            Self.succeeds(daemon, ["start", "guest"])
            // One PID namespace: the guest sees the donor's process as its first.
            #expect(daemon.docker(["exec", "guest", "cat", "/proc/1/cmdline"]).stdout == "sleep\u{0}100\u{0}")
            Self.succeeds(daemon, ["rm", "-f", "guest", "renamed", "later"])
        }
    }

    /// daemon.json's container defaults: /dev/shm's size, the IPC mode, `--init` and ulimits
    /// for every container that does not ask otherwise.
    @Test func daemonWideContainerDefaults() throws {
        let configuration = #"{"cgroup-parent": "/berth-test", "default-shm-size": "128M", "default-ipc-mode": "shareable", "init": true, "#
            + #""default-ulimits": {"nofile": {"Name": "nofile", "Soft": 4096, "Hard": 8192}}}"#
        try ContainerBehaviourTests.withDaemon(configuration) { daemon in
            let run = daemon.docker(["run", "--rm", "busybox", "sh", "-c", "grep ' /dev/shm ' /proc/mounts; ulimit -n; ulimit -Hn; cat /proc/1/cmdline"])
            #expect(run.stdout == "shm /dev/shm tmpfs rw,nosuid,nodev,noexec,relatime,size=131072k 0 0\n4096\n8192\n/sbin/docker-init\u{0}--\u{0}sh\u{0}-c\u{0}"
                    + "grep ' /dev/shm ' /proc/mounts; ulimit -n; ulimit -Hn; cat /proc/1/cmdline\u{0}", "\(run)")
            Self.succeeds(daemon, ["create", "--name", "own", "--shm-size", "1m", "--ipc", "private", "--init=false", "busybox", "true"])
            #expect(Self.inspect(daemon, "{{.HostConfig.ShmSize}} {{.HostConfig.IpcMode}} {{.HostConfig.Init}}", "own") == "1048576 private false")
            Self.succeeds(daemon, ["create", "--name", "plain", "busybox", "true"])
            #expect(Self.inspect(daemon, "{{.HostConfig.ShmSize}} {{.HostConfig.IpcMode}}", "plain") == "134217728 shareable")
            Self.succeeds(daemon, ["rm", "own", "plain"])
        }
    }

    /// berthd raises its own soft limit of open files to the hard one (hundreds of containers
    /// need more than a shell's 1024), while its containers keep the limits it was started with.
    @Test func theDaemonRaisesItsOpenFileLimitAndContainersKeepTheirs() throws {
        let daemon = try TestDaemon(configuration: #"{"cgroup-parent": "/berth-test"}"#,
                                    launcher: ["/usr/bin/prlimit", "--nofile=512:8192", "--"])
        defer {
            _ = daemon.stop()
            ContainerBehaviourTests.scrub(daemon.directory)
        }
        let limits = readProcFile("/proc/\(daemon.process.processIdentifier)/limits") ?? ""
        let openFiles = limits.split(separator: "\n").first { $0.hasPrefix("Max open files") }?
            .split(separator: " ", omittingEmptySubsequences: true)
        #expect(openFiles?.dropFirst(3).prefix(2).map(String.init) == ["8192", "8192"], "\(limits)")
        #expect(daemon.docker(["load", "-q", "-i", Harness.imageDir + "/busybox.tar"]).status == 0)
        let run = daemon.docker(["run", "--rm", "busybox", "sh", "-c", "ulimit -n; ulimit -Hn"])
        #expect(run.stdout == "512\n8192\n", "\(run)")
    }

    /// An AutoRemove container stays a moment after it exits by itself (docker-py reads its
    /// logs then), but one that the user stops or kills is gone when the command answers, and
    /// one that waits out that moment gives its name up to a new one: the script's next `run`
    /// under the same name works, as with dockerd. A restart keeps it.
    @Test func autoRemoveContainersLeaveTheirNameFreeForTheNextCommand() throws {
        try DockerParityTests.withDaemon { daemon in
            Self.succeeds(daemon, ["run", "-d", "--rm", "--name", "reuse", "busybox", "sleep", "100"])
            Self.succeeds(daemon, ["stop", "-t", "1", "reuse"])
            Self.succeeds(daemon, ["run", "-d", "--rm", "--name", "reuse", "busybox", "sleep", "100"])
            Self.succeeds(daemon, ["kill", "reuse"])
            let start = daemon.docker(["start", "reuse"])
            #expect(start.status == 1 && start.stderr.contains("No such container: reuse"), "\(start)")

            // Exited by itself (after `run -d` has hung up its wait for the removal): `docker
            // wait` sees it, and the next run takes the name at once.
            Self.succeeds(daemon, ["run", "-d", "--rm", "--name", "job", "busybox", "sleep", "0.5"])
            #expect(daemon.docker(["wait", "job"]).stdout == "0\n")
            Self.succeeds(daemon, ["run", "-d", "--rm", "--name", "job", "busybox", "sleep", "100"])
            Self.succeeds(daemon, ["run", "-d", "--rm", "--name", "done", "busybox", "sleep", "0.5"])
            #expect(daemon.docker(["wait", "done"]).stdout == "0\n")
            Self.succeeds(daemon, ["rename", "job", "done"])

            Self.succeeds(daemon, ["restart", "-t", "1", "done"])
            #expect(Self.inspect(daemon, "{{.State.Running}} {{.RestartCount}}", "done") == "true 0")
            Self.succeeds(daemon, ["rm", "-f", "done"])
            #expect(daemon.docker(["ps", "-aq"]).stdout.isEmpty)
        }
    }

    /// A client that reads slowly gets every byte of `exec` and `run` output: the stream's end
    /// waits for the writes still queued for it. (The connection was closed as the output
    /// ended, and NIO dropped what was still queued: 3.3 of 4 MB came, and the CLI said 0.)
    @Test func aSlowReaderGetsTheWholeOutput() throws {
        try DockerParityTests.withDaemon { daemon in
            let reader = "python3 -c 'import sys, time\nn = 0\nwhile True:\n    b = sys.stdin.buffer.read1(65536)\n" +
                "    if not b: break\n    n += len(b); time.sleep(0.005)\nprint(n)'"
            let output = "sh -c 'head -c 4000000 /dev/zero; echo END'"
            let counts = CopyExportDiffTests.shell(daemon, """
                DOCKER run -d --name slow busybox sleep 1000 >/dev/null
                for i in 1 2 3; do DOCKER exec slow \(output) | \(reader); done
                DOCKER run --rm busybox \(output) | \(reader)
                DOCKER rm -f slow >/dev/null
                """)
            #expect(counts.stdout == String(repeating: "4000004\n", count: 4), "\(counts)")
        }
    }

    /// An exec gives the client only the streams it attached (docker-py's `exec_run(stdout=False)`).
    @Test func anExecSendsOnlyTheStreamsItAttached() throws {
        try DockerParityTests.withDaemon { daemon in
            Self.succeeds(daemon, ["run", "-d", "--name", "streams", "busybox", "sleep", "100"])
            let id = try Self.createExec(daemon, "streams",
                                         #"{"AttachStdout": false, "AttachStderr": true, "Cmd": ["sh", "-c", "echo out; echo err >&2"]}"#)
            // One stderr frame (stream 2, length 4), and nothing of stdout.
            let stream = Self.startExec(daemon, id)
            #expect(stream == [2, 0, 0, 0, 0, 0, 0, 4] + Array("err\n".utf8), "\(stream)")
            Self.succeeds(daemon, ["rm", "-f", "streams"])
        }
    }

    /// Commands on one container at the same moment wait for each other, as dockerd's wait
    /// behind the container's lock: two restarts both restart it, two starts both answer with
    /// its name, and an exec or a top during a start finds it running.
    @Test func concurrentCommandsOnOneContainerWaitForEachOther() throws {
        try DockerParityTests.withDaemon { daemon in
            /// The commands at once, each after its delay in ms; their results in order.
            let host = daemon.host
            func atOnce(_ commands: [(delay: UInt32, arguments: [String])]) -> [Harness.Result] {
                let results = Mutex<[Int: Harness.Result]>([:])
                DispatchQueue.concurrentPerform(iterations: commands.count) { index in
                    usleep(commands[index].delay * 1000)
                    let result = Harness.run(Harness.dockerCLI, ["-H", host] + commands[index].arguments)
                    results.withLock { $0[index] = result }
                }
                return results.withLock { all in commands.indices.map { all[$0]! } }
            }
            Self.succeeds(daemon, ["run", "-d", "--name", "twice", "busybox", "sleep", "100"])
            for _ in 0..<3 {
                let restarts = atOnce([(0, ["restart", "-t", "1", "twice"]), (0, ["restart", "-t", "1", "twice"])])
                #expect(restarts.allSatisfy { $0.status == 0 && $0.stdout == "twice\n" }, "\(restarts)")
                #expect(Self.inspect(daemon, "{{.State.Running}}", "twice") == "true")
            }
            for _ in 0..<3 {
                Self.succeeds(daemon, ["stop", "-t", "0", "twice"])
                let starts = atOnce([(0, ["start", "twice"]), (0, ["start", "twice"]),
                                     (10, ["exec", "twice", "true"]), (10, ["top", "twice"])])
                #expect(starts.allSatisfy { $0.status == 0 } && starts[0].stdout == "twice\n" && starts[1].stdout == "twice\n",
                        "\(starts)")
            }
            Self.succeeds(daemon, ["rm", "-f", "twice"])
        }
    }

    // dockerd's kill with SIGKILL (the default) returns once the container has exited: what
    // the client does next sees it stopped. Before, it returned as the signal went.
    @Test func killReturnsOnceTheContainerHasExited() throws {
        try DockerParityTests.withDaemon { daemon in
            for round in 1 ... 10 {
                Self.succeeds(daemon, ["run", "-d", "--name", "k\(round)", "busybox", "sleep", "100"])
                // The kill (no signal: SIGKILL, as docker-py sends it) and an inspect at once after, on one connection.
                let both = daemon.curl(["-X", "POST", "http://berth/v1.50/containers/k\(round)/kill",
                                        "--next", "-s", "--unix-socket", daemon.socket, "http://berth/v1.50/containers/k\(round)/json"])
                let state = (try? JSONSerialization.jsonObject(with: Data(both.stdout.utf8)) as? [String: Any])?["State"] as? [String: Any]
                #expect(state?["Status"] as? String == "exited" && state?["ExitCode"] as? Int == 137, "round \(round): \(both.stdout.prefix(300))")
                Self.succeeds(daemon, ["rm", "k\(round)"])
            }
        }
    }

    // As dockerd: the exec's process has a terminal if the exec was made with one, and the
    // start's Tty says only how the stream is framed (docker-py starts with Tty false); exec
    // create reads member names in any case (docker-py sends `detachKeys`).
    @Test func execTerminalComesFromTheExecAndFramingFromTheStart() throws {
        try DockerParityTests.withDaemon { daemon in
            Self.succeeds(daemon, ["run", "-d", "--name", "ex", "busybox", "sleep", "100"])
            let id = try Self.createExec(daemon, "ex",
                                         #"{"AttachStdout":true,"AttachStderr":true,"Tty":true,"detachKeys":"ctrl-x","Cmd":["echo","hi"]}"#)
            #expect(daemon.curl(["http://berth/v1.50/exec/\(id)/json"]).stdout.contains(#""DetachKeys":"ctrl-x""#))
            // One stdout frame, with the terminal's line ending.
            let stream = Self.startExec(daemon, id)
            #expect(stream == [1, 0, 0, 0, 0, 0, 0, 4] + Array("hi\r\n".utf8), "\(stream)")
            Self.succeeds(daemon, ["rm", "-f", "ex"])
        }
    }

    // dockerd's rule for binds of its root (or of what holds it): they follow the host
    // (rslave) unless they ask for rshared; a private mode is refused at create.
    @Test func bindsOfTheDaemonRootFollowTheHost() throws {
        try DockerParityTests.withDaemon { daemon in
            let root = daemon.directory + "/data"
            Self.fails(daemon, ["create", "-v", "/:/host:rprivate", "busybox"], stderr: "Error response from daemon: invalid mount config: "
                       + "must use either propagation mode \"rslave\" or \"rshared\" when mount source is within the daemon root, "
                       + "daemon root: \"\(root)\", bind mount source: \"/\", propagation: \"rprivate\"\n", status: 1)
            Self.fails(daemon, ["create", "--mount", "type=bind,src=\(root),dst=/x,bind-propagation=slave", "busybox"],
                       stderr: "Error response from daemon: invalid mount config: must use either propagation mode \"rslave\" or "
                       + "\"rshared\" when mount source is within the daemon root, daemon root: \"\(root)\", bind mount source: "
                       + "\"\(root)\", propagation: \"slave\"\n", status: 1)
            #expect(daemon.docker(["ps", "-aq"]).stdout.isEmpty)
            // Shown as rslave; made private when the host's mount cannot be followed, as dockerd falls back.
            Self.succeeds(daemon, ["create", "--name", "whole", "-v", "/:/host", "-v", "/etc:/etc2", "busybox", "true"])
            let shown = Self.inspect(daemon, "{{range .Mounts}}{{.Destination}}={{.Propagation}} {{end}}", "whole")
            #expect(shown.split(separator: " ").sorted() == ["/etc2=rprivate", "/host=rslave"], "\(shown)")
            #expect(daemon.docker(["start", "-a", "whole"]).status == 0)
            Self.succeeds(daemon, ["rm", "whole"])
        }
    }

    // dockerd's `seccomp-profile: unconfined`: no filter unless the container names a profile;
    // `seccomp=builtin` is the built-in one whatever the daemon's.
    @Test func aDaemonRunningContainersUnconfined() throws {
        try ContainerBehaviourTests.withDaemon(#"{"cgroup-parent": "/berth-test", "seccomp-profile": "unconfined"}"#) { daemon in
            let mode = ["busybox", "grep", "^Seccomp:", "/proc/self/status"]
            #expect(daemon.docker(["run", "--rm"] + mode).stdout == "Seccomp:\t0\n")
            #expect(daemon.docker(["run", "--rm", "--security-opt", "seccomp=builtin"] + mode).stdout == "Seccomp:\t2\n")
            #expect(daemon.docker(["info", "--format", "{{json .SecurityOptions}}"]).stdout.contains("name=seccomp,profile=unconfined"))
        }
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["run", "--rm", "busybox", "grep", "^Seccomp:", "/proc/self/status"]).stdout == "Seccomp:\t2\n")
            #expect(daemon.docker(["info", "--format", "{{json .SecurityOptions}}"]).stdout.contains("name=seccomp,profile=builtin"))
        }
    }
}
