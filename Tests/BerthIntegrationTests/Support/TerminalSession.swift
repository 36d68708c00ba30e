import Foundation
import Glibc

/// A command run on a pseudo-terminal, as a user at a terminal runs the docker CLI: the pty is
/// its stdin, stdout, stderr and controlling terminal (through util-linux's `setsid --ctty`),
/// the test types into the master side and reads what the CLI prints.
final class TerminalSession {
    private let master: Int32
    private let process = Process()
    private var bytes: [UInt8] = []

    /// Everything the command printed so far.
    var output: String { String(decoding: bytes, as: UTF8.self) }

    init(_ path: String, _ arguments: [String], rows: UInt16 = 24, columns: UInt16 = 80) throws {
        // Glibc's posix_openpt family is not imported into Swift: the ioctls behind it are
        // used (TIOCSPTLCK to unlock the slave, TIOCGPTN for its number).
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        var unlock: Int32 = 0, number: UInt32 = 0
        guard master >= 0, ioctl(master, 0x4004_5431, &unlock) == 0, ioctl(master, 0x8004_5430, &number) == 0 else {
            throw TestFailure("no pseudo-terminal: \(String(cString: strerror(errno)))")
        }
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
        guard let slave = FileHandle(forUpdatingAtPath: "/dev/pts/\(number)") else {
            throw TestFailure("cannot open the pty's slave")
        }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        process.arguments = ["--ctty", "--wait", path] + arguments
        process.standardInput = slave
        process.standardOutput = slave
        process.standardError = slave
        try process.run()
        try slave.close()
    }

    deinit {
        stop()
        close(master)
    }

    /// Kills the command: the terminal's foreground process group (setsid forks when it
    /// cannot become a session leader itself, so the CLI need not be `process`), then setsid.
    private func stop() {
        guard process.isRunning else { return }
        var group: pid_t = 0
        if ioctl(master, UInt(TIOCGPGRP), &group) == 0 && group > 1 { kill(-group, SIGKILL) }
        kill(process.processIdentifier, SIGKILL)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(10_000) }
    }

    /// Types `text` on the keyboard.
    func type(_ text: String) {
        let data = Array(text.utf8)
        _ = data.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
    }

    /// Reads until the output contains `text` (true) or `timeout` passes (false).
    @discardableResult
    func waitFor(_ text: String, timeout: TimeInterval = 15) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !output.contains(text) {
            guard Date() < deadline, read(until: deadline) else { return output.contains(text) }
        }
        return true
    }

    /// Reads all the output until the command exits; its exit status, nil if it is still
    /// running after `timeout` (it is killed then).
    func waitForExit(timeout: TimeInterval = 15) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while read(until: deadline) {}
        while process.isRunning && Date() < deadline { usleep(10_000) }
        guard !process.isRunning else {
            stop()
            return nil
        }
        return process.terminationStatus
    }

    /// Reads what is there within the time left; false at the end of the output (every
    /// holder of the slave side has gone) or at the deadline.
    private func read(until deadline: Date) -> Bool {
        let left = deadline.timeIntervalSinceNow
        guard left > 0 else { return false }
        var poller = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(min(left, 1) * 1000)) > 0 else { return Date() < deadline }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = Glibc.read(master, &buffer, buffer.count)
        guard count > 0 else { return false }  // EIO: the slave side is closed
        bytes += buffer[0..<count]
        return true
    }
}
