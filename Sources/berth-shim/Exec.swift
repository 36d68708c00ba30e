import CBerthShim

/// Exec sessions: the shim starts the process itself (berth_exec_spawn, without a runtime
/// process), holds its pipes or pty, and frames its output to the one client that asked.
extension Shim {
    /// Longest time the shim waits for the exec's helper to enter the container and report
    /// the process's pid (it takes well under a millisecond; a frozen cgroup can stop it).
    static let helperTimeout: Int64 = 5000

    func startExec(id: String, tty: Bool, stdin: Bool, plan: [UInt8], client: Connection) {
        guard container.status == nil else { return reject(client, "container is not running") }
        guard !execs.contains(where: { $0.isExec(id) }) else { return reject(client, "exec \(id) is already running") }
        var error = [CChar](repeating: 0, count: 256)
        let parsed = plan.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { berth_exec_plan_parse($0.baseAddress, $0.count, &error, error.count) }
        }
        guard let parsed else {
            return reject(client, String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        defer { berth_exec_plan_free(parsed) }
        let session = Session(execID: id, tty: tty)
        var helper: pid_t = -1
        do throws(ShimError) {
            let stdio = try Launch.prepareStdio(session, stdin: stdin)
            defer { Launch.closeChildStdio(stdio) }
            var console: Int32 = -1
            if tty {
                guard let (ours, theirs) = makeSocketPair() else { throw ShimError("socketpair: \(errnoText())") }
                setNonBlocking(ours)
                session.consoleChannel = ours
                console = theirs
            }
            defer { if console >= 0 { close(console) } }
            let namespaces = try openNamespaces()
            guard let report = makePipe() else { throw ShimError("pipe: \(errnoText())") }
            session.reportFD = report.read
            helper = namespaces.withUnsafeBufferPointer { namespaces in
                stdio.withUnsafeBufferPointer { berth_exec_spawn(parsed, namespaces.baseAddress, $0.baseAddress, console, report.write) }
            }
            close(report.write)
            guard helper > 0 else { throw ShimError("fork: \(errnoText())") }
        } catch {
            session.closeAll()
            return reject(client, error.message)
        }
        session.pid = awaitProcess(session, helper: helper)
        if session.pid <= 0 {
            // Nothing runs: the reason goes out as the exec's last frame.
            session.failure = session.failure ?? "the exec's helper exited without starting the process"
            session.status = 126
            session.closeAll()
        } else {
            setNonBlocking(session.reportFD)
        }
        // With a TTY the master's stdin copy is made when the master arrives.
        session.wantsStdin = stdin
        session.client = client
        client.role = .exec(session)
        execs.append(session)
        client.sendLine("ok")
    }

    /// The container's namespaces, opened at the first exec and kept until the container exits.
    private func openNamespaces() throws(ShimError) -> [Int32] {
        if namespaceFDs.isEmpty {
            var fds = [Int32](repeating: -1, count: Int(BERTH_EXEC_NAMESPACES))
            var error = [CChar](repeating: 0, count: 256)
            guard berth_exec_open_namespaces(container.pid, &fds, &error, error.count) == 0 else {
                throw ShimError(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            namespaceFDs = fds
        }
        return namespaceFDs
    }

    func closeNamespaces() {
        guard !namespaceFDs.isEmpty else { return }
        berth_exec_close_namespaces(&namespaceFDs)
        namespaceFDs = []
    }

    /// Reads the helper's report until it names the process (blocking, bounded): the process
    /// must be known before the next SIGCHLD is handled, or its exit would find no session.
    /// Returns its pid, or 0 with `session.failure` set.
    private func awaitProcess(_ session: Session, helper: pid_t) -> pid_t {
        let deadline = monotonicMillis() + Self.helperTimeout
        var ended = false
        while true {
            for record in ExecReport.records(in: session.report) {
                if let pid = ExecReport.pid(in: record) { return pid }
                if let message = ExecReport.error(in: record) { session.failure = message }
            }
            if ended { return 0 }
            let left = deadline - monotonicMillis()
            if left <= 0 {
                _ = CBerthShim.kill(helper, SIGKILL)
                session.failure = "the exec's helper did not enter the container within \(Self.helperTimeout / 1000) s"
                return 0
            }
            var entry = pollfd(fd: session.reportFD, events: Int16(POLLIN), revents: 0)
            if poll(&entry, 1, Int32(left)) > 0 { ended = readReport(session) == .ended }
        }
    }

    private enum ReportRead { case data, wouldBlock, ended }

    private func readReport(_ session: Session) -> ReportRead {
        var chunk = [UInt8](repeating: 0, count: 512)
        while true {
            let n = read(session.reportFD, &chunk, chunk.count)
            if n > 0 {
                session.report += chunk[0..<n]
                return .data
            }
            if n < 0 && errno == EINTR { continue }
            return n < 0 && errno == EAGAIN ? .wouldBlock : .ended
        }
    }

    /// The report pipe is readable (poll loop): at its end the process has exec'd or failed.
    func reportEvent(_ session: Session) {
        var read = readReport(session)
        while read == .data { read = readReport(session) }
        if read == .wouldBlock { return }
        closeIfOpen(&session.reportFD)
        for record in ExecReport.records(in: session.report) {
            if let message = ExecReport.error(in: record) { session.failure = message }
        }
        session.report = []
        if case .some = session.failure {
            closeIfOpen(&session.consoleChannel)
            return
        }
        if session.tty {
            // Sent before the process exec'd, so it is already queued.
            let master = Launch.receiveMaster(connection: session.consoleChannel)
            closeIfOpen(&session.consoleChannel)
            if master >= 0 { session.adoptTerminal(master, stdin: session.wantsStdin) }
        }
        let pid = Array("\(session.pid)".utf8)
        pid.withUnsafeBufferPointer { session.client?.sendFrame(.execStarted, $0) }
    }

    /// The exec's process has exited and its output is drained: the last frame says how it
    /// ended, then the connection closes.
    func finishExec(_ session: Session) {
        session.closeAll()
        if let client = session.client {
            if let message = session.failure {
                Array(message.utf8).withUnsafeBufferPointer { client.sendFrame(.execFailed, $0) }
            } else {
                // "<status> <pid>": the pid inspect keeps showing.
                Array("\(session.status ?? 0) \(session.pid)".utf8).withUnsafeBufferPointer { client.sendFrame(.execExit, $0) }
            }
            client.reading = false
            client.closeWhenFlushed = true
        }
        execs.removeAll { $0 === session }
    }
}
