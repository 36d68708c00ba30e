import CBerthShim

/// The syslog log driver: one message per record (SyslogMessage) to the server at the
/// address, or to the host's syslog socket when none is given (as dockerd looks for it:
/// /dev/log, /var/run/syslog, /var/run/log, each as a datagram then a stream socket).
final class SyslogLog: LogBackend {
    private let socket: RemoteSocket
    private let format: SyslogMessage.Format
    private let facility: Int
    private let tag: [UInt8]
    private let hostname: [UInt8]
    private let pid: Int32
    private let offsets: UTCOffsets
    private var message: [UInt8] = []

    static let localPaths = ["/dev/log", "/var/run/syslog", "/var/run/log"]

    /// Connects; throws dockerd's start error when the server does not answer.
    init(address: RemoteAddress?, format: SyslogMessage.Format, facility: Int, tag: String, offsets: UTCOffsets) throws(ShimError) {
        self.format = format
        self.offsets = offsets
        self.facility = facility
        self.tag = Array(tag.utf8)
        hostname = Self.hostname()
        pid = getpid()
        if let address {
            socket = RemoteSocket(address: address)
            if let error = socket.connect() { throw ShimError(Self.startFailure + error) }
            return
        }
        for path in Self.localPaths {
            for transport in [RemoteAddress.Transport.unixgram, .unix] {
                let candidate = RemoteSocket(address: RemoteAddress(transport: transport, path: path))
                if case .none = candidate.connect() {
                    socket = candidate
                    return
                }
            }
        }
        throw ShimError(Self.startFailure + "Unix syslog delivery error")
    }

    /// berthd passes errors with this prefix on as they are (they are not the runtime's).
    static let startFailure = "failed to initialize logging driver: "

    static func hostname() -> [UInt8] {
        var name = [UInt8](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return [] }
        return Array(name.prefix { $0 != 0 })
    }

    func localTime() -> SyslogMessage.LocalTime {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return offsets.localTime(seconds: Int64(now.tv_sec), nanoseconds: Int64(now.tv_nsec))
    }

    func endChunk() {}

    func releaseMemory() {
        message = []
    }

    func record(_ line: UnsafeBufferPointer<UInt8>, stderr: Bool, partial: Bool) {
        guard let text = SyslogMessage.text(of: line, partial: partial) else { return }
        message.removeAll(keepingCapacity: true)
        SyslogMessage.append(format: format, priority: SyslogMessage.priority(facility: facility, stderr: stderr),
                             time: localTime(), hostname: hostname, tag: tag, pid: pid, message: text, to: &message)
        _ = message.withUnsafeBytes { socket.send($0) }
    }
}
