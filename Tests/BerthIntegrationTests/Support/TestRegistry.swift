import Foundation
import Glibc

/// The test registry (test-registry.py beside this file) serving the test image on
/// 127.0.0.1 at a port of its choosing; stopped when released.
final class TestRegistry {
    let port: Int
    private let process: Process
    private let log: String

    /// `options`: "--token", "user:password" / "--token-anonymous" / "--corrupt".
    init(_ options: [String] = []) throws {
        log = NSTemporaryDirectory() + "berth-registry-\(UUID().uuidString).log"
        FileManager.default.createFile(atPath: log, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [Harness.packageRoot + "/Tests/BerthIntegrationTests/Support/test-registry.py",
                             Harness.imageDir + "/busybox-oci.tar"] + options
        let portFile = log + ".port"
        process.arguments! += ["--port-file", portFile]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        // The registry writes its port once it listens (with --tls after openssl made a key: slow on a busy machine).
        guard let port = Harness.portWritten(to: portFile, within: 30) else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw TestRegistryFailure("the test registry did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
        self.port = port
    }

    /// "127.0.0.1:PORT/" + the repository.
    func name(_ repository: String) -> String { "127.0.0.1:\(port)/" + repository }

    /// The requests served so far ("GET /v2/…"), one a line.
    var requests: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    deinit {
        if process.isRunning {
            // SIGKILL: the test process's children inherit its blocked SIGTERM.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        unlink(log)
    }
}

struct TestRegistryFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
