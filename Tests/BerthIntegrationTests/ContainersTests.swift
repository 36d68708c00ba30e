import Foundation
import Testing

/// The container commands a Docker user types every day, against berthd, through the stock CLI.
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct ContainersTests {
    /// A daemon with the busybox test image loaded.
    static func daemonWithImage(configuration: String = #"{"cgroup-parent": "/berth-test"}"#) throws -> TestDaemon {
        let daemon = try TestDaemon(configuration: configuration)
        let load = daemon.docker(["load", "-q", "-i", Harness.imageDir + "/busybox.tar"])
        guard load.status == 0 else { throw TestFailure("load failed: \(load.stderr)") }
        return daemon
    }

    @Test func runInTheForegroundPassesOutputAndExitCode() throws {
        let daemon = try Self.daemonWithImage()
        let hello = daemon.docker(["run", "--rm", "busybox", "echo", "hello"])
        #expect(hello.status == 0, "\(hello.stderr) \(daemon.log)")
        #expect(hello.stdout == "hello\n")
        let streams = daemon.docker(["run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"])
        #expect(streams.status == 3)
        #expect(streams.stdout == "out\n")
        #expect(streams.stderr == "err\n")
        #expect(daemon.docker(["run", "--rm", "busybox", "false"]).status == 1)
        let piped = daemon.docker(["run", "--rm", "-i", "busybox", "cat"], stdin: "hi\nthere\n")
        #expect(piped.stdout == "hi\nthere\n", "\(piped.stderr)")
        let tty = daemon.docker(["run", "--rm", "-t", "busybox", "echo", "tty"])
        #expect(tty.stdout == "tty\r\n", "\(tty.stderr)")
        // A short-lived container's output is never lost.
        for _ in 0..<3 {
            #expect(daemon.docker(["run", "--rm", "busybox", "seq", "1", "500"]).stdout.split(separator: "\n").count == 500)
        }
        // --rm removed every one of them.
        #expect(daemon.docker(["ps", "-aq"]).stdout.isEmpty)
    }

    @Test func dockersErrorCasesGiveItsExitCodes() throws {
        let daemon = try Self.daemonWithImage()
        let missing = daemon.docker(["run", "--rm", "busybox", "nosuchcommand"])
        #expect(missing.status == 127, "\(missing.stderr)")
        #expect(missing.stderr.contains("exec: \"nosuchcommand\": executable file not found in $PATH"))
        let notExecutable = daemon.docker(["run", "--rm", "busybox", "/etc/passwd"])
        #expect(notExecutable.status == 126, "\(notExecutable.stderr)")
        let badFlag = daemon.docker(["run", "--rm", "--cpus", "99", "busybox", "true"])
        #expect(badFlag.status == 125)
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        #expect(badFlag.stderr.contains("Range of CPUs is from 0.01 to \(cpus).00, as there are only \(cpus) CPUs available"), "\(badFlag.stderr)")
        let memory = daemon.docker(["run", "--rm", "-m", "1m", "busybox", "true"])
        #expect(memory.status == 125)
        #expect(memory.stderr.contains("Minimum memory limit allowed is 6MB"), "\(memory.stderr)")
        #expect(daemon.docker(["create", "--name", "taken", "busybox", "true"]).status == 0)
        let duplicate = daemon.docker(["create", "--name", "taken", "busybox", "true"])
        #expect(duplicate.status == 1)
        #expect(duplicate.stderr.contains("Conflict. The container name \"/taken\" is already in use by container"), "\(duplicate.stderr)")
        let none = daemon.docker(["rm", "nosuchcontainer"])
        #expect(none.status == 1)
        #expect(none.stderr == "Error response from daemon: No such container: nosuchcontainer\n", "\(none.stderr)")
        let stopped = daemon.docker(["kill", "taken"])
        #expect(stopped.status == 1)
        #expect(stopped.stderr.contains("is not running"), "\(stopped.stderr)")
        let signal = daemon.docker(["run", "-d", "--name", "sig", "busybox", "sleep", "100"])
        #expect(signal.status == 0)
        #expect(daemon.docker(["kill", "-s", "NOSUCH", "sig"]).stderr == "Error response from daemon: cannot kill container: sig: invalid signal: NOSUCH\n")
        let running = daemon.docker(["rm", "sig"])
        #expect(running.status == 1)
        #expect(running.stderr.contains("You cannot remove a running container "), "\(running.stderr)")
        #expect(running.stderr.contains(". Stop the container before attempting removal or force remove"))
        #expect(daemon.docker(["rm", "-f", "sig", "taken"]).status == 0)
    }

    @Test func detachedLifecycleExecLogsAndInspect() throws {
        let daemon = try Self.daemonWithImage()
        let run = daemon.docker(["run", "-d", "--name", "web", "busybox", "sh", "-c", "echo started; exec sleep 1000"])
        #expect(run.status == 0, "\(run.stderr) \(daemon.log)")
        let id = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.count == 64)
        let ps = daemon.docker(["ps", "--format", "{{.Names}} {{.Image}} {{.Status}}"])
        #expect(ps.stdout.hasPrefix("web busybox Up "), "\(ps.stdout)")
        let inspect = daemon.docker(["inspect", "--format", "{{.State.Status}} {{.State.Running}} {{.Name}} {{.Config.Hostname}} {{.State.Pid}}", "web"])
        let fields = inspect.stdout.split(separator: " ")
        #expect(fields.prefix(4).joined(separator: " ") == "running true /web \(id.prefix(12))", "\(inspect.stdout) \(inspect.stderr)")
        #expect(Int(fields.last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0 > 0)
        let exec = daemon.docker(["exec", "web", "sh", "-c", "echo from exec; hostname"])
        #expect(exec.stdout == "from exec\n\(id.prefix(12))\n", "\(exec.stderr)")
        #expect(daemon.docker(["exec", "web", "sh", "-c", "exit 7"]).status == 7)
        // dockerd 20.10 answers a command it cannot start with 126 (later versions 127).
        let execMissing = daemon.docker(["exec", "web", "nosuch"])
        #expect(execMissing.status == 126, "\(execMissing.stdout) \(execMissing.stderr)")
        #expect(daemon.docker(["exec", "-i", "web", "cat"], stdin: "in\n").stdout == "in\n")
        #expect(daemon.docker(["exec", "-e", "X=1", "-w", "/tmp", "-u", "nobody", "web", "sh", "-c", "echo $X $(pwd) $(id -u)"]).stdout == "1 /tmp 65534\n")
        #expect(daemon.docker(["logs", "web"]).stdout == "started\n")
        #expect(daemon.docker(["pause", "web"]).status == 0)
        #expect(daemon.docker(["inspect", "--format", "{{.State.Status}}", "web"]).stdout == "paused\n")
        #expect(daemon.docker(["exec", "web", "true"]).stderr.contains("is paused, unpause the container before exec"))
        #expect(daemon.docker(["unpause", "web"]).status == 0)
        #expect(daemon.docker(["rename", "web", "site"]).status == 0)
        // sleep as PID 1 ignores SIGTERM: stop waits out the timeout and kills it.
        let stop = daemon.docker(["stop", "-t", "1", "site"])
        #expect(stop.status == 0 && stop.stdout == "site\n", "\(stop.stderr)")
        let exited = daemon.docker(["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "site"])
        #expect(exited.stdout == "exited 137\n")
        #expect(daemon.docker(["ps", "-a", "--format", "{{.Status}}"]).stdout.hasPrefix("Exited (137) "))
        #expect(daemon.docker(["start", "site"]).status == 0)
        // A detached start answers before the process has printed: wait for its line.
        #expect(ContainerBehaviourTests.eventually { daemon.docker(["logs", "site"]).stdout == "started\nstarted\n" })
        #expect(daemon.docker(["rm", "-f", "site"]).status == 0)
        #expect(daemon.docker(["ps", "-aq"]).stdout.isEmpty)
    }

    @Test func waitRestartPoliciesAndPrune() throws {
        let daemon = try Self.daemonWithImage()
        #expect(daemon.docker(["run", "-d", "--name", "fails", "--restart", "on-failure:2", "busybox", "false"]).status == 0)
        var count = ""
        for _ in 0..<100 {
            count = daemon.docker(["inspect", "--format", "{{.RestartCount}} {{.State.Status}}", "fails"]).stdout
            if count == "2 exited\n" { break }
            usleep(100_000)
        }
        #expect(count == "2 exited\n")
        #expect(daemon.docker(["run", "-d", "--name", "quick", "busybox", "sh", "-c", "sleep 0.3; exit 5"]).status == 0)
        let wait = daemon.docker(["wait", "quick"])
        #expect(wait.stdout == "5\n", "\(wait.stderr)")
        #expect(daemon.docker(["create", "--name", "never", "busybox", "true"]).status == 0)
        let prune = daemon.docker(["container", "prune", "-f"])
        #expect(prune.status == 0)
        #expect(prune.stdout.contains("Deleted Containers:"))
        #expect(daemon.docker(["ps", "-aq"]).stdout.isEmpty)
        // An image a container uses is not removed from under it.
        #expect(daemon.docker(["create", "--name", "user", "busybox", "true"]).status == 0)
        let rmi = daemon.docker(["rmi", "busybox"])
        #expect(rmi.status == 1)
        #expect(rmi.stderr.contains("conflict: unable to remove repository reference \"busybox\" (must force) - container"), "\(rmi.stderr)")
    }

    @Test func containersOutliveAKilledDaemon() throws {
        let daemon = try Self.daemonWithImage()
        for index in 1...5 {
            let run = daemon.docker(["run", "-d", "--name", "chatty\(index)", "busybox", "sh", "-c",
                                     "i=0; while true; do i=$((i+1)); echo line $i; sleep 0.05; done"])
            #expect(run.status == 0, "\(run.stderr)")
        }
        usleep(500_000)
        daemon.crash()
        usleep(500_000)
        let restarted = try TestDaemon(directory: daemon.directory)
        let running = restarted.docker(["ps", "--format", "{{.Names}}"]).stdout.split(separator: "\n").sorted()
        #expect(running == ["chatty1", "chatty2", "chatty3", "chatty4", "chatty5"], "\(restarted.log)")
        usleep(300_000)
        for index in 1...5 {
            let lines = restarted.docker(["logs", "chatty\(index)"]).stdout.split(separator: "\n")
            // Every line from 1 on, none lost while berthd was down.
            let numbers = lines.compactMap { Int($0.split(separator: " ").last ?? "") }
            #expect(numbers == Array(1...(numbers.last ?? 0)) && numbers.count > 10, "chatty\(index): \(numbers.count) lines")
        }
        let stop = restarted.docker(["stop", "-t", "1", "chatty1"])
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(restarted.docker(["inspect", "--format", "{{.State.Running}}", "chatty1"]).stdout == "false\n")
    }
}
