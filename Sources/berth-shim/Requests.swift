import CBerthShim

/// Answers to the requests of shim.sock (the protocol is described on `Request`).
extension Shim {
    func handle(_ request: Request, from client: Connection) {
        switch request {
        case .start:
            startContainer(client)
        case .attach(let stdin, let stdout, let stderr):
            client.role = .attach(stdin: stdin, stdout: stdout, stderr: stderr)
            client.sendLine("ok")
            // Attached after the end: there is nothing more to send.
            if containerDone { client.closeWhenFlushed = true }
        case .exec(let id, let tty, let stdin, let planLength):
            // The plan follows the line; the exec starts once it is all here.
            client.role = .execPlan(id: id, tty: tty, stdin: stdin, length: planLength)
        case .resize(let rows, let cols):
            resize(container, rows: rows, cols: cols, client: client)
        case .resizeExec(let id, let rows, let cols):
            guard let session = execs.first(where: { $0.isExec(id) }) else {
                return reject(client, "no such exec: \(id)")
            }
            resize(session, rows: rows, cols: cols, client: client)
        case .kill(let signal):
            // The init is our child: until we reap it, its pid cannot name another process.
            guard container.status == nil else { return reject(client, "container is not running") }
            if CBerthShim.kill(container.pid, signal) == 0 {
                reply(client, "ok")
            } else {
                reject(client, "kill \(container.pid): \(errnoText())")
            }
        case .wait:
            if containerDone {
                reply(client, exitLine)
            } else {
                client.role = .waiter
            }
        case .state:
            if let status = container.status {
                reply(client, "exited \(status) \(container.finishedAt)")
            } else {
                reply(client, "\(started ? "running" : "created") \(container.pid)")
            }
        }
    }

    /// "exit STATUS FINISHED_UNIX_NANOS", then for journald "journal EPOCH LAST_ORDINAL".
    var exitLine: String {
        "exit \(container.status ?? 0) \(container.finishedAt)" + (log?.endNote.map { " " + $0 } ?? "")
    }

    private func resize(_ session: Session, rows: UInt16, cols: UInt16, client: Connection) {
        if session.terminalPending {
            // `docker exec -it` resizes right after the start, maybe before the pty is here.
            session.pendingSize = (rows, cols)
            return reply(client, "ok")
        }
        guard session.terminal >= 0 else { return reject(client, "no terminal") }
        if berth_set_winsize(session.terminal, rows, cols) == 0 {
            reply(client, "ok")
        } else {
            reject(client, "resize: \(errnoText())")
        }
    }

    /// Lets the created container exec its process. Like runc, berth-runtime parks the init on
    /// `<root>/<id>/exec.fifo` until `start` writes a byte there; the shim writes it itself,
    /// which spares a runtime process per start. Without the fifo, `runtime start` runs.
    private func startContainer(_ client: Connection) {
        guard container.status == nil else { return reject(client, "container is not running") }
        let fifo = options.runtimeRoot + "/" + options.id + "/exec.fifo"
        let fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        if fd >= 0 {
            var byte: UInt8 = 0
            let written = write(fd, &byte, 1)
            close(fd)
            guard written == 1 else { return reject(client, "cannot start the container: write exec fifo: \(errnoText())") }
            unlink(fifo)
            started = true
            return reply(client, "ok")
        }
        if errno == ENXIO { return reject(client, "cannot start the container: its init has exited") }
        let runtimeLog = stateDir + "/runtime.log"
        let argv = [options.runtime, "--root", options.runtimeRoot, "--log", runtimeLog, "start", options.id]
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { if null >= 0 { close(null) } }
        do {
            let pid = try Launch.spawn(argv, stdio: [null, null, null])
            client.role = .reply
            client.reading = false
            starts.append((pid, client, fileSize(runtimeLog)))
        } catch {
            reject(client, error.message)
        }
    }

    func startFinished(_ index: Int, status: Int32) {
        let start = starts.remove(at: index)
        if status == 0 {
            started = true
            reply(start.client, "ok")
        } else {
            let text = readFile(stateDir + "/runtime.log", from: start.logOffset) ?? []
            reject(start.client, RuntimeLog.lastError(in: text) ?? "runtime start exited with \(status)")
        }
    }
}
