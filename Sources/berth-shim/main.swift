import CBerthShim

// berth-shim: one per container, started by berthd and outliving it. It creates the container
// through the runtime, holds its stdio, writes its log, serves attach/exec/wait/kill on
// <state>/shim.sock, reaps it and records how it ended. See DESIGN.md and `Request`.

/// fd 3, when berthd gave it: where the shim says `listening` once its socket takes
/// connections, then `ok PID` or `error MESSAGE` once.
let readyFD: Int32 = fcntl(3, F_GETFD) >= 0 ? 3 : -1
if readyFD >= 0 { _ = fcntl(readyFD, F_SETFD, FD_CLOEXEC) }

func fail(_ code: Int32, _ message: String, usage: Bool = false) -> Never {
    if readyFD >= 0 { writeAll(readyFD, "error \(String(decoding: message.utf8.filter { $0 != 0x0A }, as: UTF8.self))\n") }
    writeAll(2, "berth-shim: \(message)\n" + (usage ? Options.usage + "\n" : ""))
    exit(code)
}

/// The arguments after the program's name (Embedded Swift has no CommandLine).
func commandLineArguments() -> [String] {
    let argv = berth_shim_argv()
    return (1..<max(1, Int(berth_shim_argc()))).compactMap { index in argv?[index].map { String(cString: $0) } }
}

/// Everything up to the poll loop. A function rather than top-level code: its values are
/// locals, not globals that Swift 6 would have to prove safe to share.
func start() -> Never {
    let options: Options
    do {
        options = try Options.parse(commandLineArguments())
    } catch {
        fail(2, error.message, usage: true)
    }

    // With --detach the first process exits at once for its starter to reap, and its child
    // goes on, nobody's child but init's (a fork of this small process is cheap; berthd spawns
    // us without copying itself).
    if options.detach {
        let child = fork()
        guard child >= 0 else { fail(1, "fork: \(errnoText())") }
        if child > 0 { _exit(0) }
    }

    // Relative socket paths (for long state paths) are relative to the state directory.
    guard chdir(options.stateDir) == 0 else { fail(1, "state directory \(options.stateDir): \(errnoText())") }

    // SIGCHLD is taken through a signalfd in the poll loop; orphans of the container become ours.
    let signals = berth_shim_sigchld_fd()
    guard signals >= 0 else { fail(1, "signalfd: \(errnoText())") }
    guard berth_set_child_subreaper() == 0 else { fail(1, "child subreaper: \(errnoText())") }

    // Opened before the container exists: a log that cannot be written fails the start.
    let log: ContainerLog?
    do {
        log = try ContainerLog.open(options)
    } catch {
        fail(1, error.message)
    }

    // Listening before the runtime creates: berthd's attachments (`docker run`) connect
    // meanwhile, and are served once the container exists, before it is started.
    let socketPath = UnixSocket.path(stateDir: options.stateDir, name: "shim.sock")
    guard let listener = UnixSocket.listen(path: socketPath) else {
        fail(1, "listen on \(options.stateDir)/shim.sock: \(errnoText())")
    }
    if readyFD >= 0 { writeAll(readyFD, "listening\n") }

    let container: Session
    do {
        container = try Startup.createContainer(options)
    } catch {
        // Who connected meanwhile finds the connection reset when we exit.
        unlink(socketPath)
        fail(1, error.message)
    }

    if readyFD >= 0 {
        writeAll(readyFD, "ok \(container.pid)\n")
        close(readyFD)
    }

    Shim(options: options, container: container, log: log, listener: listener, signals: signals).run()
}

start()
