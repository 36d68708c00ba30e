import BerthOCI
import NIOCore

/// The client side of an attach or exec stream, as the API hands it over after the hijack.
public struct StreamClient: Sendable {
    public let input: NIOAsyncChannelInboundStream<ByteBuffer>
    public let output: NIOAsyncChannelOutboundWriter<ByteBuffer>
    /// Completes when the client's connection is closed (see ClientDeparture).
    public let closed: EventLoopFuture<Void>?

    public init(input: NIOAsyncChannelInboundStream<ByteBuffer>, output: NIOAsyncChannelOutboundWriter<ByteBuffer>,
                closed: EventLoopFuture<Void>? = nil) {
        self.input = input
        self.output = output
        self.closed = closed
    }
}

public struct AttachOptions: Sendable {
    public var stdin: Bool
    public var stdout: Bool
    public var stderr: Bool
    public var detachKeys: String?
    /// stdcopy frames for a container without a TTY (dockerd's MuxStreams); a websocket
    /// attach keeps its output raw, the frames already mark the writes.
    public var muxStreams = true
    /// The attachment ends when the client's input ends, unless that closes the container's
    /// stdin (StdinOnce without a TTY): dockerd's attach closes the output streams then. The
    /// websocket attach keeps to it (when stdin is attached at all); the hijacked attach lets
    /// stdout run on after a half-close.
    public var endsWithInput = false
    public init(stdin: Bool, stdout: Bool, stderr: Bool, detachKeys: String?) {
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.detachKeys = detachKeys
    }
}

/// Copies between a client and a shim connection until the process's output ends, the
/// client detaches, or the client goes away.
struct StreamPump {
    /// Raw output (a TTY, or a client that does not want stdcopy frames).
    var tty: Bool
    /// Half-close the shim connection when the client's stdin ends (the process sees EOF).
    var closeStdinAtEnd: Bool
    var detachKeys: [UInt8]
    var forwardStdin: Bool
    /// The end of the client's input ends the pump (AttachOptions.endsWithInput).
    var endsWithInput = false
    /// The streams the client asked for (an exec's AttachStdout and AttachStderr); the
    /// other's output is read and dropped, as dockerd does not attach it.
    var stdout = true
    var stderr = true

    enum Ending: Sendable { case outputEnded, inputEnded, detached }

    /// Runs the pump; `onRecord` sees the shim's exec records (kinds 16, 17 and 18).
    func run(client: StreamClient, frames: ShimFrames, shim: NIOAsyncChannelOutboundWriter<ByteBuffer>,
             onRecord: @escaping @Sendable (ShimFrame) async -> Void) async throws {
        let tty = self.tty
        let closeStdinAtEnd = self.closeStdinAtEnd
        let detachKeys = self.detachKeys
        let forwardStdin = self.forwardStdin
        let inputEndStops = endsWithInput && !closeStdinAtEnd
        let wantsStdout = stdout, wantsStderr = stderr
        try await withThrowingTaskGroup(of: Ending.self) { group in
            group.addTask {
                while let frame = try await frames.next() {
                    switch frame.kind {
                    case .stdout, .stderr:
                        guard frame.kind == .stdout ? wantsStdout : wantsStderr else { continue }
                        if tty {
                            try await client.output.write(frame.payload)
                        } else {
                            var framed = ByteBuffer()
                            framed.writeInteger(frame.kind.rawValue)
                            framed.writeBytes([0, 0, 0])
                            framed.writeInteger(UInt32(frame.payload.readableBytes))
                            var payload = frame.payload
                            framed.writeBuffer(&payload)
                            try await client.output.write(framed)
                        }
                    case .execStarted, .execExit, .execFailed:
                        await onRecord(frame)
                    }
                }
                return .outputEnded
            }
            group.addTask {
                var scanner = DetachKeyScanner(keys: detachKeys)
                for try await chunk in client.input {
                    guard forwardStdin else { continue }
                    let (pass, detached) = scanner.scan(Array(chunk.readableBytesView))
                    if !pass.isEmpty { try await shim.write(ByteBuffer(bytes: pass)) }
                    if detached { return .detached }
                }
                if closeStdinAtEnd { shim.finish() }
                return .inputEnded
            }
            while let ending = try await group.next() {
                if ending != .inputEnded || inputEndStops {
                    group.cancelAll()
                    return
                }
            }
        }
    }
}

