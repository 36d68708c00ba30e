@testable import BerthEngine
import BerthOCI
import BerthRuntime
import CSystemShims
import Foundation
import Glibc
import Testing

/// berth-shim driven as berthd drives it: spawned with a ready pipe on fd 3, then spoken to
/// over its socket.
@Suite(.enabled(if: Harness.isRoot, "berth-shim runs containers: needs root"))
struct ShimTests {
    /// A shim holding one container of a fresh bundle. Kills what is left and removes the
    /// container and its files when the test is done, whatever happened.
    final class RunningShim {
        let bundle: TestBundle
        let stateDir: String
        var pid: pid_t = 0
        /// What the shim wrote on its ready pipe: "ok PID" or "error MESSAGE".
        var ready = ""

        init(args: [String], terminal: Bool = false, flags: [String] = [],
             configure: (inout Spec) -> Void = { _ in }) throws {
            bundle = try TestBundle(args: args, prefix: "shim")
            stateDir = bundle.directory + "-shim"
            bundle.spec.process?.terminal = terminal
            configure(&bundle.spec)
            try bundle.writeSpec()
            try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
            try spawn(flags + (terminal ? ["--tty"] : []))
        }

        var id: String { bundle.id }
        var logPath: String { stateDir + "/container-json.log" }

        private func spawn(_ flags: [String]) throws {
            let argv = [Harness.binary("berth-shim"), "--id", bundle.id, "--bundle", bundle.directory,
                        "--state", stateDir, "--runtime", Harness.binary("berth-runtime"),
                        "--runtime-root", bundle.stateRoot, "--log-path", logPath] + flags
            var ends: [Int32] = [-1, -1]
            guard pipe(&ends) == 0 else { throw TestFailure("pipe: \(errno)") }
            let null = Glibc.open("/dev/null", O_RDWR)
            let log = Glibc.open(stateDir + "/shim.log", O_WRONLY | O_CREAT | O_APPEND, 0o644)
            defer {
                close(null)
                close(log)
            }
            // As berthd does: stdin/stdout /dev/null, stderr shim.log, fd 3 the ready pipe, own session.
            let map: [Int32] = [null, 0, null, 1, log, 2, ends[1], 3]
            let pointers = argv.map { strdup($0) } + [nil]
            defer { pointers.forEach { free($0) } }
            let environment: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), nil]
            defer { environment.forEach { free($0) } }
            pid = berth_spawn(argv[0], pointers, environment, map, 4, 1)
            close(ends[1])
            defer { close(ends[0]) }
            guard pid > 0 else { throw TestFailure("spawn berth-shim: \(errno)") }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 256)
            while true {
                let n = read(ends[0], &chunk, chunk.count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                bytes += chunk[0..<n]
            }
            ready = String(decoding: bytes, as: UTF8.self)
        }

        /// Sends a request line and returns the connection, before any answer.
        func open(_ line: String) throws -> ShimClient {
            let client = try ShimClient(path: stateDir + "/shim.sock")
            try client.send(line + "\n")
            return client
        }

        /// One request; returns the connection after its first reply line.
        func request(_ line: String) throws -> (ShimClient, String) {
            let client = try open(line)
            return (client, try client.readLine())
        }

        /// A request whose whole answer is one line.
        func ask(_ line: String) throws -> String {
            try request(line).1
        }

        /// Waits for the shim to exit (it does once the container is done); its exit status.
        @discardableResult
        func waitForExit(timeout: TimeInterval = 20) -> Int32? {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                var status: Int32 = 0
                let reaped = waitpid(pid, &status, WNOHANG)
                if reaped == pid {
                    pid = 0
                    return berth_wifexited(status) != 0 ? berth_wexitstatus(status) : 128 + berth_wtermsig(status)
                }
                if reaped < 0 { return nil }
                usleep(10_000)
            }
            return nil
        }

        deinit {
            if pid > 0 {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
            }
            // The bundle's own clean-up deletes the container (and its cgroup) afterwards.
            try? FileManager.default.removeItem(atPath: stateDir)
        }
    }

    /// A connection to shim.sock with blocking reads (time-limited).
    final class ShimClient {
        let fd: Int32
        private var buffered: [UInt8] = []

        init(path: String) throws {
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard connected == 0 else {
                close(fd)
                throw TestFailure("connect \(path): \(String(cString: strerror(errno)))")
            }
            var timeout = timeval(tv_sec: 20, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        deinit { close(fd) }

        func send(_ text: String) throws {
            let bytes = Array(text.utf8)
            guard bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
                throw TestFailure("write: \(errno)")
            }
        }

        func closeWriting() { shutdown(fd, Int32(SHUT_WR)) }

        /// More bytes; empty at EOF.
        private func fill() throws -> Bool {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = read(fd, &chunk, chunk.count)
            if n < 0 { throw TestFailure("read: \(String(cString: strerror(errno)))") }
            buffered += chunk[0..<n]
            return n > 0
        }

        func readLine() throws -> String {
            while true {
                if let newline = buffered.firstIndex(of: 0x0A) {
                    let line = String(decoding: buffered[..<newline], as: UTF8.self)
                    buffered.removeFirst(newline + 1)
                    return line
                }
                guard try fill() else { throw TestFailure("EOF before a reply line") }
            }
        }

        /// Every frame until the shim closes the connection.
        func readFrames() throws -> [(kind: UInt8, payload: String)] {
            while try fill() {}
            var frames: [(UInt8, String)] = []
            var rest = buffered[...]
            while rest.count >= 8 {
                let header = Array(rest.prefix(8))
                let length = Int(header[4]) << 24 | Int(header[5]) << 16 | Int(header[6]) << 8 | Int(header[7])
                guard rest.count >= 8 + length else { throw TestFailure("cut frame") }
                frames.append((header[0], String(decoding: rest.dropFirst(8).prefix(length), as: UTF8.self)))
                rest = rest.dropFirst(8 + length)
            }
            guard rest.isEmpty else { throw TestFailure("trailing bytes") }
            return frames
        }
    }

    static func text(_ frames: [(kind: UInt8, payload: String)], kind: UInt8) -> String {
        frames.filter { $0.kind == kind }.map(\.payload).joined()
    }

    static func jsonLines(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test func attachThenStartStreamsBothOutputsAndLogsThem() throws {
        let shim = try RunningShim(args: ["sh", "-c", "echo out; echo err >&2"])
        #expect(shim.ready.hasPrefix("ok "), "\(shim.ready)")
        let (attach, attached) = try shim.request("attach 0 1 1")
        #expect(attached == "ok")
        #expect(try shim.ask("state").hasPrefix("created "))
        #expect(try shim.ask("start") == "ok")
        let frames = try attach.readFrames()
        #expect(Self.text(frames, kind: 1) == "out\n")
        #expect(Self.text(frames, kind: 2) == "err\n")
        #expect(shim.waitForExit() == 0)

        let records = try Self.jsonLines(shim.logPath)
        #expect(records.map { $0["log"] as? String } == ["out\n", "err\n"] || records.map { $0["log"] as? String } == ["err\n", "out\n"])
        let stdoutRecord = try #require(records.first { $0["log"] as? String == "out\n" })
        #expect(stdoutRecord["stream"] as? String == "stdout")
        #expect(records.first { $0["log"] as? String == "err\n" }?["stream"] as? String == "stderr")
        let time = try #require(stdoutRecord["time"] as? String)
        #expect(time.count == 30 && time.hasSuffix("Z"))
        // The shim cleans up its socket on the way out.
        #expect(!FileManager.default.fileExists(atPath: shim.stateDir + "/shim.sock"))
    }

    @Test func exitStatusIsRecordedAndAnsweredToWait() throws {
        let shim = try RunningShim(args: ["sh", "-c", "exit 3"])
        let pid = try #require(Int32(shim.ready.dropFirst(3).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try shim.ask("state") == "created \(pid)")
        let waiter = try shim.open("wait")
        let before = Int64(Date().timeIntervalSince1970 * 1e9)
        #expect(try shim.ask("start") == "ok")
        let answer = try waiter.readLine().split(separator: " ")
        #expect(answer.count == 3 && answer[0] == "exit" && answer[1] == "3")
        let finished = try #require(Int64(answer[2]))
        #expect(finished >= before - 1_000_000_000 && finished < before + 30_000_000_000)
        #expect(shim.waitForExit() == 0)
        let exitFile = try String(contentsOfFile: shim.stateDir + "/exit", encoding: .utf8)
        #expect(exitFile == "3 \(finished)\n")
        #expect(!FileManager.default.fileExists(atPath: shim.stateDir + "/exit.tmp"))
    }

    @Test func badFlagsAndFailedCreateAreReportedOnTheReadyPipe() throws {
        let bad = try RunningShim(args: ["true"], flags: ["--log-driver", "splunk"])
        #expect(bad.ready.hasPrefix("error unknown log driver"), "\(bad.ready)")
        #expect(bad.waitForExit() == 2)

        // The runtime's own message comes back: here the command is not in the image.
        let failing = try RunningShim(args: ["no-such-command"])
        #expect(failing.ready.hasPrefix("error "), "\(failing.ready)")
        #expect(failing.ready.contains("no-such-command"), "\(failing.ready)")
        #expect(failing.waitForExit() == 1)
    }

    @Test func stdinReachesTheContainerAndHalfCloseEndsIt() throws {
        let shim = try RunningShim(args: ["cat"], flags: ["--stdin", "--stdin-once"])
        let (attach, attached) = try shim.request("attach 1 1 1")
        #expect(attached == "ok")
        let waiter = try shim.open("wait")
        #expect(try shim.ask("start") == "ok")
        try attach.send("hello\nworld\n")
        attach.closeWriting()
        let frames = try attach.readFrames()
        #expect(frames.map(\.kind).allSatisfy { $0 == 1 })
        #expect(Self.text(frames, kind: 1) == "hello\nworld\n")
        #expect(try waiter.readLine().hasPrefix("exit 0 "))
        #expect(shim.waitForExit() == 0)
    }

    @Test func terminalOutputComesAsOneStream() throws {
        let shim = try RunningShim(args: ["sh", "-c", "tty; stty size; echo hi >&2"], terminal: true)
        #expect(shim.ready.hasPrefix("ok "), "\(shim.ready)")
        let (attach, _) = try shim.request("attach 0 1 1")
        #expect(try shim.ask("resize 33 111") == "ok")
        #expect(try shim.ask("start") == "ok")
        let frames = try attach.readFrames()
        #expect(frames.allSatisfy { $0.kind == 1 })
        #expect(Self.text(frames, kind: 1) == "/dev/pts/0\r\n33 111\r\nhi\r\n")
        #expect(shim.waitForExit() == 0)
        let records = try Self.jsonLines(shim.logPath)
        #expect(records.compactMap { $0["log"] as? String }.joined() == "/dev/pts/0\r\n33 111\r\nhi\r\n")
        #expect(records.allSatisfy { $0["stream"] as? String == "stdout" })
    }

    @Test func killWithSIGTERMEndsTheContainer() throws {
        // Outside a pid namespace the process is no PID 1, so SIGTERM's default action kills
        // it and the status is the signal's: 128 + 15.
        let shim = try RunningShim(args: ["sleep", "100"]) { spec in
            spec.linux?.namespaces?.removeAll { $0.type == "pid" }
        }
        #expect(try shim.ask("start") == "ok")
        let pid = try #require(Int32(shim.ready.dropFirst(3).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try shim.ask("state") == "running \(pid)")
        let waiter = try shim.open("wait")
        #expect(try shim.ask("kill 15") == "ok")
        #expect(try waiter.readLine().hasPrefix("exit 143 "))
        #expect(shim.waitForExit() == 0)
        #expect(try String(contentsOfFile: shim.stateDir + "/exit", encoding: .utf8).hasPrefix("143 "))
    }

    @Test func execRunsInTheContainerAndReportsHowItEnded() throws {
        let shim = try RunningShim(args: ["sleep", "100"])
        #expect(try shim.ask("start") == "ok")
        var process = try #require(shim.bundle.spec.process)
        // As berthd sends it: the request line, then the plan.
        func startExec(_ id: String, _ args: [String], terminal: Bool = false, stdin: Bool = false) throws -> (ShimClient, String) {
            process.args = args
            process.terminal = terminal
            let plan = try ExecPlan.encode(process, capabilities: CapabilitySets(process.capabilities),
                                           join: ContainerStore(root: shim.bundle.stateRoot).joinFacts(shim.id))
            let client = try shim.open("exec \(id) \(terminal ? 1 : 0) \(stdin ? 1 : 0) \(plan.count)")
            try client.send(String(decoding: plan, as: UTF8.self))
            return (client, try client.readLine())
        }

        let (session, started) = try startExec("e1", ["sh", "-c", "echo hi; exit 0"])
        #expect(started == "ok")
        let frames = try session.readFrames()
        #expect(frames.map(\.kind) == [18, 1, 16])
        #expect(frames[1].payload == "hi\n")
        // Started carries the pid; the exit frame "<status> <pid>" repeats it.
        #expect(frames.first?.payload.wholeMatch(of: /[0-9]+/) != nil, "\(frames)")
        #expect(frames.last?.payload == "0 " + (frames.first?.payload ?? ""), "\(frames)")

        let statusFrames = try startExec("e2", ["sh", "-c", "echo oops >&2; exit 7"]).0.readFrames()
        #expect(Self.text(statusFrames, kind: 2) == "oops\n")
        #expect(statusFrames.last?.kind == 16 && statusFrames.last?.payload.wholeMatch(of: /7 [0-9]+/) != nil, "\(statusFrames)")

        let failed = try startExec("e3", ["no-such-command"]).0.readFrames()
        #expect(failed.map(\.kind) == [17], "\(failed)")
        #expect(failed.last?.payload == #"exec: "no-such-command": executable file not found in $PATH"#, "\(failed)")

        // A plan the shim cannot take is refused before anything runs.
        let refused = try shim.open("exec e5 0 0 4")
        try refused.send("cwd")
        try refused.send("\0")
        #expect(try refused.readLine().hasPrefix("error exec plan: entry without a value"))

        // With a TTY: input typed and a resize asked for at once, even before the pty is there.
        let (tty, ttyStarted) = try startExec("e4", ["sh", "-c", "read line; stty size; echo got $line"], terminal: true, stdin: true)
        #expect(ttyStarted == "ok")
        #expect(try shim.ask("resize-exec e4 20 50") == "ok")
        try tty.send("abc\n")
        let ttyFrames = try tty.readFrames()
        #expect(Self.text(ttyFrames, kind: 1).hasSuffix("20 50\r\ngot abc\r\n"), "\(ttyFrames)")
        #expect(ttyFrames.last?.kind == 16 && ttyFrames.last?.payload.wholeMatch(of: /0 [0-9]+/) != nil)

        // Every exec's files are gone; the container still runs.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: shim.stateDir).filter { $0.hasPrefix("exec-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
        #expect(try shim.ask("state").hasPrefix("running "))
        #expect(try shim.ask("bogus") == "error unknown request")
        #expect(try shim.ask("resize-exec e9 1 1") == "error no such exec: e9")
        #expect(try shim.ask("resize 10 10") == "error no terminal")

        let waiter = try shim.open("wait")
        #expect(try shim.ask("kill 9") == "ok")
        #expect(try waiter.readLine().hasPrefix("exit 137 "))
        #expect(shim.waitForExit() == 0)
    }

    @Test func jsonFileLogRotatesBySize() throws {
        let shim = try RunningShim(args: ["sh", "-c", "i=1; while [ $i -le 200 ]; do echo line-$i; i=$((i+1)); done"],
                                   flags: ["--log-max-size", "2000", "--log-max-file", "3"])
        let waiter = try shim.open("wait")
        #expect(try shim.ask("start") == "ok")
        #expect(try waiter.readLine().hasPrefix("exit 0 "))
        #expect(shim.waitForExit() == 0)

        let files = [shim.logPath + ".2", shim.logPath + ".1", shim.logPath]
        for (index, file) in files.enumerated() {
            let size = try #require(try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int)
            // As dockerd: a rotated file holds records until it has reached max-size, so it ends
            // within one record (< 100 bytes here) past it; the live one is below it.
            let full = index < 2
            #expect(full ? (size >= 2000 && size < 2100) : (size > 0 && size < 2100), "\(file): \(size)")
        }
        #expect(!FileManager.default.fileExists(atPath: shim.logPath + ".3"))
        // Oldest to newest, the records are consecutive lines ending with the last one.
        let lines = try files.flatMap { try Self.jsonLines($0) }.compactMap { $0["log"] as? String }
        let numbers = lines.compactMap { Int($0.dropFirst(5).dropLast()) }
        #expect(numbers.count == lines.count)
        #expect(numbers.last == 200)
        #expect(numbers == Array((numbers.first ?? 0)...200))
        #expect(numbers.count < 200)  // the oldest file went away
    }

    // With --log-compress each rotated file is gzipped in a child of the shim; the shim
    // finishes that work before it exits, so the files are all compressed once it is gone.
    @Test func jsonFileLogCompressesRotatedFiles() throws {
        let shim = try RunningShim(args: ["sh", "-c", "i=1; while [ $i -le 400 ]; do echo line-$i; i=$((i+1)); done"],
                                   flags: ["--log-max-size", "2000", "--log-max-file", "4", "--log-compress"])
        let waiter = try shim.open("wait")
        #expect(try shim.ask("start") == "ok")
        #expect(try waiter.readLine().hasPrefix("exit 0 "))
        #expect(shim.waitForExit() == 0)

        let directory = (shim.logPath as NSString).deletingLastPathComponent
        let name = (shim.logPath as NSString).lastPathComponent
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix(name) }.sorted()
        #expect(files == [name, name + ".1.gz", name + ".2.gz", name + ".3.gz"], "\(files)")
        var lines: [String] = []
        for file in [".3.gz", ".2.gz", ".1.gz"].map({ shim.logPath + $0 }) {
            let plain = shim.logPath + ".check"
            let gunzip = Harness.run("/bin/sh", ["-c", "gzip -dc \"$0\" > \"$1\"", file, plain])
            #expect(gunzip.status == 0, "\(file): \(gunzip.stderr)")
            lines += try Self.jsonLines(plain).compactMap { $0["log"] as? String }
            try? FileManager.default.removeItem(atPath: plain)
            // The header's comment names the plain file it was made from (berthd follows by it).
            let header = try #require(FileManager.default.contents(atPath: file))
            #expect(header.prefix(4) == Data([0x1F, 0x8B, 8, 0x10]))
            #expect(String(decoding: header.dropFirst(10).prefix(17), as: UTF8.self) == "berth-log-source ")
        }
        lines += try Self.jsonLines(shim.logPath).compactMap { $0["log"] as? String }
        let numbers = lines.compactMap { Int($0.dropFirst(5).dropLast()) }
        #expect(numbers.count == lines.count)
        #expect(numbers.last == 400)
        #expect(numbers == Array((numbers.first ?? 0)...400))
        #expect(numbers.count < 400)  // the oldest files went away
    }
}
