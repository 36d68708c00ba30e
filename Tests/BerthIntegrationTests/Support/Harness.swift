import BerthOCI
import Foundation
import Glibc

/// Where the built executables and the test image are, and how to run a command.
enum Harness {
    static let isRoot = geteuid() == 0

    /// The package's root directory, derived from this file's path.
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// BERTH_BIN_DIR, set by scripts/test; otherwise the debug build folder.
    static let binDir: String = ProcessInfo.processInfo.environment["BERTH_BIN_DIR"]
        ?? packageRoot + "/.build/debug"

    static func binary(_ name: String) -> String { binDir + "/" + name }

    /// berthd's environment in the tests: a pull of any registry but a loopback one goes to a
    /// proxy on a closed loopback port and fails there, so that no test (a `docker run` of an
    /// image not loaded, compose's pull) ever looks up or reaches a registry outside.
    static let loopbackOnlyEnvironment: [String: String] = {
        var environment = ProcessInfo.processInfo.environment
        let nowhere = "http://127.0.0.1:9"
        for name in ["http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"] { environment[name] = nowhere }
        for name in ["no_proxy", "NO_PROXY"] { environment[name] = "127.0.0.1,localhost,::1" }
        return environment
    }()

    /// The stock docker CLI: the one installed in /usr/local/bin, else Debian's.
    static let dockerCLI: String = ["/usr/local/bin/docker", "/usr/bin/docker"]
        .first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/local/bin/docker"

    /// BERTH_TEST_IMAGE_DIR, set by scripts/test; otherwise built once by scripts/make-test-image.
    static let imageDir: String = {
        if let dir = ProcessInfo.processInfo.environment["BERTH_TEST_IMAGE_DIR"] { return dir }
        let dir = NSTemporaryDirectory() + "berth-test-image-\(getpid())"
        let result = run(packageRoot + "/scripts/make-test-image", [dir])
        precondition(result.status == 0, "make-test-image failed: \(result.stderr)")
        // Made for this run only: gone when the test process ends.
        atexit { try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "berth-test-image-\(getpid())") }
        return dir
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a program to completion and collects its output. Output goes through temporary
    /// files, not pipes: a container started by `create` inherits them and outlives the call.
    @discardableResult
    static func run(_ path: String, _ args: [String], stdin: String? = nil, timeout: TimeInterval = 60) -> Result {
        let base = NSTemporaryDirectory() + "berth-run-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        _ = FileManager.default.createFile(atPath: base + ".out", contents: nil)
        _ = FileManager.default.createFile(atPath: base + ".err", contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: base + ".out")
            try? FileManager.default.removeItem(atPath: base + ".err")
        }
        guard let out = FileHandle(forWritingAtPath: base + ".out"), let err = FileHandle(forWritingAtPath: base + ".err") else {
            return Result(status: -1, stdout: "", stderr: "cannot create output files")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = args
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        do { try process.run() } catch {
            return Result(status: -1, stdout: "", stderr: "cannot run \(path): \(error)")
        }
        try? out.close()
        try? err.close()
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try? input.fileHandleForWriting.close()
        }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(2000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? "")
    }

    /// Whether this test process has capability `number` in its effective set.
    static func holdsCapability(_ number: Int) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
              let mask = UInt64(line.split(separator: "\t").last ?? "", radix: 16) else { return false }
        return mask & (1 << UInt64(number)) != 0
    }

    /// The port a test server writes to `portFile` once it listens (then the file is removed);
    /// nil when none came within `seconds`.
    static func portWritten(to portFile: String, within seconds: Double) -> Int? {
        var port: Int?
        for _ in 0..<Int(seconds * 50) where port == nil {
            port = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0) }
            if port == nil { usleep(20_000) }
        }
        unlink(portFile)
        return port
    }

    /// A loopback TCP port nothing listens on now, as the kernel picks one: a random pick
    /// could meet another test's (or another engineer's) listener on this shared machine.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 ? getsockname(fd, $0, &length) : -1 }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func uniqueID(_ prefix: String) -> String {
        "\(prefix)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }
}