/// Finds the detach sequence (default ctrl-p ctrl-q) in a TTY client's input; bytes that
/// may start it are held back until the next byte decides.
struct DetachKeyScanner {
    let keys: [UInt8]
    private var matched = 0

    init(keys: [UInt8]) { self.keys = keys }

    /// The bytes to pass on, and whether the sequence was completed.
    mutating func scan(_ bytes: [UInt8]) -> (pass: [UInt8], detached: Bool) {
        guard !keys.isEmpty else { return (bytes, false) }
        var pass: [UInt8] = []
        for byte in bytes {
            if byte == keys[matched] {
                matched += 1
                if matched == keys.count { return (pass, true) }
            } else {
                pass += keys[0..<matched]
                matched = byte == keys[0] ? 1 : 0
                if matched == 0 { pass.append(byte) }
            }
        }
        return (pass, false)
    }

    /// Docker's `--detach-keys` format: comma-separated `ctrl-<x>` or single characters.
    static func parse(_ text: String) throws -> [UInt8] {
        var keys: [UInt8] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let lower = part.lowercased()
            if lower.hasPrefix("ctrl-"), lower.count == 6, let key = lower.last?.asciiValue {
                switch key {
                case UInt8(ascii: "a")...UInt8(ascii: "z"): keys.append(key - UInt8(ascii: "a") + 1)
                case UInt8(ascii: "@"): keys.append(0)
                case UInt8(ascii: "["): keys.append(27)
                case UInt8(ascii: "\\"): keys.append(28)
                case UInt8(ascii: "]"): keys.append(29)
                case UInt8(ascii: "^"): keys.append(30)
                case UInt8(ascii: "_"): keys.append(31)
                default: throw BerthError.invalidArgument("Invalid escape keys (\(text)) provided")
                }
            } else if part.count == 1, let key = part.first?.asciiValue {
                keys.append(key)
            } else {
                throw BerthError.invalidArgument("Invalid escape keys (\(text)) provided")
            }
        }
        return keys
    }

    static let defaultKeys: [UInt8] = [16, 17]
}

extension ContainerService {
    /// `POST /containers/{id}/attach` (after the hijack): with `stream`, returns when the
    /// attachment ends, and made before start it waits for start and is connected first;
    /// without, it only records the attach (dockerd then answers with the log replay alone).
    public func attach(_ nameOrID: String, options: AttachOptions, stream: Bool = true, client: StreamClient) async throws {
        let id = try resolve(nameOrID)
        guard stream else {
            emit("attach", container: id)
            return
        }
        // An attachment whose client left ends at once: it would otherwise hold its shim
        // connection until the container printed something, or its wait until the next start.
        try await ClientDeparture.ends(client) { try await self.attachStream(id, options: options, client: client) }
    }

    private func attachStream(_ id: String, options: AttachOptions, client: StreamClient) async throws {
        // Removed meanwhile (the actor ran other work since the lookup).
        guard let entry = entries[id] else { throw BerthError.notFound("No such container: \(id)") }
        let tty = entry.record.Config.Tty ?? false
        let keys = try options.detachKeys.map(DetachKeyScanner.parse) ?? DetachKeyScanner.defaultKeys
        let forwardStdin = options.stdin && (entry.record.Config.OpenStdin ?? false)
        // A client's input that reaches no stdin ends nothing: dockerd's websocket attach goes
        // on after the client's close frame then.
        let pump = StreamPump(tty: tty || !options.muxStreams,
                              closeStdinAtEnd: (entry.record.Config.StdinOnce ?? false) && !tty,
                              detachKeys: tty ? keys : [],
                              forwardStdin: forwardStdin,
                              endsWithInput: options.endsWithInput && forwardStdin)
        let request = "attach \(options.stdin ? 1 : 0) \(options.stdout ? 1 : 0) \(options.stderr ? 1 : 0)"
        emit("attach", container: id)
        if entry.record.State.Running {
            try await ShimClient(socketPath: paths.shimSocket(id)).withConnection(request) { _, frames, shim in
                try await pump.run(client: client, frames: frames, shim: shim) { _ in }
            }
            return
        }
        // Not running yet: wait for start (`docker run` attaches before it starts).
        guard let go = await awaitStart(id) else { return }
        do {
            try await ShimClient(socketPath: go.socketPath).withConnection(request) { _, frames, shim in
                go.connected.yield()
                go.connected.finish()
                try await pump.run(client: client, frames: frames, shim: shim) { _ in }
            }
        } catch {
            go.connected.finish()
            throw error
        }
    }

