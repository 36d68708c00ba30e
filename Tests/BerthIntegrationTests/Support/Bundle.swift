import BerthOCI
import BerthRuntime
import Foundation
import Glibc

/// A throwaway OCI bundle with its own copy of the busybox rootfs and a runtime `--root`,
/// removed (container, cgroup, files) when the test is done.
final class TestBundle {
    let id: String
    let directory: String
    let stateRoot: String
    var spec: Spec

    var rootfs: String { directory + "/rootfs" }
    var cgroupsPath: String { "/berth-test/" + id }

    init(args: [String], prefix: String = "rt") throws {
        id = Harness.uniqueID(prefix)
        directory = NSTemporaryDirectory() + "berth-bundle-" + id
        stateRoot = directory + "-state"
        spec = DefaultSpec.make(args: args, terminal: false)
        spec.linux?.cgroupsPath = "/berth-test/" + id
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let copy = Harness.run("/bin/cp", ["-a", Harness.imageDir + "/rootfs", rootfs])
        guard copy.status == 0 else { throw TestFailure("copy rootfs: \(copy.stderr)") }
    }

    func writeSpec() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(spec).write(to: URL(fileURLWithPath: directory + "/config.json"))
    }

    /// berth-runtime (or another runtime binary) with this bundle's --root.
    @discardableResult
    func runtime(_ args: [String], binary: String = Harness.binary("berth-runtime"), stdin: String? = nil) -> Harness.Result {
        Harness.run(binary, ["--root", stateRoot] + args, stdin: stdin)
    }

    /// `run` the bundle in the foreground and return its output.
    func run(binary: String = Harness.binary("berth-runtime"), extra: [String] = []) throws -> Harness.Result {
        try writeSpec()
        return runtime(["run", "--bundle", directory] + extra + [id], binary: binary)
    }

    /// `run` in the foreground, in the background of the test: for signalling the container.
    func startRun() throws -> Process {
        try writeSpec()
        let runner = Process()
        runner.executableURL = URL(fileURLWithPath: Harness.binary("berth-runtime"))
        runner.arguments = ["--root", stateRoot, "run", "--bundle", directory, id]
        runner.standardOutput = FileHandle.nullDevice
        try runner.run()
        return runner
    }

    func state() -> String? {
        let result = runtime(["state", id])
        guard result.status == 0,
              let json = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else { return nil }
        return json["status"] as? String
    }

    func waitForState(_ wanted: String, timeout: TimeInterval = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if state() == wanted { return true }
            usleep(20_000)
        }
        return false
    }

    deinit {
        runtime(["delete", "--force", id])
        _ = Harness.run("/bin/rm", ["-rf", directory, stateRoot])
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
