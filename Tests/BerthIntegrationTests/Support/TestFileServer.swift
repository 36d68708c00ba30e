import Foundation
import Glibc

/// test-file-server.py (beside this file) serving `directory` on 127.0.0.1 at a port of its
/// choosing: files, git repositories over git's dumb HTTP protocol, and a few special paths
/// (see the script). Stopped when released.
final class TestFileServer {
    let port: Int
    let directory: String
    private let process: Process
    private let log: String

    init(directory: String) throws {
        self.directory = directory
        log = NSTemporaryDirectory() + "berth-files-\(UUID().uuidString).log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let portFile = log + ".port"
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [Harness.packageRoot + "/Tests/BerthIntegrationTests/Support/test-file-server.py",
                             directory, "--port-file", portFile, "--log", log]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard let port = Harness.portWritten(to: portFile, within: 6) else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw TestFailure("the test file server did not start")
        }
        self.port = port
    }

    /// "http://127.0.0.1:PORT" + path.
    func url(_ path: String) -> String { "http://127.0.0.1:\(port)" + path }

    /// The requests served so far ("GET /path"), one a line, and what the special paths noted.
    var requests: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Waits up to `seconds` for a line of the log.
    func waitFor(_ line: String, seconds: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if requests.split(separator: "\n").contains(Substring(line)) { return true }
            usleep(50_000)
        }
        return false
    }

    deinit {
        if process.isRunning {
            // SIGKILL: the test process's children inherit its blocked SIGTERM.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        unlink(log)
    }
}

/// `git daemon` serving the bare repositories in `directory` on 127.0.0.1 (git://); stopped when released.
final class TestGitDaemon {
    let port: Int
    private let process: Process

    init(directory: String) throws {
        port = Harness.freePort()
        process = Process()
        // git-daemon itself: `git daemon` would run it as a child that outlives a killed `git`.
        process.executableURL = URL(fileURLWithPath: "/usr/lib/git-core/git-daemon")
        process.arguments = ["--listen=127.0.0.1", "--port=\(port)", "--export-all", "--reuseaddr",
                             "--base-path=" + directory, directory]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready once it accepts a connection.
        for _ in 0..<200 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(fd)
            if connected == 0 { return }
            usleep(20_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        throw TestFailure("git daemon did not start")
    }

    func url(_ path: String) -> String { "git://127.0.0.1:\(port)" + path }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
