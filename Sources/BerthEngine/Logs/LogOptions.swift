import BerthOCI

/// What to read from a container's log: the options of `docker logs` /
/// `GET /containers/{id}/logs`.
public struct LogReadOptions: Sendable, Equatable {
    public var stdout: Bool
    public var stderr: Bool
    /// The last N lines, counted over all the log files from the end before any other filter
    /// (as dockerd does); nil for all of them.
    public var tail: Int?
    /// Records older than this are skipped.
    public var since: LogTimestamp?
    /// Reading ends at the first record newer than this.
    public var until: LogTimestamp?
    /// Keep reading what is appended after the end until the stop condition.
    public var follow: Bool
    /// Prefix each line with its time (formatting only).
    public var timestamps: Bool
    /// Prefix each line with its attributes (formatting only).
    public var details: Bool
    /// The container's log attributes as `--details` shows them (`a=1,b=x%2Cy`); the server
    /// fills it in from the container, not from the query.
    public var detailsPrefix = ""
    /// Records of one stream in a row share a stdcopy frame (formatting only). dockerd sends
    /// one frame per record, and some clients read a frame as a line; the server turns this on
    /// for clients that do not.
    public var joinsFrames = false

    public init(stdout: Bool = true, stderr: Bool = true, tail: Int? = nil, since: LogTimestamp? = nil,
                until: LogTimestamp? = nil, follow: Bool = false, timestamps: Bool = false, details: Bool = false) {
        self.stdout = stdout
        self.stderr = stderr
        self.tail = tail
        self.since = since
        self.until = until
        self.follow = follow
        self.timestamps = timestamps
        self.details = details
    }

    /// Reads the query of `GET /containers/{id}/logs` as dockerd does: booleans are true
    /// unless empty, `0`, `no`, `false` or `none`; `tail` is a number or anything else for all
    /// (`all`; a negative number also means all); `since` / `until` are Unix
    /// `seconds[.nanoseconds]` (or RFC 3339). At least one of stdout and stderr must be chosen.
    public init(query: [String: String]) throws(BerthError) {
        func flag(_ name: String) -> Bool {
            guard let raw = query[name] else { return false }
            let value = raw.trimmed().lowercased()
            return !(value.isEmpty || value == "0" || value == "no" || value == "false" || value == "none")
        }
        self.init(stdout: flag("stdout"), stderr: flag("stderr"), follow: flag("follow"),
                  timestamps: flag("timestamps"), details: flag("details"))
        guard stdout || stderr else {
            throw BerthError.invalidArgument("Bad parameters: you must choose at least one stream")
        }
        if let value = query["tail"], let lines = Int(value.trimmed()), lines >= 0 {
            tail = lines
        }
        if let value = query["since"] { since = try LogTimestamp.parseDockerTimestamp(value) }
        // dockerd reads until=0 (and an empty one) as no limit, not as the epoch.
        if let value = query["until"], !value.isEmpty, value != "0" { until = try LogTimestamp.parseDockerTimestamp(value) }
    }

    func wants(_ stream: LogStream) -> Bool { stream == .stdout ? stdout : stderr }
}

/// Turns log records into the bytes dockerd sends for `GET /containers/{id}/logs`: for a
/// container without a TTY each record is one stdcopy frame (an 8-byte header — stream 1 or 2,
/// three zero bytes, the payload length as a big-endian UInt32 — then the payload); for a TTY
/// container the payload alone. With `timestamps` the payload starts with the time in
/// RFC 3339 with all nine fraction digits and a space (`2026-11-29T11:00:00.120000000Z text`,
/// dockerd's `RFC3339NanoFixed`); with `details` it starts with the container's log attributes
/// and a space (only the space when it has none, as dockerd sends).
public struct LogFormatter: Sendable {
    public var tty: Bool
    public var timestamps: Bool
    public var details: Bool
    /// What `details` writes before the space.
    public var detailsPrefix: [UInt8]

    public init(tty: Bool, timestamps: Bool = false, details: Bool = false, detailsPrefix: String = "") {
        self.tty = tty
        self.timestamps = timestamps
        self.details = details
        self.detailsPrefix = Array(detailsPrefix.utf8)
    }

    public init(tty: Bool, options: LogReadOptions) {
        self.init(tty: tty, timestamps: options.timestamps, details: options.details, detailsPrefix: options.detailsPrefix)
    }

    public func append(_ record: LogRecord, to out: inout [UInt8]) {
        let headerAt = out.count
        if !tty {
            out.append(contentsOf: [record.stream.rawValue, 0, 0, 0, 0, 0, 0, 0])
        }
        let payloadAt = out.count
        appendPayload(record, to: &out)
        if !tty {
            let length = UInt32(truncatingIfNeeded: out.count - payloadAt)
            if length == 0 {
                out.removeLast(8)  // nothing to say: no empty frame
                return
            }
            out[headerAt + 4] = UInt8(truncatingIfNeeded: length >> 24)
            out[headerAt + 5] = UInt8(truncatingIfNeeded: length >> 16)
            out[headerAt + 6] = UInt8(truncatingIfNeeded: length >> 8)
            out[headerAt + 7] = UInt8(truncatingIfNeeded: length)
        }
    }

    /// The record's line with the prefixes the options ask for.
    private func appendPayload(_ record: LogRecord, to out: inout [UInt8]) {
        if timestamps {
            record.timestamp.appendRFC3339(to: &out, fixedFraction: true)
            out.append(UInt8(ascii: " "))
        }
        if details {
            out.append(contentsOf: detailsPrefix)
            out.append(UInt8(ascii: " "))
        }
        out.append(contentsOf: record.line)
    }

    /// Like `append`, but a record of the same stream as the frame at `frame` (the last one
    /// in `out`) goes into that frame: the same bytes reach the client's stdout and stderr
    /// with far fewer frames to split (one per chunk instead of one per line).
    public func append(_ record: LogRecord, to out: inout [UInt8], joining frame: inout Int?) {
        guard !tty, let start = frame, out[start] == record.stream.rawValue else {
            let before = out.count
            append(record, to: &out)
            frame = tty || out.count == before ? nil : before
            return
        }
        let payloadAt = out.count
        appendPayload(record, to: &out)
        let previous = UInt32(out[start + 4]) << 24 | UInt32(out[start + 5]) << 16 | UInt32(out[start + 6]) << 8 | UInt32(out[start + 7])
        let length = previous &+ UInt32(truncatingIfNeeded: out.count - payloadAt)
        out[start + 4] = UInt8(truncatingIfNeeded: length >> 24)
        out[start + 5] = UInt8(truncatingIfNeeded: length >> 16)
        out[start + 6] = UInt8(truncatingIfNeeded: length >> 8)
        out[start + 7] = UInt8(truncatingIfNeeded: length)
    }

    public func format(_ record: LogRecord) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(record.line.count + 40)
        append(record, to: &out)
        return out
    }
}
