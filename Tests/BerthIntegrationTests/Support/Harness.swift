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

    /// BERTH_TEST_IMAGE_DIR, set by scripts/test; otherwise built once by scripts/make-test-image.
    static let imageDir: String = {
        if let dir = ProcessInfo.processInfo.environment["BERTH_TEST_IMAGE_DIR"] { return dir }
        let dir = NSTemporaryDirectory() + "berth-test-image-\(getpid())"
        let result = run(packageRoot + "/scripts/make-test-image", [dir])
        precondition(result.status == 0, "make-test-image failed: \(result.stderr)")
        return dir
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a program to completion and collects its output.
    @discardableResult
    static func run(_ path: String, _ args: [String], stdin: String? = nil, timeout: TimeInterval = 60) -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = args
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        do { try process.run() } catch {
            return Result(status: -1, stdout: "", stderr: "cannot run \(path): \(error)")
        }
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try? input.fileHandleForWriting.close()
        }
        // Read both pipes concurrently so a chatty child never blocks on a full pipe.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data(), errData = Data()
        group.enter()
        DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(2000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        group.wait()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Whether this test process has capability `number` in its effective set.
    static func holdsCapability(_ number: Int) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
              let mask = UInt64(line.split(separator: "\t").last ?? "", radix: 16) else { return false }
        return mask & (1 << UInt64(number)) != 0
    }

    static func uniqueID(_ prefix: String) -> String {
        "\(prefix)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }
}
