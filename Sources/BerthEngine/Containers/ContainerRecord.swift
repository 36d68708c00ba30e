import BerthOCI
import BerthStore
import FoundationEssentials
import Glibc

/// `State` in `docker inspect`.
public struct ContainerStateRecord: Codable, Sendable, Equatable {
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
    /// Only for a container with a healthcheck (absent otherwise, as dockerd leaves it out).
    public var Health: ContainerHealth?

    /// Running, paused and restarting containers hold a process (or are about to).
    public var isActive: Bool { Running || Restarting }
}

/// A container as berthd keeps it in `containers/<id>/config.v2.json` (its HostConfig is in
/// hostconfig.json beside it). Field names are those `docker inspect` shows.
public struct ContainerRecord: Codable, Sendable, Equatable {
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
    /// The volumes it mounts, made or found at create (nil: none).
    public var VolumeMounts: [VolumeMountPoint]?
    /// The binds it took from other containers with `--volumes-from` (nil: none).
    public var InheritedBinds: [InheritedBind]?
    /// Made by a client before API 1.44: its read-only binds are read-only at the top
    /// only, as dockerd keeps them for such clients (nil: recursively).
    public var ReadOnlyNonRecursiveBinds: Bool?
    /// The images it mounts with `--mount type=image` (nil: none).
    public var ImageMounts: [ImageMountPoint]?

    /// JSON with sorted keys: the same record always gives the same bytes.
    static var sortedEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

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
    /// The local driver's files, where dockerd keeps them (its format is Berth's json-file one).
    func localLogDirectory(_ id: String) -> String { directory(id) + "/local-logs" }
    /// The file the shim writes the container's output to, for drivers that write one.
    func logFile(_ id: String, driver: String) -> String? {
        switch driver {
        case "json-file": jsonLog(id)
        case "local": localLogDirectory(id) + "/container.log"
        default: nil
        }
    }
    /// The OCI bundle and the shim's socket, exit file and logs.
    func shimDirectory(_ id: String) -> String { execRoot + "/containers/" + id }
    func shimSocket(_ id: String) -> String { shimDirectory(id) + "/shim.sock" }
    var runtimeRoot: String { execRoot + "/runtime" }
}

/// Writes a file so that a crash leaves the old or the new content (DESIGN rule 5). Files
/// made again at every start (the bundle, /etc/hosts and friends) need not be `durable`.
func writeAtomically(_ data: Data, to path: String, durable: Bool = true) throws {
    try AtomicFile.write(data, to: path, durable: durable)
}

/// RFC 3339 with nanoseconds in UTC, as Go prints times in Docker's JSON (the log reader's
/// formatting: trailing zeros of the fraction dropped).
func timestamp(_ date: Date = Date()) -> String {
    let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
    let nanos = Int64(((date.timeIntervalSince1970 - Double(seconds)) * 1e9).rounded())
    return timestamp(seconds: seconds, nanoseconds: min(nanos, 999_999_999))
}

func timestamp(seconds: Int64, nanoseconds: Int64) -> String {
    LogTimestamp(seconds: seconds, nanoseconds: Int32(nanoseconds)).rfc3339(fixedFraction: false)
}

/// Seconds since the epoch of an RFC 3339 time as written above.
func unixSeconds(_ text: String) -> Double? {
    LogTimestamp(rfc3339: text).map { Double($0.seconds) + Double($0.nanoseconds) / 1e9 }
}
