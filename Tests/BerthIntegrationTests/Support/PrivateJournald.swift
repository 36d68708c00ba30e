import Foundation
import Glibc

/// A systemd-journald of the test's own, from scripts/private-journald: it runs in a mount
/// namespace of its own over private tmpfs mounts of /run/systemd, /run/log and
/// /var/log/journal, so the host's journal, /dev/log and journald sockets are never touched.
/// A berthd started with `launcher` joins that namespace, and so do its shims: their entries go
/// to this journald and berthd reads them back from it. Stopped by its pid; the namespace and
/// its mounts end with the last process in it.
final class PrivateJournald {
    let directory: String
    let process = Process()
    var pid: Int32 { process.processIdentifier }

    init() throws {
        directory = NSTemporaryDirectory() + Harness.uniqueID("journald")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: Harness.packageRoot + "/scripts/private-journald")
        process.arguments = [directory]
        _ = FileManager.default.createFile(atPath: directory + "/journald.log", contents: nil)
        let output = FileHandle(forWritingAtPath: directory + "/journald.log")
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline && process.isRunning {
            if FileManager.default.fileExists(atPath: "/proc/\(pid)/root/run/systemd/journal/socket")
                && (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe"))?.hasSuffix("systemd-journald") == true {
                return
            }
            usleep(10_000)
        }
        stop()
        throw TestFailure("the private journald did not start: \(log())")
    }

    func log() -> String { (try? String(contentsOfFile: directory + "/journald.log", encoding: .utf8)) ?? "" }

    /// Runs a command in journald's mount namespace by exec (it keeps its pid).
    var launcher: [String] { ["/usr/bin/nsenter", "--target", String(pid), "--mount", "--"] }

    /// journalctl on this journal.
    func journalctl(_ args: [String]) -> Harness.Result {
        Harness.run(launcher[0], Array(launcher.dropFirst()) + ["journalctl", "--no-pager"] + args)
    }

    func stop() {
        guard process.isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
