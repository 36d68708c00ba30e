import CBerthShim

/// Where a log record goes: a json-file or local-driver file, journald, or a remote log server
/// (with a local cache).
protocol LogBackend: AnyObject {
    func record(_ line: UnsafeBufferPointer<UInt8>, stderr: Bool, partial: Bool)
    /// Called after a chunk's records: the moment to write them out.
    func endChunk()
    func releaseMemory()
    /// What the exit record tells about the log's end (journald: the writer's last entry).
    var endNote: String? { get }
    /// A child of the shim exited: true when it was the backend's (a log compression).
    func childExited(_ pid: pid_t, status: Int32) -> Bool
    /// The container's output is all written and its end not yet reported: rotated files
    /// still plain are compressed now (blocking), since once the end is known a restarted
    /// container's new shim may be rotating them.
    func outputEnded()
    /// Before the shim exits: background work is completed.
    func finish()
}

extension LogBackend {
    var endNote: String? { nil }
    func childExited(_ pid: pid_t, status: Int32) -> Bool { false }
    func outputEnded() {}
    func finish() {}
}

/// The container's log: cuts each output stream into records and hands them to the backend.
/// Runs as output is read, before any client sees it, so a slow client never costs a line.
final class ContainerLog {
    private let backend: LogBackend
    private var stdoutLines = LineSplitter()
    private var stderrLines = LineSplitter()

    init(backend: LogBackend) {
        self.backend = backend
    }

    /// The log the options ask for; nil for the `none` driver.
    static func open(_ options: Options) throws(ShimError) -> ContainerLog? {
        switch options.logDriver {
        case .none:
            return nil
        case .jsonFile, .local:
            guard let path = options.logPath else { return nil }
            let rotation = LogRotation(maxSize: options.logMaxSize, maxFiles: options.logMaxFile, compress: options.logCompress)
            guard let file = FileLog(path: path, rotation: rotation, format: options.logDriver == .local ? .local : .json) else {
                throw ShimError("cannot open log \(path): \(errnoText())")
            }
            return ContainerLog(backend: file)
        case .journald:
            return ContainerLog(backend: JournaldLog(id: options.id, name: options.containerName, tag: options.logTag,
                                                     imageName: options.imageName, extraFields: options.logFields))
        case .syslog:
            let remote = try SyslogLog(address: options.logAddress, format: options.syslogFormat, facility: options.syslogFacility,
                                       tag: options.logTag ?? String(Substring(options.id.utf8.prefix(12))), offsets: options.utcOffsets)
            return try cached(remote, options)
        case .fluentd:
            guard let address = options.logAddress else { throw ShimError("fluentd needs an address") }
            let container = FluentdMessage.Container(id: options.id, name: "/" + (options.containerName ?? ""), extra: options.logFields)
            let remote = try FluentdLog(address: address, tag: options.logTag ?? String(Substring(options.id.utf8.prefix(12))),
                                        container: container, subSecond: options.fluentdSubSecond, async: options.fluentdAsync,
                                        requestsAck: options.fluentdAck)
            return try cached(remote, options)
        case .gelf:
            guard let address = options.logAddress else { throw ShimError("gelf needs an address") }
            let remote = try GelfLog(address: address, compression: options.gelfCompression, level: options.gelfCompressionLevel,
                                     extraFields: options.logFields)
            return try cached(remote, options)
        }
    }

    /// A remote driver's log, with its local cache when berthd asks for one (`--log-path`).
    private static func cached(_ remote: LogBackend, _ options: Options) throws(ShimError) -> ContainerLog {
        guard let path = options.logPath else { return ContainerLog(backend: remote) }
        let rotation = LogRotation(maxSize: options.logMaxSize, maxFiles: options.logMaxFile, compress: options.logCompress)
        // dockerd keeps the cache with its local driver.
        guard let file = FileLog(path: path, rotation: rotation, format: .local) else {
            throw ShimError("cannot open log \(path): \(errnoText())")
        }
        return ContainerLog(backend: CachedLog(cache: file, remote: remote))
    }

    func write(_ chunk: UnsafeBufferPointer<UInt8>, stderr: Bool) {
        let sink = backend
        if stderr {
            stderrLines.feed(chunk) { sink.record($0, stderr: true, partial: $1) }
        } else {
            stdoutLines.feed(chunk) { sink.record($0, stderr: false, partial: $1) }
        }
        backend.endChunk()
    }

    /// End of a stream: its unfinished last line goes out as a partial record.
    func finish(stderr: Bool) {
        let sink = backend
        if stderr {
            stderrLines.finish { sink.record($0, stderr: true, partial: $1) }
        } else {
            stdoutLines.finish { sink.record($0, stderr: false, partial: $1) }
        }
        backend.endChunk()
    }

    var endNote: String? { backend.endNote }

    func childExited(_ pid: pid_t, status: Int32) -> Bool {
        backend.childExited(pid, status: status)
    }

    /// The container's output is all written; its end is reported next.
    func outputEnded() {
        backend.outputEnded()
    }

    /// Before the shim exits.
    func close() {
        backend.finish()
    }

    func releaseMemory() {
        stdoutLines.releaseMemory()
        stderrLines.releaseMemory()
        backend.releaseMemory()
    }
}
