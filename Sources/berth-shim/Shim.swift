import CBerthShim

/// The running shim: one thread, one poll loop over the container's output and input, the
/// exec sessions, the clients of shim.sock and SIGCHLD.
final class Shim {
    let options: Options
    let listener: Int32
    let signals: Int32
    let container: Session
    let log: ContainerLog?
    var execs: [Session] = []
    var connections: [Connection] = []
    /// Successful `runtime start` seen.
    var started = false
    /// `runtime start` processes still running, with the client waiting for the answer.
    var starts: [(pid: pid_t, client: Connection, logOffset: Int)] = []
    /// The container has exited and its output is drained: waiters answered, attach closed.
    var containerDone = false
    /// The container's namespaces for its execs (berth_exec_open_namespaces), opened at the
    /// first exec and closed when the container exits; empty until then.
    var namespaceFDs: [Int32] = []
    /// Once the container is done, the shim exits when every client is served, or at this time.
    var exitDeadline: Int64 = 0

    /// Output is read into this 64 KiB buffer, allocated when output first flows and let go
    /// when the container has been quiet for a while.
    var chunk: UnsafeMutableBufferPointer<UInt8>?
    static let chunkSize = 64 * 1024
    /// Something happened since the last clean-up: after a quiet second, memory goes back.
    var idleCleanupDue = true

    static let drainTime: Int64 = 2000        // ms to wait for output EOF after an exit
    static let finalFlushTime: Int64 = 5000   // ms to flush clients before exiting
    static let idleReleaseTime: Int32 = 1000  // ms of quiet before memory is given back

    init(options: Options, container: Session, log: ContainerLog?, listener: Int32, signals: Int32) {
        self.options = options
        self.container = container
        self.log = log
        self.listener = listener
        self.signals = signals
    }

    var stateDir: String { options.stateDir }

    // MARK: the loop

    /// What one entry of the poll set stands for.
    private enum Target {
        case signals
        case listener
        case output(Session, Int)
        case stdin(Session)
        case report(Session)
        case client(Connection)
    }

    func run() -> Never {
        var fds: [pollfd] = []
        var targets: [Target] = []
        while true {
            checkProgress()
            dropFinishedClients()
            fds.removeAll(keepingCapacity: true)
            targets.removeAll(keepingCapacity: true)
            func watch(_ fd: Int32, _ events: Int32, _ target: Target) {
                fds.append(pollfd(fd: fd, events: Int16(events), revents: 0))
                targets.append(target)
            }
            watch(signals, POLLIN, .signals)
            watch(listener, POLLIN, .listener)
            for session in [container] + execs {
                // An exec's output is read only once its start is reported (the report ends
                // when its helper has exited too, which may come after the first output).
                if session.reportFD >= 0 { watch(session.reportFD, POLLIN, .report(session)) }
                if !isPaused(session) && session.reportFD < 0 {
                    for (index, output) in session.outputs.enumerated() where output.fd >= 0 {
                        watch(output.fd, POLLIN, .output(session, index))
                    }
                }
                if session.stdinWaiting { watch(session.stdinFD, POLLOUT, .stdin(session)) }
            }
            for client in connections {
                var events: Int32 = 0
                if client.reading && acceptsInput(client) { events |= POLLIN }
                if client.unsent > 0 { events |= POLLOUT }
                watch(client.fd, events, .client(client))
            }

            let timeout = pollTimeout()
            let ready = poll(&fds, nfds_t(fds.count), timeout)
            if ready < 0 {
                if errno == EINTR { continue }
                writeAll(2, "berth-shim: poll: \(errnoText())\n")
                continue
            }
            if ready == 0 {
                if idleCleanupDue { releaseIdleMemory() }
                continue
            }
            idleCleanupDue = true
            for (entry, target) in zip(fds, targets) where entry.revents != 0 {
                let events = Int32(entry.revents)
                switch target {
                case .signals:
                    berth_shim_drain_signalfd(signals)
                    reapChildren()
                case .listener:
                    acceptClients()
                case .output(let session, let index):
                    // Still the same descriptor: an earlier handler may have closed it.
                    if index < session.outputs.count && session.outputs[index].fd == entry.fd {
                        readOutput(session, index)
                    }
                case .stdin(let session):
                    if session.stdinFD == entry.fd {
                        if events & (POLLERR | POLLHUP) != 0 { session.closeStdin() } else { session.flushStdin() }
                    }
                case .report(let session):
                    if session.reportFD == entry.fd { reportEvent(session) }
                case .client(let client):
                    clientEvent(client, events)
                }
            }
        }
    }

    /// -1 (no timeout) unless a deadline or the idle release is due.
    private func pollTimeout() -> Int32 {
        var deadlines: [Int64] = []
        for session in [container] + execs where session.status != nil && !session.outputEnded {
            deadlines.append(session.drainDeadline)
        }
        if containerDone { deadlines.append(exitDeadline) }
        var timeout: Int32 = idleCleanupDue ? Self.idleReleaseTime : -1
        if let soonest = deadlines.min() {
            let wait = Int32(clamping: max(0, soonest - monotonicMillis()))
            timeout = timeout < 0 ? wait : min(timeout, wait)
        }
        return timeout
    }

    /// Backpressure: a session's output is not read while one of its clients has more than
    /// 1 MiB it has not taken yet. The log is written as output is read, so it misses nothing.
    private func isPaused(_ session: Session) -> Bool {
        if session.isContainer {
            return connections.contains { $0.isAttach && $0.unsent > Connection.backpressureLimit }
        }
        return (session.client?.unsent ?? 0) > Connection.backpressureLimit
    }

