/// The fluentd log driver: each record is one forward-protocol message (FluentdMessage) on a
/// tcp or unix stream to fluentd. The connection is made at start, which fails without a
/// server, as dockerd's does; with fluentd-async the start goes on and the shim connects
/// when a record comes (RemoteSocket: records are dropped while fluentd is away). With
/// fluentd-request-ack each message waits for fluentd's ack (a second at most, after which
/// fluentd is left alone for a while, its records dropped, rather than sent twice).
final class FluentdLog: LogBackend {
    private let socket: RemoteSocket
    private let tag: [UInt8]
    private let container: FluentdMessage.Container
    private let subSecond: Bool
    private let requestsAck: Bool
    private var pieces = LinePieces()
    private var message: [UInt8] = []

    init(address: RemoteAddress, tag: String, container: FluentdMessage.Container, subSecond: Bool, async: Bool,
         requestsAck: Bool) throws(ShimError) {
        self.requestsAck = requestsAck
        socket = RemoteSocket(address: address)
        self.tag = Array(tag.utf8)
        self.container = container
        self.subSecond = subSecond
        if let error = socket.connect(), !async { throw ShimError(SyslogLog.startFailure + error) }
    }

    func endChunk() {}

    func releaseMemory() {
        message = []
    }

    func record(_ line: UnsafeBufferPointer<UInt8>, stderr: Bool, partial: Bool) {
        let place = pieces.place(stderr: stderr, partial: partial)
        message.removeAll(keepingCapacity: true)
        var chunk: [UInt8]?
        if requestsAck {
            var random = SystemRandomNumberGenerator()
            chunk = FluentdMessage.chunkID(random: (random.next(), random.next()))
        }
        FluentdMessage.append(tag: tag, seconds: place.seconds, nanoseconds: place.nanoseconds, subSecond: subSecond,
                              container: container, line: line, stderr: stderr, partial: place.piece, chunk: chunk, to: &message)
        let sent = message.withUnsafeBytes { socket.send($0) }
        if sent, let chunk {
            let expected = FluentdMessage.ack(for: chunk)
            if let answer = socket.receive(count: expected.count, timeoutMillis: Int64(RemoteSocket.sendTimeoutMillis)), answer != expected {
                writeAll(2, "berth-shim: fluentd answered a message with something other than its ack\n")
            }
        }
    }
}
