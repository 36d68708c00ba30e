import FoundationEssentials

/// One volume of the local driver as berthd keeps it in `volumes/<name>/volume.json`; its
/// data lives beside it in `_data`.
public struct VolumeRecord: Codable, Sendable, Equatable {
    public var Name: String
    public var Driver = "local"
    public var Labels: [String: String]?
    public var Options: [String: String]?
    /// RFC 3339 in seconds, as dockerd shows it.
    public var CreatedAt: String

    /// The label modern dockerd puts on volumes made without a name (`-v /path`, an image's
    /// VOLUME); `volume prune` without `all` removes only those (API 1.42 and later).
    public static let anonymousLabel = "com.docker.volume.anonymous"

    public var isAnonymous: Bool { Labels?[Self.anonymousLabel] != nil }
}

/// A volume as `GET /volumes` and `GET /volumes/{name}` answer it (Labels and Options null
/// when empty, as dockerd writes them).
public struct VolumeView: Encodable, Sendable {
    public struct Usage: Encodable, Sendable {
        public var RefCount: Int
        public var Size: Int64
    }
    public var record: VolumeRecord
    public var mountpoint: String
    /// Only in `GET /system/df` (`docker system df`).
    public var usage: Usage?

    enum CodingKeys: String, CodingKey { case CreatedAt, Driver, Labels, Mountpoint, Name, Options, Scope, UsageData }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(record.CreatedAt, forKey: .CreatedAt)
        try container.encode(record.Driver, forKey: .Driver)
        try container.encode(record.Labels.flatMap { $0.isEmpty ? nil : $0 }, forKey: .Labels)
        try container.encode(mountpoint, forKey: .Mountpoint)
        try container.encode(record.Name, forKey: .Name)
        try container.encode(record.Options.flatMap { $0.isEmpty ? nil : $0 }, forKey: .Options)
        try container.encode("local", forKey: .Scope)
        try container.encodeIfPresent(usage, forKey: .UsageData)
    }
}
