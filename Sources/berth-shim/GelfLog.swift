import CBerthShim

/// The gelf log driver: each record with text is one GELF message (GelfMessage) — over udp
/// compressed (gzip by default, or zlib, or none) and cut into GELF chunks when it does not fit
/// a datagram, or over tcp as JSON ending in a NUL byte, uncompressed. Records are sent as they
/// come; a tcp server that does not answer at start fails it, as dockerd's does.
final class GelfLog: LogBackend {
    enum Compression { case gzip, zlib, none }

    private let socket: RemoteSocket
    private let compression: Compression
    private let level: Int32
    private let head: [UInt8]
    private let extra: [UInt8]
    private var message: [UInt8] = []
    private var compressed: [UInt8] = []
    private var dropped = 0

    init(address: RemoteAddress, compression: Compression, level: Int32, extraFields: [(name: String, value: String)]) throws(ShimError) {
        socket = RemoteSocket(address: address)
        self.compression = address.transport == .tcp ? .none : compression
        self.level = level
        head = GelfMessage.head(hostname: SyslogLog.hostname())
        extra = GelfMessage.extraFields(extraFields)
        if let error = socket.connect() {
            throw ShimError(SyslogLog.startFailure + "gelf: cannot connect to GELF endpoint: \(address.display) " + error)
        }
    }

    func endChunk() {}

    func releaseMemory() {
        message = []
        compressed = []
    }

    func record(_ line: UnsafeBufferPointer<UInt8>, stderr: Bool, partial: Bool) {
        guard let text = GelfMessage.text(of: line, partial: partial) else { return }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        message.removeAll(keepingCapacity: true)
        GelfMessage.append(head: head, message: text, milliseconds: Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000,
                           stderr: stderr, extra: extra, to: &message)
        if socket.address.transport == .tcp {
            message.append(0)
            _ = message.withUnsafeBytes { socket.send($0) }
            return
        }
        let payload: [UInt8]
        switch compression {
        case .none: payload = message
        case .gzip, .zlib:
            let length = compress(gzip: compression == .gzip)
            guard length >= 0 else { return drop("cannot be compressed") }
            payload = Array(compressed[..<length])
        }
        var random = SystemRandomNumberGenerator()
        guard let datagrams = GelfMessage.datagrams(payload, id: random.next()) else {
            return drop("needs more than \(GelfMessage.maxChunks) chunks")
        }
        for datagram in datagrams {
            _ = datagram.withUnsafeBytes { socket.send($0) }
        }
    }

    /// Compresses the message into `compressed`; its length, or -1.
    private func compress(gzip: Bool) -> Int {
        let capacity = berth_shim_deflate_bound(message.count)
        if compressed.count < capacity { compressed = [UInt8](repeating: 0, count: capacity) }
        let length = message.withUnsafeBufferPointer { input in
            compressed.withUnsafeMutableBufferPointer { output in
                berth_shim_deflate(gzip ? 1 : 0, level, input.baseAddress, input.count, output.baseAddress, output.count)
            }
        }
        return Int(length)
    }

    private func drop(_ why: String) {
        dropped += 1
        if dropped == 1 { writeAll(2, "berth-shim: a GELF message \(why): dropped\n") }
    }
}
