/// The HEALTHCHECK of an image's config (`config.Healthcheck`), durations in nanoseconds, as
/// `docker build` writes it. Containers inherit what their create request leaves unset.
public struct ImageHealthcheck: Codable, Sendable, Equatable {
    public var Test: [String]?
    public var Interval: Int64?
    public var Timeout: Int64?
    public var StartPeriod: Int64?
    public var StartInterval: Int64?
    public var Retries: Int?

    public init(Test: [String]? = nil, Interval: Int64? = nil, Timeout: Int64? = nil, StartPeriod: Int64? = nil,
                StartInterval: Int64? = nil, Retries: Int? = nil) {
        self.Test = Test
        self.Interval = Interval
        self.Timeout = Timeout
        self.StartPeriod = StartPeriod
        self.StartInterval = StartInterval
        self.Retries = Retries
    }
}
