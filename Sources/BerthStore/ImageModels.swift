import BerthOCI
import FoundationEssentials
import Glibc

/// GET /images/json items, with the API's field names.
public struct ImageSummary: Codable, Sendable {
    public var Id: String
    public var ParentId: String
    public var RepoTags: [String]
    public var RepoDigests: [String]
    public var Created: Int64
    public var Size: Int64
    public var SharedSize: Int64
    public var Labels: [String: String]
    public var Containers: Int64
    /// Size again, for clients below API 1.44 (which removed it); nil otherwise.
    public var VirtualSize: Int64? = nil
}

/// GET /images/{name}/json.
public struct ImageInspect: Codable, Sendable {
    public struct GraphDriver: Codable, Sendable {
        // Go's order (DriverData).
        public var Data: [String: String]
        public var Name: String
    }
    public struct RootFS: Codable, Sendable {
        public var `Type`: String
        public var Layers: [String]
    }
    public struct Metadata: Codable, Sendable {
        public var LastTagTime: String
    }
    public var Id: String
    public var RepoTags: [String]
    public var RepoDigests: [String]
    public var Parent: String
    public var Comment: String
    public var Created: String
    public var DockerVersion: String
    public var Author: String
    public var Config: ImageConfig.Config?
    /// The route shows these to clients below 1.45 (ContainerConfig to all, for compose).
    public var Container: String?
    public var ContainerConfig: ImageConfig.Config?
    public var Architecture: String
    public var Variant: String?
    public var Os: String
    public var Size: Int64
    /// Size again, for clients below API 1.44 (which removed it); nil otherwise.
    public var VirtualSize: Int64? = nil
    public var GraphDriver: GraphDriver
    public var RootFS: RootFS
    public var Metadata: Metadata
}

/// DELETE /images/{name} items: {"Untagged": "..."} or {"Deleted": "..."}.
public struct DeleteResponseItem: Codable, Sendable, Equatable {
    public var Untagged: String?
    public var Deleted: String?
    public init(Untagged: String? = nil, Deleted: String? = nil) {
        self.Untagged = Untagged
        self.Deleted = Deleted
    }
}

/// GET /images/{name}/history rows, newest first.
public struct HistoryItem: Codable, Sendable, Equatable {
    public var Id: String
    public var Created: Int64
    public var CreatedBy: String
    public var Tags: [String]
    public var Size: Int64
    public var Comment: String
}

/// POST /images/prune.
public struct PruneReport: Codable, Sendable {
    public var ImagesDeleted: [DeleteResponseItem]?
    public var SpaceReclaimed: Int64

    /// As dockerd writes it: no deleted images is `null`, not a missing key.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ImagesDeleted, forKey: .ImagesDeleted)
        try container.encode(SpaceReclaimed, forKey: .SpaceReclaimed)
    }
}

/// `docker image prune --filter`: until (images created before it), label, label!.
public struct PruneFilters: Sendable {
    public var until: Int64?
    public var labels: [String]
    public var withoutLabels: [String]

    public init(until: Int64? = nil, labels: [String] = [], withoutLabels: [String] = []) {
        self.until = until
        self.labels = labels
        self.withoutLabels = withoutLabels
    }

    var isEmpty: Bool { until == nil && labels.isEmpty && withoutLabels.isEmpty }

    func matches(_ config: ImageConfig) -> Bool {
        if let until, ImageStore.unixTime(config.created) >= until { return false }
        let have = config.config?.Labels ?? [:]
        func has(_ label: String) -> Bool {
            let parts = label.split(separator: "=", maxSplits: 1).map(String.init)
            return parts.count == 1 ? have[parts[0]] != nil : have[parts[0]] == parts[1]
        }
        return labels.allSatisfy(has) && !withoutLabels.contains(where: has)
    }
}

/// The containers using an image, by ID.
public struct ImageUsers: Sendable {
    public var running: [String] = []
    public var stopped: [String] = []
    public init(running: [String] = [], stopped: [String] = []) {
        self.running = running
        self.stopped = stopped
    }
    public var isEmpty: Bool { running.isEmpty && stopped.isEmpty }
}
