import CBerthShim

/// Cuts one output stream into log records: a record is a line with its `\n`; a line longer
/// than `maxRecord` goes out in pieces of that size, marked partial; the unfinished tail of a
/// chunk waits for the next chunk, and goes out as a partial record at end of stream.
public struct LineSplitter {
    /// Docker's json-file limit for one record (16 KiB).
    public static let defaultMaxRecord = 16 * 1024

    public let maxRecord: Int
    /// The unfinished line carried over from earlier chunks; empty most of the time.
    var pending: [UInt8] = []

    public init(maxRecord: Int = LineSplitter.defaultMaxRecord) {
        self.maxRecord = maxRecord
    }

    public var hasPending: Bool { !pending.isEmpty }

    /// Calls `emit(record, partial)` for every record completed by `chunk`.
    public mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>, emit: (UnsafeBufferPointer<UInt8>, Bool) -> Void) {
        guard let base = chunk.baseAddress, chunk.count > 0 else { return }
        var start = 0
        while start < chunk.count {
            let rest = chunk.count - start
            guard let found = memchr(base + start, 0x0A, rest) else {
                pending.append(contentsOf: UnsafeBufferPointer(start: base + start, count: rest))
                emitFullPieces(emit)
                return
            }
            let end = base.distance(to: found.assumingMemoryBound(to: UInt8.self)) + 1
            let line = UnsafeBufferPointer(start: base + start, count: end - start)
            if pending.isEmpty {
                Self.emitLine(line, maxRecord: maxRecord, emit)
            } else {
                pending.append(contentsOf: line)
                let limit = maxRecord
                pending.withUnsafeBufferPointer { Self.emitLine($0, maxRecord: limit, emit) }
                pending.removeAll(keepingCapacity: true)
            }
            start = end
        }
    }

    /// End of stream: the unfinished line, if any, as a partial record.
    public mutating func finish(emit: (UnsafeBufferPointer<UInt8>, Bool) -> Void) {
        guard !pending.isEmpty else { return }
        pending.withUnsafeBufferPointer { emit($0, true) }
        pending = []
    }

    /// Lets go of the carry-over buffer's memory when it is empty.
    public mutating func releaseMemory() {
        if pending.isEmpty { pending = [] }
    }

    /// A complete line, cut in `maxRecord` pieces when it is longer; only the last has `\n`.
    private static func emitLine(_ line: UnsafeBufferPointer<UInt8>, maxRecord: Int,
                                 _ emit: (UnsafeBufferPointer<UInt8>, Bool) -> Void) {
        var offset = 0
        while line.count - offset > maxRecord {
            emit(UnsafeBufferPointer(rebasing: line[offset..<offset + maxRecord]), true)
            offset += maxRecord
        }
        emit(UnsafeBufferPointer(rebasing: line[offset...]), false)
    }

    private mutating func emitFullPieces(_ emit: (UnsafeBufferPointer<UInt8>, Bool) -> Void) {
        guard pending.count >= maxRecord else { return }
        var offset = 0
        pending.withUnsafeBufferPointer { all in
            while all.count - offset >= maxRecord {
                emit(UnsafeBufferPointer(rebasing: all[offset..<offset + maxRecord]), true)
                offset += maxRecord
            }
        }
        pending.removeFirst(offset)
    }
}
