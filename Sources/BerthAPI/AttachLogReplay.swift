import BerthEngine
import NIOCore

/// `POST /containers/{id}/attach?logs=1`: before the live stream (or instead of it, with
/// `stream=0`), dockerd replays the container's log of the chosen streams, framed as the
/// attach stream is (stdcopy frames without a TTY, raw with one). docker-py's
/// `container.attach(logs=True)` reads its output this way. The websocket attach replays
/// raw, one write (so one frame) per record, as dockerd writes each log message on its own.
enum AttachLogReplay {
    static func write(_ id: String, stdout: Bool, stderr: Bool, joinsFrames: Bool, rawRecords: Bool = false,
                      containers: ContainerService, to output: NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws {
        guard stdout || stderr else { return }
        let source = try await containers.logSource(id)
        var options = LogReadOptions(stdout: stdout, stderr: stderr, follow: false)
        options.joinsFrames = joinsFrames
        let raw = source.tty || rawRecords
        // A one-byte chunk goes out with each (non-empty) record.
        let chunkBytes = rawRecords ? 1 : 64 << 10
        if let file = source.file {
            try await JSONFileLog(path: file).readFormatted(options: options, tty: raw, chunkBytes: chunkBytes) {
                try await output.write(ByteBuffer(bytes: $0))
            }
        } else if source.driver == "journald" {
            try await JournaldLog(containerID: source.id).readFormatted(options: options, tty: raw, end: source.journalEnd,
                                                                        chunkBytes: chunkBytes) {
                try await output.write(ByteBuffer(bytes: $0))
            }
        }
        // A driver that cannot be read back replays nothing, as with dockerd.
    }
}
