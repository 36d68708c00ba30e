import CBerthShim

/// The pieces of lines longer than one record, per stream, as dockerd marks them: every piece
/// of a line shares a random id and the time of the first piece, and counts from 1; the piece
/// that ends the line is the last. (A stream's unfinished end is one piece, not the last.)
struct LinePieces {
    private var current: [(id: String, ordinal: Int, seconds: Int64, nanoseconds: Int64)?] = [nil, nil]

    /// The record's place in its line (nil: a whole line), and its time (now, or its line's).
    mutating func place(stderr: Bool, partial: Bool) -> (piece: JournalDatagram.Partial?, seconds: Int64, nanoseconds: Int64) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let stream = stderr ? 1 : 0
        if var line = current[stream] {
            line.ordinal += 1
            current[stream] = partial ? line : nil
            return (JournalDatagram.Partial(id: line.id, ordinal: line.ordinal, last: !partial), line.seconds, line.nanoseconds)
        }
        guard partial else { return (nil, Int64(now.tv_sec), Int64(now.tv_nsec)) }
        let id = JournaldLog.randomID()
        current[stream] = (id, 1, Int64(now.tv_sec), Int64(now.tv_nsec))
        return (JournalDatagram.Partial(id: id, ordinal: 1, last: false), Int64(now.tv_sec), Int64(now.tv_nsec))
    }
}
