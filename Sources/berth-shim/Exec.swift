import CBerthShim

/// Exec sessions: `runtime exec` in the foreground, with pipes or a pty of its own, its
/// output framed to the one client that asked for it.
extension Shim {
    func startExec(id: String, tty: Bool, stdin: Bool, processPath: String, client: Connection) {
        guard container.status == nil else { return reject(client, "container is not running") }
        guard !execs.contains(where: { $0.isExec(id) }) else { return reject(client, "exec \(id) is already running") }
        let session = Session(execID: id, tty: tty)
        session.logPath = stateDir + "/exec-\(id).log"
        session.pidFilePath = stateDir + "/exec-\(id).pid"
        unlink(session.logPath)
        unlink(session.pidFilePath)
        let consolePath = tty ? UnixSocket.path(stateDir: stateDir, name: "exec-\(id).sock") : nil
        do {
            let stdio = try Launch.prepareStdio(session, stdin: stdin, consolePath: consolePath)
            defer { Launch.closeChildStdio(stdio) }
            var argv = [options.runtime, "--root", options.runtimeRoot, "--log", session.logPath,
                        "exec", "--process", processPath, "--pid-file", session.pidFilePath]
            if let consolePath { argv += ["--console-socket", consolePath] }
            argv.append(options.id)
            session.pid = try Launch.spawn(argv, stdio: stdio)
        } catch {
            session.closeAll()
            removeExecFiles(session)
            return reject(client, error.message)
        }
        // With a TTY the master's stdin copy is made when the master arrives.
        session.wantsStdin = stdin
        session.client = client
        client.role = .exec(session)
        execs.append(session)
        client.sendLine("ok")
    }

    /// The runtime connected to the exec's console socket.
    func acceptConsole(_ session: Session) {
        let connection = Launch.acceptConsole(session.consoleListener)
        guard connection >= 0 else { return }
        // One connection is all there will be.
        closeIfOpen(&session.consoleListener)
        session.consoleConnection = connection
    }

    /// The pty master arrives (or the runtime hung up without sending one).
    func receiveConsole(_ session: Session) {
        let master = Launch.receiveMaster(connection: session.consoleConnection)
        if master < 0 && errno == EAGAIN { return }
        session.closeConsole()
        if master >= 0 { session.adoptTerminal(master, stdin: session.wantsStdin) }
    }

    /// Once the runtime has exited, whatever it sent on the console socket is already there:
    /// take it now, and stop waiting for more.
    func collectConsole(_ session: Session) {
        if session.consoleListener >= 0 { acceptConsole(session) }
        if session.consoleConnection >= 0 { receiveConsole(session) }
        session.closeConsole()
    }

    /// The exec's runtime has exited and its output is drained: the last frame says how it
    /// ended, then the connection closes.
    func finishExec(_ session: Session) {
        session.closeAll()
        let message = RuntimeLog.lastError(in: readFile(session.logPath) ?? [])
        if let client = session.client {
            if let message {
                // Held stderr is the runtime's own report of this message: not sent twice.
                Array(message.utf8).withUnsafeBufferPointer { client.sendFrame(.execFailed, $0) }
            } else {
                releaseHeldStderr(session)
                // "<status> <pid>": the pid the runtime wrote, which inspect keeps showing.
                var payload = Array("\(session.status ?? 0)".utf8)
                let pid = (readFile(session.pidFilePath) ?? []).filter { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
                if !pid.isEmpty { payload += [UInt8(ascii: " ")] + pid }
                payload.withUnsafeBufferPointer { client.sendFrame(.execExit, $0) }
            }
            client.reading = false
            client.closeWhenFlushed = true
        }
        removeExecFiles(session)
        execs.removeAll { $0 === session }
    }

    private func removeExecFiles(_ session: Session) {
        unlink(session.logPath)
        unlink(session.pidFilePath)
    }
}
