import Foundation
import Testing

/// The interactive paths as a user at a terminal drives them — `run -it`, `exec -it`, detach
/// keys, ctrl-c, `--init`, resizes — with the stock CLI on a pseudo-terminal. The expected bytes,
/// exit codes and states are dockerd 20.10's, measured side by side through the same CLI.
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct InteractiveParityTests {
    static let prompt = "/ # "

    static func terminal(_ daemon: TestDaemon, _ arguments: [String], rows: UInt16 = 24, columns: UInt16 = 80) throws -> TerminalSession {
        try TerminalSession(Harness.dockerCLI, ["-H", daemon.host] + arguments, rows: rows, columns: columns)
    }

    static func state(_ daemon: TestDaemon, _ name: String) -> String {
        daemon.docker(["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name]).stdout
    }

    @Test func runItShowsTheTerminalAndEndsWithTheShellsStatus() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let shell = try Self.terminal(daemon, ["run", "-it", "--name", "tty", "busybox", "sh"], rows: 30, columns: 100)
            #expect(shell.waitFor(Self.prompt), "\(shell.output)")
            shell.type("echo hi; tty; stty size; exit 3\r")
            #expect(shell.waitForExit() == 3, "\(shell.output)")
            #expect(shell.output.hasSuffix("echo hi; tty; stty size; exit 3\r\nhi\r\n/dev/pts/0\r\n30 100\r\n"), "\(shell.output)")
            #expect(Self.state(daemon, "tty") == "exited 3\n")
        }
    }

    @Test func ctrlPCtrlQDetachesAndLeavesTheContainerRunning() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let shell = try Self.terminal(daemon, ["run", "-it", "--name", "away", "busybox", "sh"])
            #expect(shell.waitFor(Self.prompt), "\(shell.output)")
            shell.type("\u{10}\u{11}")
            #expect(shell.waitForExit() == 0, "\(shell.output)")
            #expect(Self.state(daemon, "away") == "running 0\n")
            // Attached again, a detach says so and exits 1, as dockerd's CLI session does.
            let attach = try Self.terminal(daemon, ["attach", "--detach-keys", "ctrl-x,y", "away"])
            attach.type("echo back\r")
            #expect(attach.waitFor("back\r\n"), "\(attach.output)")
            attach.type("\u{18}y")
            #expect(attach.waitForExit() == 1, "\(attach.output)")
            #expect(attach.output.hasSuffix("read escape sequence\r\n"), "\(attach.output)")
            #expect(Self.state(daemon, "away") == "running 0\n")
        }
    }

    @Test func execItHasATerminalOfTheClientsSize() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["run", "-d", "--name", "host", "busybox", "sleep", "100"]).status == 0)
            let shell = try Self.terminal(daemon, ["exec", "-it", "host", "sh"], rows: 33, columns: 99)
            #expect(shell.waitFor(Self.prompt), "\(shell.output)")
            shell.type("tty; stty size; exit 4\r")
            #expect(shell.waitForExit() == 4, "\(shell.output)")
            #expect(shell.output.hasSuffix("\r\n/dev/pts/0\r\n33 99\r\n"), "\(shell.output)")
        }
    }

    /// berth-init gave the terminal to the command from a background process group and was
    /// stopped by SIGTTOU before its exec: `run -it --init` printed nothing and never ended.
    @Test func runItWithInitRunsTheCommandAndCtrlCReachesIt() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let short = try Self.terminal(daemon, ["run", "-it", "--rm", "--init", "busybox", "sh", "-c", "echo hi; exit 3"])
            #expect(short.waitForExit(timeout: 10) == 3, "\(short.output)")
            #expect(short.output == "hi\r\n")

            // ctrl-c typed goes through the container's pty to the command (the foreground
            // process group there), which dies of it; the init exits 128 + 2.
            let sleeper = try Self.terminal(daemon, ["run", "-it", "--init", "--name", "sleeper", "busybox",
                                                     "sh", "-c", "echo ready; exec sleep 100"])
            #expect(sleeper.waitFor("ready\r\n", timeout: 10), "\(sleeper.output)")
            sleeper.type("\u{03}")
            #expect(sleeper.waitForExit(timeout: 10) == 130, "\(sleeper.output)")
            #expect(Self.state(daemon, "sleeper") == "exited 130\n")
        }
    }

    /// runc hands the process's stdio to its user before switching to it; without that a
    /// non-root process could not reopen its own output (`echo > /dev/stdout`: Permission
    /// denied, as nginx's logs hit) nor owned its terminal.
    @Test func aNonRootProcessOwnsItsStdioAndTerminal() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let script = "echo out > /dev/stdout; echo err > /dev/stderr; stat -L -c '%u %g %a' /proc/self/fd/1"
            let plain = daemon.docker(["run", "--rm", "-u", "1000:1000", "busybox", "sh", "-c", script])
            #expect(plain.status == 0 && plain.stdout == "out\n1000 0 600\n" && plain.stderr == "err\n", "\(plain)")
            let piped = daemon.docker(["run", "--rm", "-i", "-u", "1000", "busybox", "cat", "/dev/stdin"], stdin: "in\n")
            #expect(piped.status == 0 && piped.stdout == "in\n", "\(piped)")

            let shell = try Self.terminal(daemon, ["run", "-it", "--rm", "-u", "1000:1000", "busybox", "sh", "-c", "stat -c '%u %g %a' $(tty)"])
            #expect(shell.waitForExit() == 0, "\(shell.output)")
            #expect(shell.output == "1000 5 620\r\n")

            #expect(daemon.docker(["run", "-d", "--name", "host", "busybox", "sleep", "100"]).status == 0)
            let exec = daemon.docker(["exec", "-u", "1000", "host", "sh", "-c", script])
            #expect(exec.status == 0 && exec.stdout == "out\n1000 0 600\n" && exec.stderr == "err\n", "\(exec)")
            let execShell = try Self.terminal(daemon, ["exec", "-it", "-u", "1000", "host", "sh", "-c", "stat -c '%u %g %a' $(tty)"])
            #expect(execShell.waitForExit() == 0, "\(execShell.output)")
            #expect(execShell.output == "1000 5 620\r\n")
        }
    }

    /// The resize endpoints as dockerd answers them (the CLI resizes only valid sizes; docker-py
    /// and other clients send what they are given).
    @Test func resizeAnswersAsDockerd() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["run", "-dit", "--name", "term", "busybox", "sh"]).status == 0)
            #expect(daemon.docker(["run", "-d", "--name", "plain", "busybox", "sleep", "100"]).status == 0)
            #expect(daemon.docker(["create", "-t", "--name", "idle", "busybox", "sh"]).status == 0)
            let idle = daemon.docker(["inspect", "--format", "{{.Id}}", "idle"]).stdout.trimmingCharacters(in: .newlines)
            func resize(_ path: String) -> String {
                daemon.curl(["-w", " %{http_code}", "-X", "POST", "http://berth/v1.50" + path]).stdout
            }
            #expect(resize("/containers/term/resize?h=40&w=120") == " 200")
            #expect(daemon.docker(["exec", "term", "sh", "-c", "stty size < /proc/1/fd/0"]).stdout == "40 120\n")
            #expect(resize("/containers/term/resize?h=abc&w=120") == "{\"message\":\"invalid resize height \\\"abc\\\": invalid syntax\"}\n 400")
            #expect(resize("/containers/term/resize?w=120") == "{\"message\":\"invalid resize height \\\"\\\": invalid syntax\"}\n 400")
            #expect(resize("/containers/term/resize?h=99999999999999999999&w=1")
                    == "{\"message\":\"invalid resize height \\\"99999999999999999999\\\": value out of range\"}\n 400")
            // Without a tty there is nothing to resize, and that is no error.
            #expect(resize("/containers/plain/resize?h=10&w=20") == " 200")
            #expect(resize("/containers/idle/resize?h=10&w=20") == "{\"message\":\"Container \(idle) is not running\"}\n 409")

            let created = daemon.curl(["-X", "POST", "-H", "Content-Type: application/json", "-d", #"{"Cmd":["sleep","5"]}"#,
                                       "http://berth/v1.50/containers/plain/exec"]).stdout
            let exec = try #require(created.split(separator: "\"").dropFirst(3).first.map(String.init), "\(created)")
            _ = daemon.curl(["-X", "POST", "-H", "Content-Type: application/json", "-d", #"{"Detach":true}"#,
                             "http://berth/v1.50/exec/\(exec)/start"])
            #expect(resize("/exec/\(exec)/resize?h=10&w=20") == " 200")
            #expect(resize("/exec/\(exec)/resize?h=x&w=20") == "{\"message\":\"invalid resize height \\\"x\\\": invalid syntax\"}\n 400")
        }
    }
}
