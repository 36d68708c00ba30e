/// Docker's `container.HealthConfig`: a container's healthcheck and an image's HEALTHCHECK
/// (`config.Healthcheck`, as `docker build` writes it) are the same type. Durations are in
/// nanoseconds; 0 or nil means the default (a container inherits from its image what its
/// create request leaves unset). Encoded as Go's omitempty fields are.
public struct HealthConfig: Codable, Sendable, Equatable {
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

    enum CodingKeys: String, CodingKey { case Test, Interval, Timeout, StartPeriod, StartInterval, Retries }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if let Test, !Test.isEmpty { try c.encode(Test, forKey: .Test) }
        for (value, key) in [(Interval, CodingKeys.Interval), (Timeout, .Timeout), (StartPeriod, .StartPeriod),
                             (StartInterval, .StartInterval)] {
            if let value, value != 0 { try c.encode(value, forKey: key) }
        }
        if let Retries, Retries != 0 { try c.encode(Retries, forKey: .Retries) }
    }
}
