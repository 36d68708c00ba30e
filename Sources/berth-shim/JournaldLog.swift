import CBerthShim

/// The journald log driver: each record is one datagram on journald's native socket, with
/// the fields of dockerd's driver. Every entry is numbered in this writer's sequence (its
/// epoch, random per shim), and the number of the last one journald took is reported with
/// the exit, so that berthd's reader knows when it has read everything. When journald is not
/// there the records are dropped (the container must not stall on it).
final class JournaldLog: LogBackend {
    static let socketPath = "/run/systemd/journal/socket"

    let epoch: String
    private let fields: [UInt8]
    private let fd: Int32
    private var address: sockaddr_un
    private var ordinal: UInt64 = 0
    /// The ordinal of the last entry sent.
    private var lastSent: UInt64 = 0
    /// The long line each stream is in the middle of: its pieces' id, count and time.
    private var pieces: [(id: String, ordinal: Int, seconds: Int64, nanoseconds: Int64)?] = [nil, nil]

    init(id: String, name: String?, tag: String?, imageName: String?, extraFields: [(name: String, value: String)]) {
        epoch = Self.randomID()
        fields = JournalDatagram.containerFields(id: id, name: name, tag: tag, imageName: imageName, epoch: epoch,
                                                 extraFields: extraFields)
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        address = UnixSocket.address(Self.socketPath)!
        // A busy journald may slow the container down, but never hang it.
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// 64 random hex digits, as dockerd's ids.
    static func randomID() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for _ in 0..<4 {
            var word = generator.next()
            for _ in 0..<16 {
                out.append(digits[Int(word & 15)])
                word >>= 4
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    var endNote: String? { "journal \(epoch) \(lastSent)" }

    func endChunk() {}
    func releaseMemory() {}

    func record(_ line: UnsafeBufferPointer<UInt8>, stderr: Bool, partial: Bool) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var time = (seconds: Int64(now.tv_sec), nanoseconds: Int64(now.tv_nsec))
        // The pieces of one long line share an id and the time of the first, as dockerd's do.
        let stream = stderr ? 1 : 0
        var piece: JournalDatagram.Partial?
        if var current = pieces[stream] {
            current.ordinal += 1
            piece = JournalDatagram.Partial(id: current.id, ordinal: current.ordinal, last: !partial)
            time = (current.seconds, current.nanoseconds)
            pieces[stream] = partial ? current : nil
        } else if partial {
            let started = (id: Self.randomID(), ordinal: 1, seconds: time.seconds, nanoseconds: time.nanoseconds)
            piece = JournalDatagram.Partial(id: started.id, ordinal: 1, last: false)
            pieces[stream] = started
        }
        ordinal += 1
        let datagram = JournalDatagram.entry(line: line, stderr: stderr, partial: piece, seconds: time.seconds,
                                             nanoseconds: time.nanoseconds, ordinal: ordinal, containerFields: fields)
        let sent = datagram.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
        if sent == datagram.count { lastSent = ordinal }
    }
}
