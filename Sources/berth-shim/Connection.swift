import CBerthShim

/// One client of shim.sock. It starts by sending a request line; what it becomes depends on
/// the request (see `Request`). Its socket is non-blocking: what cannot be written at once
/// waits in `pending`, which is what backpressure is measured on.
final class Connection {
    enum Role {
        case request                       // still reading the request line
        case execPlan(id: String, tty: Bool, stdin: Bool, length: Int)  // reading the plan after it
        case attach(stdin: Bool, stdout: Bool, stderr: Bool)
        case exec(Session)
        case waiter                        // `wait`: answered when the container is done
        case reply                         // answered; closes once flushed
    }

    let fd: Int32
    var role = Role.request
    /// The request line (then an exec's plan) read so far.
    var line: [UInt8] = []
    /// Bytes not yet accepted by the socket, from `pendingStart` on.
    private var pending: [UInt8] = []
    private var pendingStart = 0
    /// False once the client has half-closed its side (or its input is of no use).
    var reading = true
    /// Set when nothing more will be sent: the connection closes once `pending` is flushed.
    var closeWhenFlushed = false
    /// Set on a write error or a hang-up: the shim drops the connection.
    var broken = false

    /// More than this unsent, and the output feeding this client stops being read.
    static let backpressureLimit = 1 << 20

    init(fd: Int32) {
        self.fd = fd
    }

    var unsent: Int { pending.count - pendingStart }
    var isDone: Bool { broken || (closeWhenFlushed && unsent == 0) }

    var session: Session? {
        if case .exec(let session) = role { return session }
        return nil
    }

    var isAttach: Bool {
        if case .attach = role { return true }
        return false
    }

    func wants(_ kind: FrameKind) -> Bool {
        guard case .attach(_, let stdout, let stderr) = role else { return false }
        return kind == .stdout ? stdout : stderr
    }

    func sendLine(_ text: String) {
        send(Array((text + "\n").utf8))
    }

    func send(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { send(header: nil, $0) }
    }

    func sendFrame(_ kind: FrameKind, _ payload: UnsafeBufferPointer<UInt8>) {
        send(header: FrameHeader(kind: kind, length: payload.count), payload)
    }

    /// Writes at once what the socket takes (header and payload in one writev) and keeps the
    /// rest; when older bytes are still waiting, the new ones queue behind them.
    private func send(header: FrameHeader?, _ payload: UnsafeBufferPointer<UInt8>) {
        guard !broken else { return }
        var headerBytes = (header ?? FrameHeader(kind: 0, length: 0)).bytes
        let headerSize = header == nil ? 0 : FrameHeader.size
        var written = 0
        if unsent == 0 {
            written = withUnsafeMutableBytes(of: &headerBytes) { headerBytes in
                var vectors = [
                    iovec(iov_base: headerBytes.baseAddress, iov_len: headerSize),
                    iovec(iov_base: UnsafeMutableRawPointer(mutating: payload.baseAddress), iov_len: payload.count),
                ]
                let n = writev(fd, &vectors, 2)
                if n < 0 {
                    if errno != EAGAIN && errno != EINTR { broken = true }
                    return 0
                }
                return n
            }
            if broken { return }
        }
        if written < headerSize {
            withUnsafeBytes(of: headerBytes) { pending.append(contentsOf: $0[written...]) }
        }
        let payloadWritten = max(0, written - headerSize)
        if payloadWritten < payload.count {
            pending.append(contentsOf: UnsafeBufferPointer(rebasing: payload[payloadWritten...]))
        }
    }

    /// Writes what is pending; called when poll says the socket is writable.
    func flush() {
        while unsent > 0 && !broken {
            let n = pending.withUnsafeBytes { write(fd, $0.baseAddress! + pendingStart, unsent) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno != EAGAIN { broken = true }
                break
            }
            pendingStart += n
        }
        if unsent == 0 {
            // Drop the buffer's memory, not just its contents: most of the time it is empty.
            pending = []
            pendingStart = 0
        } else if pendingStart > 1 << 16 && pendingStart > pending.count / 2 {
            pending.removeFirst(pendingStart)
            pendingStart = 0
        }
    }
}