    /// Checks made before the hijack, so that a refusal is still an HTTP error.
    /// In dockerd's order and words: the detach keys before the container is looked up (the
    /// words differ from exec's "escape keys"), then a paused or restarting container.
    public func checkAttach(_ nameOrID: String, options: AttachOptions) throws -> Bool {
        if let keys = options.detachKeys, (try? DetachKeyScanner.parse(keys)) == nil {
            throw BerthError.invalidArgument("Invalid detach keys (\(keys)) provided")
        }
        let entry = try entry(nameOrID)
        let state = entry.record.State
        // A stopped container is attached to until its next start (`docker start -a`); the
        // CLI itself refuses `docker attach` to one, in words of its own.
        if state.Paused { throw BerthError.conflict("container \(nameOrID) is paused, unpause the container before attach") }
        if state.Restarting {
            throw BerthError.conflict("container \(nameOrID) is restarting, wait until the container is running")
        }
        return entry.record.Config.Tty ?? false
    }

    /// As dockerd: the sizes are cut to the terminal's 16 bits, and a container without a
    /// terminal is resized as a no-op (its shim has nothing to resize), event and all.
    public func resize(_ nameOrID: String, height: Int, width: Int) async throws {
        let id = try resolve(nameOrID)
        guard let entry = entries[id], entry.record.State.Running else {
            throw BerthError.conflict("Container \(id) is not running")
        }
        if entry.record.Config.Tty == true {
            let rows = UInt16(truncatingIfNeeded: height), cols = UInt16(truncatingIfNeeded: width)
            try await ShimClient(socketPath: paths.shimSocket(id)).call("resize \(rows) \(cols)")
        }
        emit("resize", container: id, ["height": String(height), "width": String(width)])
    }
}

extension ContainerService {
    public struct LogSource: Sendable {
        public var id: String
        public var driver: String
        /// The file of json-file records, for the drivers that write one (json-file, local).
        public var file: String?
        public var tty: Bool
        /// The `--details` prefix of its records.
        public var detailsPrefix: String
        /// For a stopped container on the journald driver: where its last run's writer ended.
        public var journalEnd: JournalLogEnd?
    }

    public func logSource(_ nameOrID: String) throws -> LogSource {
        let entry = try entry(nameOrID)
        let options = LogSettings.merged(entry.hostConfig.LogConfig, defaults: settings).Config ?? [:]
        var attributes = LogAttributes.make(options: options, labels: entry.record.Config.Labels ?? [:],
                                            environment: entry.record.Config.Env ?? [])
        let driver = logDriver(entry.hostConfig)
        if driver == "journald" {
            attributes = LogAttributes.journalDetails(attributes, imageName: entry.record.Config.Image ?? entry.record.Image)
        }
        // A remote driver's records are read back from its local cache, when it keeps one;
        // dockerd's cache keeps no attributes (`--details` shows none).
        let cached = (try? LogSettings(entry.hostConfig.LogConfig, defaults: settings))?.cached ?? false
        if RemoteLogDriver(rawValue: driver) != nil { attributes = [:] }
        return LogSource(id: entry.record.ID, driver: driver,
                         file: paths.logFile(entry.record.ID, driver: driver) ?? (cached ? paths.logCacheFile(entry.record.ID) : nil),
                         tty: entry.record.Config.Tty ?? false,
                         detailsPrefix: LogAttributes.detailsPrefix(attributes),
                         journalEnd: entry.record.State.Running ? nil : entry.journalEnd)
    }

    /// Returns once the container is not running (`docker logs -f` ends then).
    public func waitUntilStopped(_ id: String) async {
        guard let entry = entries[id], entry.record.State.Running else { return }
        _ = await awaitContainer(id, .exitForLogs)
    }

    /// Like `waitUntilStopped`, and answers where the run's journald log writer ended.
    public func waitForJournalEnd(_ id: String) async -> JournalLogEnd? {
        await waitUntilStopped(id)
        guard let entry = entries[id], !entry.record.State.Running else { return nil }
        return entry.journalEnd
    }
}