    /// A client's input is read while the stdin it feeds can take more.
    private func acceptsInput(_ client: Connection) -> Bool {
        switch client.role {
        case .attach(let stdin, _, _):
            return !stdin || container.stdinBacklog <= Connection.backpressureLimit
        case .exec(let session):
            return session.stdinBacklog <= Connection.backpressureLimit
        default:
            return true
        }
    }

    // MARK: output

    private func readOutput(_ session: Session, _ index: Int) {
        let buffer = outputBuffer()
        let output = session.outputs[index]
        let n = read(output.fd, buffer.baseAddress, buffer.count)
        if n > 0 {
            let bytes = UnsafeBufferPointer(rebasing: buffer[..<n])
            if session.isContainer { log?.write(bytes, stderr: output.kind == .stderr) }
            deliver(bytes, kind: output.kind, from: session)
        } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
            // EOF; a pty master reads EIO once no process holds the terminal any more.
            session.closeOutput(index)
            if session.isContainer { log?.finish(stderr: output.kind == .stderr) }
        }
    }

    private func outputBuffer() -> UnsafeMutableBufferPointer<UInt8> {
        if let chunk { return chunk }
        let fresh = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: Self.chunkSize)
        chunk = fresh
        return fresh
    }

    /// A quiet shim keeps as little as it can: the output buffers go back to the heap and the
    /// free heap to the kernel; they come back on the next event.
    private func releaseIdleMemory() {
        chunk?.deallocate()
        chunk = nil
        log?.releaseMemory()
        berth_shim_release_memory()
        idleCleanupDue = false
    }

    private func deliver(_ bytes: UnsafeBufferPointer<UInt8>, kind: FrameKind, from session: Session) {
        if session.isContainer {
            for client in connections where client.wants(kind) {
                client.sendFrame(kind, bytes)
            }
            return
        }
        session.client?.sendFrame(kind, bytes)
    }

    // MARK: clients

    private func acceptClients() {
        while true {
            let fd = UnixSocket.accept(listener)
            if fd < 0 {
                if errno == EINTR { continue }
                return
            }
            connections.append(Connection(fd: fd))
        }
    }

    private func clientEvent(_ client: Connection, _ events: Int32) {
        if events & POLLOUT != 0 { client.flush() }
        if client.reading && events & (POLLIN | POLLHUP | POLLERR) != 0 { readClient(client) }
        // A full hang-up (not a half-close): nobody is left to read what we would send.
        if events & (POLLHUP | POLLERR) != 0 && !client.reading { client.broken = true }
    }

    private func readClient(_ client: Connection) {
        let buffer = outputBuffer()
        let n = read(client.fd, buffer.baseAddress, buffer.count)
        if n < 0 {
            if errno != EAGAIN && errno != EINTR { client.broken = true }
            return
        }
        if n == 0 {
            clientInputEnded(client)
            return
        }
        var bytes = UnsafeBufferPointer(rebasing: buffer[..<n])
        if case .request = client.role {
            guard let newline = bytes.firstIndex(of: 0x0A) else {
                client.line.append(contentsOf: bytes)
                if client.line.count > Request.maxLineLength { reject(client, "request too long") }
                return
            }
            client.line.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[..<newline]))
            let text = String(decoding: client.line, as: UTF8.self)
            client.line = []
            bytes = UnsafeBufferPointer(rebasing: bytes[(newline + 1)...])
            switch Request.parse(text) {
            case .success(let request): handle(request, from: client)
            case .failure(let error): reject(client, error.message)
            }
        }
        if case .execPlan(let id, let tty, let stdin, let length) = client.role {
            let take = min(length - client.line.count, bytes.count)
            client.line.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[..<take]))
            bytes = UnsafeBufferPointer(rebasing: bytes[take...])
            guard client.line.count == length else { return }
            let plan = client.line
            client.line = []
            startExec(id: id, tty: tty, stdin: stdin, plan: plan, client: client)
        }
        if bytes.isEmpty { return }
        forwardInput(bytes, from: client)
    }

    /// Bytes a client sends after its request line: input for the container or its exec.
    private func forwardInput(_ bytes: UnsafeBufferPointer<UInt8>, from client: Connection) {
        switch client.role {
        case .attach(let stdin, _, _) where stdin:
            container.queueStdin(bytes)
        case .exec(let session):
            session.queueStdin(bytes)
        default:
            break  // nothing takes input here: it is dropped
        }
    }

    /// The client half-closed its side.
    private func clientInputEnded(_ client: Connection) {
        client.reading = false
        switch client.role {
        case .request, .execPlan:
            client.broken = true  // gone before saying what it wanted
        case .attach(let stdin, _, _):
            if stdin && options.stdinOnce { container.endStdin() }
        case .exec(let session):
            session.endStdin()
        case .waiter, .reply:
            break
        }
    }

    func reject(_ client: Connection, _ message: String) {
        reply(client, "error " + message)
    }

    /// One line of answer, then the connection closes.
    func reply(_ client: Connection, _ line: String) {
        client.role = .reply
        client.reading = false
        client.sendLine(line)
        client.closeWhenFlushed = true
    }

    private func dropFinishedClients() {
        guard connections.contains(where: { $0.isDone }) else { return }
        connections.removeAll { client in
            guard client.isDone else { return false }
            close(client.fd)
            if let session = client.session, session.client === client {
                // Its exec goes on; the output has nowhere to go and stdin ends.
                session.client = nil
                session.endStdin()
            }
            return true
        }
    }
}
