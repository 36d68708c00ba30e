import CBerthShim

/// `runtime create`: the container comes into being with its stdio held by the shim.
enum Startup {
    /// Creates the container and returns its session, with the init's pid; the error is the
    /// runtime's own message when it gave one.
    static func createContainer(_ options: Options) throws(ShimError) -> Session {
        let session = Session(execID: nil, tty: options.tty)
        let state = options.stateDir
        let consolePath = options.tty ? UnixSocket.path(stateDir: state, name: "console.sock") : nil
        // The runtime connects here to hand over the pty master.
        var consoleListener: Int32 = -1
        if let consolePath {
            consoleListener = UnixSocket.listen(path: consolePath) ?? -1
            guard consoleListener >= 0 else { throw ShimError("console socket: \(errnoText())") }
        }
        defer {
            if let consolePath {
                close(consoleListener)
                unlink(consolePath)
            }
        }
        let stdio = try Launch.prepareStdio(session, stdin: options.stdin)
        let runtimeLog = state + "/runtime.log"
        let logOffset = fileSize(runtimeLog)
        var argv = [options.runtime, "--root", options.runtimeRoot, "--log", runtimeLog,
                    "create", "--bundle", options.bundle, "--pid-file", state + "/init.pid"]
        if let consolePath { argv += ["--console-socket", consolePath] }
        argv.append(options.id)
        let pid: pid_t
        do {
            pid = try Launch.spawn(argv, stdio: stdio)
        } catch {
            Launch.closeChildStdio(stdio)
            session.closeAll()
            throw error
        }
        Launch.closeChildStdio(stdio)

        // create returns once the init waits for `start`; it does not wait for us, so a
        // blocking wait is safe. The pty master (if any) is then queued on the console socket.
        var waitStatus: Int32 = 0
        while waitpid(pid, &waitStatus, 0) < 0 && errno == EINTR {}
        if options.tty && shellStatus(waitStatus) == 0 {
            let connection = Launch.acceptConsole(consoleListener)
            let master = connection >= 0 ? Launch.receiveMaster(connection: connection) : -1
            if connection >= 0 { close(connection) }
            if master >= 0 { session.adoptTerminal(master, stdin: options.stdin) }
        }
        let status = shellStatus(waitStatus)
        guard status == 0 else {
            session.closeAll()
            let message = RuntimeLog.lastError(in: readFile(runtimeLog, from: logOffset) ?? [])
            throw ShimError(message ?? "runtime create exited with \(status)")
        }
        guard !options.tty || session.terminal >= 0 else {
            session.closeAll()
            throw ShimError("no terminal came from the runtime's console socket")
        }
        let pidDigits = (readFile(state + "/init.pid") ?? []).filter { $0 != 0x0A && $0 != 0x20 }
        guard let initPid = Int32(String(decoding: pidDigits, as: UTF8.self)), initPid > 0 else {
            session.closeAll()
            throw ShimError("runtime create wrote no pid to \(state)/init.pid")
        }
        session.pid = initPid
        return session
    }
}
