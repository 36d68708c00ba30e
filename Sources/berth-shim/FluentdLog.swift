/// The fluentd log driver: each record is one forward-protocol message (FluentdMessage) on a
/// tcp or unix stream to fluentd. The connection is made at start, which fails without a
/// server, as dockerd's does; with fluentd-async the start goes on and the shim connects
/// when a record comes (RemoteSocket: records are dropped while fluentd is away).
final class FluentdLog: LogBackend {
    private let socket: RemoteSocket
    private let tag: [UInt8]
    private let container: FluentdMessage.Container
    private let subSecond: Bool
    private var pieces = LinePieces()
    private var message: [UInt8] = []

    init(address: RemoteAddress, tag: String, container: FluentdMessage.Container, subSecond: Bool, async: Bool) throws(ShimError) {
        socket = RemoteSocket(address: address)
        self.tag = Array(tag.utf8)
        self.container = container
        self.subSecond = subSecond
        if let error = socket.connect(), !async { throw ShimError(SyslogLog.startFailure + error) }
    }

    func beginChunk() {}
    func endChunk() {}

    func releaseMemory() {
        message = []
    }

    func record(_ line: UnsafeBufferPointer<UInt8>, stderr: Bool, partial: Bool) {
        let place = pieces.place(stderr: stderr, partial: partial)
        message.removeAll(keepingCapacity: true)
        FluentdMessage.append(tag: tag, seconds: place.seconds, nanoseconds: place.nanoseconds, subSecond: subSecond,
                              container: container, line: line, stderr: stderr, partial: place.piece, to: &message)
        _ = message.withUnsafeBytes { socket.send($0) }
    }
}
