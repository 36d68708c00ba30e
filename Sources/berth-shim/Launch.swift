import CBerthShim

struct ShimError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Starting a process (the OCI runtime, an exec's helper) with a session's stdio.
enum Launch {
    /// Sets up the session's side of its stdio and returns the three descriptors the child
    /// gets as its 0, 1 and 2 (the container's process inherits them). With a TTY they are
    /// /dev/null: the process's stdio is the pty made in the container, whose master comes
    /// back over a console socket.
    static func prepareStdio(_ session: Session, stdin: Bool) throws(ShimError) -> [Int32] {
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard null >= 0 else { throw ShimError("open /dev/null: \(errnoText())") }
        if session.tty { return [null, null, null] }
        var childFDs = [null, null, null]
        var failed = false
        func pipeFor(_ target: Int) -> (read: Int32, write: Int32)? {
            guard let ends = makePipe() else {
                failed = true
                return nil
            }
            return ends
        }
        if stdin, let ends = pipeFor(0) {
            setNonBlocking(ends.write)
            session.stdinFD = ends.write
            childFDs[0] = ends.read
        }
        if let ends = pipeFor(1) {
            setNonBlocking(ends.read)
            session.outputs.append(.init(fd: ends.read, kind: .stdout))
            childFDs[1] = ends.write
        }
        if let ends = pipeFor(2) {
            setNonBlocking(ends.read)
            session.outputs.append(.init(fd: ends.read, kind: .stderr))
            childFDs[2] = ends.write
        }
        // With stdin, stdout and stderr all on pipes, /dev/null is nobody's: kept, it would
        // leak one descriptor per `exec -i` for as long as the container runs.
        if !childFDs.contains(null) { close(null) }
        if failed {
            let message = "pipe: \(errnoText())"
            closeChildStdio(childFDs)
            session.closeAll()
            throw ShimError(message)
        }
        return childFDs
    }

    /// The child's copies are closed once it has them, so that EOF on the output pipes means
    /// the container's processes have closed theirs.
    static func closeChildStdio(_ fds: [Int32]) {
        var closed: [Int32] = []
        for fd in fds where fd >= 0 && !closed.contains(fd) {
            close(fd)
            closed.append(fd)
        }
    }

    /// Spawns `argv` (argv[0] is the path) with `stdio` as its 0, 1, 2; same session and
    /// environment as the shim. Returns the pid, or throws.
    static func spawn(_ argv: [String], stdio: [Int32]) throws(ShimError) -> pid_t {
        let map: [Int32] = [stdio[0], 0, stdio[1], 1, stdio[2], 2]
        let pid = withCStrings(argv) { cArgs in
            map.withUnsafeBufferPointer { berth_spawn(argv[0], cArgs, berth_shim_environ(), $0.baseAddress, 3, 0) }
        }
        guard pid > 0 else { throw ShimError("cannot run \(argv[0]): \(errnoText())") }
        return pid
    }

    /// Takes the pty master sent on a console socket connection; -1 if none came.
    static func receiveMaster(connection: Int32) -> Int32 {
        var message = [CChar](repeating: 0, count: 64)
        return berth_recv_fd(connection, &message, message.count)
    }

    /// Accepts a pending connection on a (non-blocking) console listener; -1 if none.
    static func acceptConsole(_ listener: Int32) -> Int32 {
        UnixSocket.accept(listener)
    }
}
