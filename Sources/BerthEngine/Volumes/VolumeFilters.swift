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
        try checkKeys(filters, accepted: ["name", "driver", "label", "dangling"])
        result.names = filters["name"] ?? []
        result.drivers = filters["driver"] ?? []
        result.labels = filters["label"] ?? []
        if let values = filters["dangling"] { result.dangling = try boolean("dangling", values) }
        return result
    }

    public static func forPrune(_ filters: [String: [String]]) throws -> VolumeFilters {
        var result = VolumeFilters()
        // `all` is read before the keys are checked, as dockerd does: strconv.ParseBool, one value.
        if let values = filters["all"] {
            guard values.count <= 1 else {
                throw BerthError.invalidArgument("invalid filter 'all=[\(values.sorted().joined(separator: " "))]': only one value is expected")
            }
            if let value = values.first {
                guard let all = goBool(value) else {
                    throw BerthError.invalidArgument("invalid filter 'all': strconv.ParseBool: parsing \(GoStrconv.quote(value)): invalid syntax")
                }
                result.all = all
            }
        }
        try checkKeys(filters, accepted: ["label", "label!", "all"])
        result.labels = filters["label"] ?? []
        result.notLabels = filters["label!"] ?? []
        return result
    }

    static func checkKeys(_ filters: [String: [String]], accepted: Set<String>) throws {
        if let key = filters.keys.sorted().first(where: { !accepted.contains($0) }) {
            throw BerthError.invalidArgument("invalid filter '\(key)'")
        }
    }

    /// Go's strconv.ParseBool.
    static func goBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "TRUE", "true", "True": true
        case "0", "f", "F", "FALSE", "false", "False": false
        default: nil
        }
    }

    /// dockerd's GetBoolOrDefault: "true"/"1" or "false"/"0", exactly, and not both.
    public static func boolean(_ key: String, _ values: [String]) throws -> Bool {
        let isTrue = values.contains("true") || values.contains("1")
        let isFalse = values.contains("false") || values.contains("0")
        guard !values.isEmpty else { throw BerthError.invalidArgument("invalid filter '\(key)'") }
        guard isTrue != isFalse else {
            throw BerthError.invalidArgument("invalid filter '\(key)=[\(values.joined(separator: " "))]'")
        }
        return isTrue
    }

    /// Whether a volume passes: names and drivers match any given, labels all given.
    public func matches(_ record: VolumeRecord, inUse: Bool) -> Bool {
        if !names.isEmpty && !names.contains(where: { Self.name($0, matches: record.Name) }) { return false }
        if !drivers.isEmpty && !drivers.contains(record.Driver) { return false }
        let labels = record.Labels ?? [:]
        if !self.labels.allSatisfy({ Self.label($0, in: labels) }) { return false }
        if notLabels.contains(where: { Self.label($0, in: labels) }) { return false }
        if let dangling, dangling == inUse { return false }
        return true
    }

    /// dockerd's name filter: the name itself, or a regular expression found in it (one that
    /// does not compile matches nothing).
    static func name(_ pattern: String, matches name: String) -> Bool {
        if pattern == name { return true }
        guard let expression = try? Regex(pattern) else { return false }
        return name.firstMatch(of: expression) != nil
    }

    /// `key` (present with any value) or `key=value`.
    static func label(_ filter: String, in labels: [String: String]) -> Bool {
        let parts = filter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let value = labels[parts[0]] else { return false }
        return parts.count == 1 || parts[1] == value
    }
}
