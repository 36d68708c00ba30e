/// Turns batches of log records into the chunks of a `GET /containers/{id}/logs` response
/// body: records are formatted into one buffer, records of one stream in a row share a
/// stdcopy frame, and a chunk goes out whenever it reaches about `chunkBytes` and at the end
/// of every batch, so a follower sees new lines at once.
struct LogChunker {
    let formatter: LogFormatter
    let chunkBytes: Int
    private var chunk: [UInt8] = []

    init(formatter: LogFormatter, chunkBytes: Int) {
        self.formatter = formatter
        self.chunkBytes = chunkBytes
        chunk.reserveCapacity(chunkBytes + 1024)
    }

    mutating func add(
        _ batch: [LogRecord],
        isolation: isolated (any Actor)? = #isolation,
        emit: ([UInt8]) async throws -> Void
    ) async throws {
        var frame: Int?  // the open frame in `chunk`, which records of its stream join
        for record in batch {
            formatter.append(record, to: &chunk, joining: &frame)
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
