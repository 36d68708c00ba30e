import CBerthShim

/// Children exiting, and the shim's own end.
extension Shim {
    /// Reaps every exited child: ours (runtime start, exec processes and their helpers), the
    /// container's init (a child of ours since `runtime create` exited: we are a subreaper),
    /// and strays.
    func reapChildren() {
        while true {
            var waitStatus: Int32 = 0
            let pid = waitpid(-1, &waitStatus, WNOHANG)
            if pid < 0 && errno == EINTR { continue }
            if pid <= 0 { return }
            let status = shellStatus(waitStatus)
            if pid == container.pid && container.status == nil {
                exited(container, status: status)
                writeExitFile()
                closeNamespaces()
            } else if let session = execs.first(where: { $0.pid == pid && $0.status == nil }) {
                exited(session, status: status)
            } else if let index = starts.firstIndex(where: { $0.pid == pid }) {
                startFinished(index, status: status)
            } else {
                _ = log?.childExited(pid, status: status)
            }
        }
    }

    private func exited(_ session: Session, status: Int32) {
        session.status = status
        session.finishedAt = wallClockNanos()
        session.drainDeadline = monotonicMillis() + Self.drainTime
    }

    /// `<state>/exit`: "STATUS FINISHED_UNIX_NANOS\n", written atomically, so that berthd
    /// learns how the container ended even when the shim is gone. Not flushed to disk: the
    /// state directory lives under /run, and no container outlives a power loss.
    private func writeExitFile() {
        let path = stateDir + "/exit"
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            writeAll(2, "berth-shim: cannot write \(temporary): \(errnoText())\n")
            return
        }
        let written = writeAll(fd, "\(container.status ?? 0) \(container.finishedAt)\n")
        close(fd)
        guard written && rename(temporary, path) == 0 else {
            writeAll(2, "berth-shim: cannot write \(path): \(errnoText())\n")
            return
        }
    }

    /// Runs before every poll: ends what has ended.
    func checkProgress() {
        let now = monotonicMillis()
        for session in execs where session.status != nil && (session.outputEnded || now >= session.drainDeadline) {
            finishExec(session)
        }
        if !containerDone, container.status != nil, container.outputEnded || now >= container.drainDeadline {
            finishContainer()
        }
        if containerDone && ((execs.isEmpty && connections.allSatisfy { $0.isDone }) || now >= exitDeadline) {
            unlink(stateDir + "/shim.sock")
            log?.close()
            exit(0)
        }
    }

    /// The container has exited and its output is drained (or given up on).
    private func finishContainer() {
        for (index, output) in container.outputs.enumerated() where output.fd >= 0 {
            container.closeOutput(index)
            log?.finish(stderr: output.kind == .stderr)
        }
        log?.outputEnded()
        container.closeAll()
        containerDone = true
        exitDeadline = monotonicMillis() + Self.finalFlushTime
        for client in connections {
            switch client.role {
            case .waiter:
                reply(client, exitLine)
            case .attach:
                client.reading = false
                client.closeWhenFlushed = true
            default:
                break
            }
        }
    }
}
