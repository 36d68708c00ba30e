import BerthOCI

/// The filters of `GET /volumes` (name, driver, label, dangling) and `POST /volumes/prune`
/// (label, label!, all), checked with dockerd's texts.
public struct VolumeFilters: Sendable, Equatable {
    public var names: [String] = []
    public var drivers: [String] = []
    public var labels: [String] = []
    public var notLabels: [String] = []
    /// nil: both; true: only volumes no container uses; false: only used ones.
    public var dangling: Bool?
    /// Prune: named volumes too, not only anonymous ones.
    public var all = false

    public init() {}

    public static func forList(_ filters: [String: [String]]) throws -> VolumeFilters {
        var result = VolumeFilters()
        for key in filters.keys.sorted() where !["name", "driver", "label", "dangling"].contains(key) {
            throw BerthError.invalidArgument("Invalid filter '\(key)'")
        }
        result.names = filters["name"] ?? []
        result.drivers = filters["driver"] ?? []
        result.labels = filters["label"] ?? []
        if let values = filters["dangling"], !values.isEmpty {
            result.dangling = try boolean("dangling", values)
        }
        return result
    }

    public static func forPrune(_ filters: [String: [String]]) throws -> VolumeFilters {
        var result = VolumeFilters()
        for key in filters.keys.sorted() where !["label", "label!", "all"].contains(key) {
            throw BerthError.invalidArgument("Invalid filter '\(key)'")
        }
        result.labels = filters["label"] ?? []
        result.notLabels = filters["label!"] ?? []
        if let values = filters["all"], !values.isEmpty { result.all = try boolean("all", values) }
        return result
    }

    /// "true"/"1" or "false"/"0", every value the same.
    static func boolean(_ key: String, _ values: [String]) throws -> Bool {
        let answers = Set(values.map { value -> Bool? in
            switch value.lowercased() {
            case "true", "1": true
            case "false", "0": false
            default: nil
            }
        })
        guard answers.count == 1, let answer = answers.first ?? nil else {
            throw BerthError.invalidArgument("Invalid filter '\(key)=[\(values.joined(separator: " "))]'")
        }
        return answer
    }

    /// Whether a volume passes: names and drivers match any given, labels all given.
    public func matches(_ record: VolumeRecord, inUse: Bool) -> Bool {
        if !names.isEmpty && !names.contains(where: { record.Name.contains($0) }) { return false }
        if !drivers.isEmpty && !drivers.contains(record.Driver) { return false }
        let labels = record.Labels ?? [:]
        if !self.labels.allSatisfy({ Self.label($0, in: labels) }) { return false }
        if notLabels.contains(where: { Self.label($0, in: labels) }) { return false }
        if let dangling, dangling == inUse { return false }
        return true
    }

    /// `key` (present with any value) or `key=value`.
    static func label(_ filter: String, in labels: [String: String]) -> Bool {
        let parts = filter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let value = labels[parts[0]] else { return false }
        return parts.count == 1 || parts[1] == value
    }
}
