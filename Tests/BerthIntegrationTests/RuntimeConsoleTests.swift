import BerthOCI
import BerthRuntime
import CSystemShims
import Foundation
import Testing

/// Terminals, descriptors and the runtime's own commands.
@Suite(.enabled(if: Harness.isRoot, "berth-runtime needs root"))
struct RuntimeConsoleTests {
    /// Listens on a unix socket the way an engine's shim does, to receive the pty master.
    final class ConsoleSocket {
        let path: String
        let listener: Int32

        init(path: String) throws {
            self.path = path
            unlink(path)
            listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard bound == 0, listen(listener, 1) == 0 else { throw TestFailure("console socket: \(errno)") }
        }

        /// Accepts the runtime's connection and returns the descriptor it sent.
        func receiveMaster() throws -> Int32 {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { throw TestFailure("accept: \(errno)") }
            defer { close(connection) }
            var buffer = [CChar](repeating: 0, count: 64)
            let fd = berth_recv_fd(connection, &buffer, buffer.count)
            guard fd >= 0 else { throw TestFailure("recv_fd: \(errno)") }
            return fd
        }

        deinit {
            close(listener)
            unlink(path)
        }
    }

    @Test func terminalMasterArrivesOverTheConsoleSocket() throws {
        let bundle = try TestBundle(args: ["sh", "-c", "tty; stty size; echo hello"])
        bundle.spec.process?.terminal = true
        bundle.spec.process?.consoleSize = .init(height: 33, width: 111)
        try bundle.writeSpec()
        let console = try ConsoleSocket(path: bundle.directory + "/console.sock")
        let creator = Process()
        creator.executableURL = URL(fileURLWithPath: Harness.binary("berth-runtime"))
        creator.arguments = ["--root", bundle.stateRoot, "create", "--bundle", bundle.directory,
                             "--console-socket", console.path, bundle.id]
        try creator.run()
        let master = try console.receiveMaster()
        defer { close(master) }
        creator.waitUntilExit()
        #expect(creator.terminationStatus == 0)
        #expect(bundle.runtime(["start", bundle.id]).status == 0)
        var output = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(master, &chunk, chunk.count)
            if n <= 0 { break }  // EIO once the container has closed its side
            output += chunk[0..<n]
        }
        let text = String(decoding: output, as: UTF8.self)
        #expect(text == "/dev/pts/0\r\n33 111\r\nhello\r\n")
    }

    @Test func terminalWithoutConsoleSocketIsRefused() throws {
        let bundle = try TestBundle(args: ["true"])
        bundle.spec.process?.terminal = true
        let result = try bundle.run()
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot allocate tty"))
    }

    @Test func onlyStdioReachesTheContainer() throws {
        // Descriptors of the caller (here: fd 7, open on a host file) must not leak in.
        let bundle = try TestBundle(args: ["ls", "/proc/self/fd"])
        try bundle.writeSpec()
        let result = Harness.run("/bin/sh", ["-c", "exec 7</etc/hostname; exec \"$0\" \"$@\"",
                                             Harness.binary("berth-runtime"), "--root", bundle.stateRoot,
                                             "run", "--bundle", bundle.directory, bundle.id])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "0\n1\n2\n3\n")  // 3 is ls's own directory handle
    }

    @Test func featuresAndSpecCommands() throws {
        let features = Harness.run(Harness.binary("berth-runtime"), ["features"])
        #expect(features.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(features.stdout.utf8)) as? [String: Any])
        let linux = try #require(json["linux"] as? [String: Any])
        #expect((linux["namespaces"] as? [String])?.contains("user") == true)
        #expect(((linux["seccomp"] as? [String: Any])?["actions"] as? [String])?.contains("SCMP_ACT_ERRNO") == true)

        let dir = NSTemporaryDirectory() + Harness.uniqueID("spec")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(Harness.run(Harness.binary("berth-runtime"), ["spec", "--bundle", dir]).status == 0)
        let spec = try JSONDecoder().decode(Spec.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json")))
        #expect(spec.process?.capabilities?.effective?.count == 14)
        #expect(spec.linux?.seccomp?.defaultAction == "SCMP_ACT_ERRNO")
        let again = Harness.run(Harness.binary("berth-runtime"), ["spec", "--bundle", dir])
        #expect(again.status == 1)
        #expect(again.stderr.contains("exists. Remove it first"))
    }

    @Test func errorsAreLoggedAsJSONWhenAsked() throws {
        let log = NSTemporaryDirectory() + Harness.uniqueID("log") + ".json"
        let root = "/tmp/berth-none-\(getpid())"  // the runtime makes its root: removed after
        defer {
            try? FileManager.default.removeItem(atPath: log)
            try? FileManager.default.removeItem(atPath: root)
        }
        let result = Harness.run(Harness.binary("berth-runtime"),
                                 ["--log", log, "--log-format", "json", "--root", root, "state", "missing"])
        #expect(result.status == 1)
        let line = try String(contentsOfFile: log, encoding: .utf8)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(json["level"] as? String == "error")
        #expect(json["msg"] as? String == "container \"missing\" does not exist")
    }

    @Test func spawnFromAThreadedProcessMapsDescriptors() throws {
        // berth_spawn is what the multi-threaded daemon uses; this test process is threaded too.
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        let pid = withCStrings(["/bin/sh", "-c", "echo spawned; ls /proc/self/fd | wc -l"]) { argv in
            withCStrings(["PATH=/bin:/usr/bin"]) { env in
                [fds[1], 1].withUnsafeBufferPointer { berth_spawn("/bin/sh", argv, env, $0.baseAddress, 1, 1) }
            }
        }
        close(fds[1])
        #expect(pid > 0)
        let output = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true).readDataToEndOfFile()
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        // Only fd 1 was given (0 and 2 closed); ls sees it plus its own directory handle.
        #expect(String(decoding: output, as: UTF8.self) == "spawned\n2\n")
        let missing = withCStrings(["/nonexistent"]) { argv in
            withCStrings([]) { env in berth_spawn("/nonexistent", argv, env, nil, 0, 0) }
        }
        #expect(missing == -1)
        #expect(errno == ENOENT)
    }

    @Test func badCommandLinesAreRefused() {
        let runtime = Harness.binary("berth-runtime")
        #expect(Harness.run(runtime, ["kill", "x", "NOTASIGNAL"]).stderr.contains("invalid signal"))
        #expect(Harness.run(runtime, ["create", "--bogus", "x"]).stderr.contains("flag provided but not defined: -bogus"))
        let root = "/tmp/berth-none-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(Harness.run(runtime, ["--root", root, "state", "missing"]).stderr
            .contains("container \"missing\" does not exist"))
    }
}
