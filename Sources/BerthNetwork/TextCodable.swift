/// Addresses and subnets are stored in JSON as their text ("172.17.0.2", "fd00:1::/64"):
/// decoded with the type's parser, encoded as `codingText`.
protocol TextCodable: Codable {
    init?(_ text: String)
    var codingText: String { get }
    /// Named in the error for text that does not parse ("IPv4 address").
    static var codingName: String { get }
}

extension TextCodable {
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad \(Self.codingName) \(text)"))
        }
        self = value
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(codingText)
    }
}
