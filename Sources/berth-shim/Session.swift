import CBerthShim

/// The stdio of one process the shim runs: the container's init, or one exec. Output comes
/// from pipes (stdout, stderr) or a pty master; input goes into a pipe or the same master.
final class Session {
    struct Output {
        var fd: Int32
        let kind: FrameKind
    }

    /// nil for the container itself.
    let execID: String?
    let tty: Bool
    /// The container's init, or the exec's process.
    var pid: pid_t = 0
    var outputs: [Output] = []
    /// The pty master, for resizing (also one of `outputs`).
    var terminal: Int32 = -1
    /// A size asked for before an exec's terminal arrived, applied when it does.
    var pendingSize: (rows: UInt16, cols: UInt16)?
    /// Where client input goes; -1 when the process has no stdin (or it was closed).
    var stdinFD: Int32 = -1
    private var stdinPending: [UInt8] = []
    private var stdinPendingStart = 0
    private var closeStdinWhenFlushed = false

    /// Set when the process has been reaped: shell-style status and the wall-clock time.
    var status: Int32?
    var finishedAt: Int64 = 0
    /// After the process exits, output is read until EOF or until this (monotonic ms): a
    /// stray process that kept the pipes open must not keep the shim from finishing.
    var drainDeadline: Int64 = 0

    // Exec only.
    /// The read end of the exec's report pipe (see berth_exec_spawn) until its EOF: the
    /// process has exec'd, or failed and said why.
    var reportFD: Int32 = -1
    var report: [UInt8] = []
    /// With a TTY: the shim's end of the socket pair the process sends its pty master on.
    var consoleChannel: Int32 = -1
    /// Why the process could not start (from the report), sent as the frame 17.
    var failure: String?
    /// The client that asked for the exec. Not weak (Embedded Swift has no weak references):
    /// the shim clears it when it drops that connection, which ends the cycle through the
    /// connection's role.
    var client: Connection?
    /// Whether the exec asked for stdin (with a TTY it is set up when the master arrives).
    var wantsStdin = false

    init(execID: String?, tty: Bool) {
        self.execID = execID
        self.tty = tty
    }

    /// (Not `execID == nil`: unoptimized, that calls String's ==, which Embedded Swift can
    /// only link with the Unicode tables; see ASCIIWords.swift.)
    var isContainer: Bool {
        if case .none = execID { true } else { false }
    }

    /// Whether this is the exec `id` (compared as bytes: see ASCIIWords.swift).
    func isExec(_ id: String) -> Bool {
        execID?.hasSameBytes(as: id) ?? false
    }

    var outputEnded: Bool {
        reportFD < 0 && outputs.allSatisfy { $0.fd < 0 }
    }

    var stdinBacklog: Int { stdinPending.count - stdinPendingStart }
    var stdinWaiting: Bool { stdinFD >= 0 && stdinBacklog > 0 }

    /// Takes the pty master the exec's process sent: it is the output, the terminal, and,
    /// through a second descriptor that can be closed on its own, the stdin.
    func adoptTerminal(_ master: Int32, stdin: Bool) {
        setNonBlocking(master)
        terminal = master
        if let size = pendingSize { _ = berth_set_winsize(master, size.rows, size.cols) }
        outputs = [Output(fd: master, kind: .stdout)]
        if stdin {
            stdinFD = fcntl(master, F_DUPFD_CLOEXEC, 3)
            flushStdin()  // what the client typed while the terminal was on its way
        }
    }

    func closeOutput(_ index: Int) {
        let fd = outputs[index].fd
        guard fd >= 0 else { return }
        close(fd)
        if fd == terminal { terminal = -1 }
        outputs[index].fd = -1
    }

    func closeAll() {
        for index in outputs.indices { closeOutput(index) }
        closeStdin()
        closeIfOpen(&reportFD)
        closeIfOpen(&consoleChannel)
    }

    // MARK: stdin

    /// An exec's terminal is on its way (its process sends it before it execs).
    var terminalPending: Bool {
        tty && terminal < 0 && consoleChannel >= 0
    }

    func queueStdin(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard stdinFD >= 0 || (terminalPending && wantsStdin), !closeStdinWhenFlushed else { return }
        stdinPending.append(contentsOf: bytes)
        flushStdin()
    }

    /// Closes stdin once what was queued has been written: the process reads EOF.
    func endStdin() {
        closeStdinWhenFlushed = true
        flushStdin()
    }

    func flushStdin() {
        while stdinFD >= 0 && stdinBacklog > 0 {
            let n = stdinPending.withUnsafeBytes { write(stdinFD, $0.baseAddress! + stdinPendingStart, stdinBacklog) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno != EAGAIN { closeStdin() }  // the reader is gone
                break
            }
            stdinPendingStart += n
        }
        if stdinBacklog == 0 {
            stdinPending = []
            stdinPendingStart = 0
            if closeStdinWhenFlushed { closeStdin() }
        }
    }

    func closeStdin() {
        closeIfOpen(&stdinFD)
        stdinPending = []
        stdinPendingStart = 0
    }
}
