import CBerthShim

/// json-file `compress=true`: gzips the rotated files `path.K` into `path.K.gz`, one at a
/// time, in a forked child (berth_shim_gzip_spawn), so the loop never waits on zlib and the
/// shim's own memory stays small. The child writes an unnamed file; when it is reaped the
/// shim finds where its source is now (rotations may have moved it meanwhile, or dropped
/// it), names the result after it and removes the plain file. Until then the plain file is
/// there for readers, so nothing is ever missing. The gzip header's comment names the source
/// file (`berth-log-source DEV:INO`): berthd's reader follows a file across rotations by it.
///
/// The source stays open until the child is reaped: its inode number cannot be given to a
/// new file meanwhile, so the number finds that file and no other.
final class LogCompressor {
    let path: String
    let maxFiles: Int
    private var job: (pid: pid_t, input: Int32, output: Int32, source: (UInt64, UInt64))?

    init(path: String, maxFiles: Int) {
        self.path = path
        self.maxFiles = maxFiles
    }

    /// Starts compressing the newest plain rotated file, unless a compression is running.
    func startNext() {
        guard job == nil else { return }
        var index = 1
        while index < maxFiles {
            let plain = "\(path).\(index)"
            let input = open(plain, O_RDONLY | O_CLOEXEC)
            if input >= 0 {
                start(plain, input)
                return
            }
            index += 1
        }
    }

    private func start(_ plain: String, _ input: Int32) {
        var info = stat()
        let output = fstat(input, &info) == 0 ? berth_shim_open_unnamed(directory) : -1
        guard output >= 0 else {
            close(input)
            report("cannot compress \(plain): \(errnoText())")
            return
        }
        let source = (UInt64(info.st_dev), UInt64(info.st_ino))
        let comment = "berth-log-source \(source.0):\(source.1)"
        let pid = berth_shim_gzip_spawn(input, output, comment, Int(info.st_mtim.tv_sec))
        guard pid > 0 else {
            report("cannot compress \(plain): fork: \(errnoText())")
            close(input)
            close(output)
            return
        }
        job = (pid, input, output, source)
    }

    /// A child exited: true when it was the compression. On success the next one starts;
    /// after a failure the file stays plain until the next rotation tries again.
    func childExited(_ pid: pid_t, status: Int32) -> Bool {
        guard let running = job, running.pid == pid else { return false }
        if finish(running, status: status) { startNext() }
        return true
    }

    /// Once the container's output is all written, before its end is reported (so before any
    /// new shim can own the log): the running compression and those still due are finished,
    /// blocking. Stops at a failure; the next shim to open the log tries again.
    func finishAll() {
        startNext()
        while let running = job {
            var waitStatus: Int32 = 0
            let pid = waitpid(running.pid, &waitStatus, 0)
            if pid < 0 && errno == EINTR { continue }
            guard finish(running, status: pid == running.pid ? shellStatus(waitStatus) : 1) else { return }
            startNext()
        }
    }

    /// Before the shim exits: only the compression already running is waited for (blocking:
    /// nothing else is left to serve). None is started now: the container may already run
    /// again under a new shim that rotates these files, and the next shim to open the log
    /// compresses what is left.
    func finishRunning() {
        while let running = job {
            var waitStatus: Int32 = 0
            let pid = waitpid(running.pid, &waitStatus, 0)
            if pid < 0 && errno == EINTR { continue }
            _ = finish(running, status: pid == running.pid ? shellStatus(waitStatus) : 1)
        }
    }

    /// Names the finished job's result after where its source is now and removes the plain
    /// file; false when the compression failed.
    private func finish(_ running: (pid: pid_t, input: Int32, output: Int32, source: (UInt64, UInt64)), status: Int32) -> Bool {
        job = nil
        defer {
            close(running.input)
            close(running.output)
        }
        guard status == 0 else {
            report("compressing a rotated log of \(path) failed (status \(status))")
            return false
        }
        if let index = currentIndex(of: running.source) {
            let plain = "\(path).\(index)"
            let target = plain + ".gz"
            unlink(target)  // left by a shim that stopped between naming and removing
            guard berth_shim_link_unnamed(running.output, target) == 0 else {
                report("cannot name \(target): \(errnoText())")
                return true
            }
            unlink(plain)
        }
        return true
    }

    /// Where the source file is now: K for `path.K`, nil when rotated away.
    private func currentIndex(of source: (UInt64, UInt64)) -> Int? {
        var index = 1
        while index < maxFiles {
            var info = stat()
            if stat("\(path).\(index)", &info) == 0, UInt64(info.st_dev) == source.0, UInt64(info.st_ino) == source.1 {
                return index
            }
            index += 1
        }
        return nil
    }

    private func report(_ message: String) {
        writeAll(2, "berth-shim: \(message)\n")
    }

    private var directory: String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        return slash == path.utf8.startIndex ? "/" : String(Substring(path.utf8[..<slash]))
    }
}
