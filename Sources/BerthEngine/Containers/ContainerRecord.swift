import BerthOCI
import Foundation

/// `State` in `docker inspect`.
public struct ContainerStateRecord: Codable, Sendable {
    public static let zeroTime = "0001-01-01T00:00:00Z"

    public var Status = "created"
    public var Running = false
    public var Paused = false
    public var Restarting = false
    public var OOMKilled = false
    public var Dead = false
    public var Pid: Int32 = 0
    public var ExitCode: Int32 = 0
    public var Error = ""
    public var StartedAt = zeroTime
    public var FinishedAt = zeroTime

    /// Running, paused and restarting containers hold a process (or are about to).
    public var isActive: Bool { Running || Restarting }
}

/// A container as berthd keeps it in `containers/<id>/config.v2.json` (its HostConfig is in
/// hostconfig.json beside it). Field names are those `docker inspect` shows.
public struct ContainerRecord: Codable, Sendable {
    public var ID: String
    public var Created: String
    public var Path: String
    public var Args: [String]
    public var Config: ContainerConfig
    public var State = ContainerStateRecord()
    /// The image's ID ("sha256:…").
    public var Image: String
    public var Name: String
    public var RestartCount = 0
    public var LogPath = ""
    public var HostnamePath = ""
    public var HostsPath = ""
    public var ResolvConfPath = ""
    /// Stopped by `docker stop`/`kill`: no restart policy brings it back, nor a daemon start.
    public var HasBeenManuallyStopped = false
    public var HasBeenStartedBefore = false

    public var shortID: String { String(ID.prefix(12)) }
    /// The name without its leading slash.
    public var bareName: String { String(Name.dropFirst()) }
}

/// Where a container's files are.
struct ContainerPaths: Sendable {
    let dataRoot: String
    let execRoot: String

    func directory(_ id: String) -> String { dataRoot + "/containers/" + id }
    func config(_ id: String) -> String { directory(id) + "/config.v2.json" }
    func hostConfig(_ id: String) -> String { directory(id) + "/hostconfig.json" }
    func jsonLog(_ id: String) -> String { directory(id) + "/" + id + "-json.log" }
    /// The OCI bundle and the shim's socket, exit file and logs.
    func shimDirectory(_ id: String) -> String { execRoot + "/containers/" + id }
    func shimSocket(_ id: String) -> String { shimDirectory(id) + "/shim.sock" }
    var runtimeRoot: String { execRoot + "/runtime" }
}

/// Writes a file so that a crash leaves the old or the new content (DESIGN rule 5).
func writeAtomically(_ data: Data, to path: String) throws {
    let temp = path + ".tmp"
    let fd = open(temp, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw BerthError.internalError("cannot write \(temp): \(String(cString: strerror(errno)))") }
    let written = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    let synced = fsync(fd)
    close(fd)
    guard written == data.count, synced == 0, rename(temp, path) == 0 else {
        unlink(temp)
        throw BerthError.internalError("cannot write \(path): \(String(cString: strerror(errno)))")
    }
}

/// RFC 3339 with nanoseconds in UTC, as Go prints times in Docker's JSON.
func timestamp(_ date: Date = Date()) -> String {
    let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
    let nanos = Int64(((date.timeIntervalSince1970 - Double(seconds)) * 1e9).rounded())
    return timestamp(seconds: seconds, nanoseconds: min(nanos, 999_999_999))
}

func timestamp(seconds: Int64, nanoseconds: Int64) -> String {
    var time = time_t(seconds)
    var parts = tm()
    gmtime_r(&time, &parts)
    let date = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    guard nanoseconds > 0 else { return date + "Z" }
    var fraction = String(format: "%09d", nanoseconds)
    while fraction.hasSuffix("0") { fraction.removeLast() }
    return date + "." + fraction + "Z"
}

/// Seconds since the epoch of an RFC 3339 UTC time as written above ("…T11:00:00.5Z").
func unixSeconds(_ text: String) -> Double? {
    let bytes = Array(text.utf8)
    guard bytes.count >= 20, bytes[4] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T") else { return nil }
    func number(_ start: Int, _ count: Int) -> Int32? {
        var value: Int32 = 0
        for byte in bytes[start..<start + count] {
            guard byte >= 48, byte <= 57 else { return nil }
            value = value * 10 + Int32(byte - 48)
        }
        return value
    }
    guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
          let minute = number(14, 2), let second = number(17, 2) else { return nil }
    var fields = tm()
    fields.tm_year = year - 1900
    fields.tm_mon = month - 1
    fields.tm_mday = day
    fields.tm_hour = hour
    fields.tm_min = minute
    fields.tm_sec = second
    var seconds = Double(timegm(&fields))
    if bytes[19] == UInt8(ascii: ".") {
        let digits = bytes[20...].prefix { $0 >= 48 && $0 <= 57 }
        seconds += Double("0." + String(decoding: digits, as: UTF8.self)) ?? 0
    }
    return seconds
}
