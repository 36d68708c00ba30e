/// Turns batches of log records into the chunks of a `GET /containers/{id}/logs` response
/// body: records are formatted into one buffer, each in a stdcopy frame of its own (or, with
/// `joinsFrames`, records of one stream in a row in a shared one), and a chunk goes out
/// whenever it reaches about `chunkBytes` and at the end of every batch, so a follower sees
/// new lines at once.
struct LogChunker {
    let formatter: LogFormatter
    let chunkBytes: Int
    let joinsFrames: Bool
    private var chunk: [UInt8] = []

    init(formatter: LogFormatter, chunkBytes: Int, joinsFrames: Bool) {
        self.formatter = formatter
        self.chunkBytes = chunkBytes
        self.joinsFrames = joinsFrames
        chunk.reserveCapacity(chunkBytes + 1024)
    }

    mutating func add(
        _ batch: [LogRecord],
        isolation: isolated (any Actor)? = #isolation,
        emit: ([UInt8]) async throws -> Void
    ) async throws {
        var frame: Int?  // the open frame in `chunk`, which records of its stream join
        for record in batch {
            if joinsFrames {
                formatter.append(record, to: &chunk, joining: &frame)
            } else {
                formatter.append(record, to: &chunk)
            }
            if chunk.count >= chunkBytes {
                try await emit(chunk)
                chunk.removeAll(keepingCapacity: true)
                frame = nil
            }
        }
        if !chunk.isEmpty {
            try await emit(chunk)
            chunk.removeAll(keepingCapacity: true)
        }
    }
}
