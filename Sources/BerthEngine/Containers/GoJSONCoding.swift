// Helpers that make Swift's Codable read and write JSON the way dockerd's Go types do.

/// Docker's `strslice.StrSlice`: a list of strings that clients may also send as one string
/// (`"Cmd": "echo hi"` means `["echo hi"]`). Absent and `null` both decode to nil, which
/// differs from `[]`: an explicit empty Entrypoint resets the image's.
@propertyWrapper
public struct StringOrList: Codable, Sendable, Equatable, Hashable {
    public var wrappedValue: [String]?

    public init(wrappedValue: [String]?) {
        self.wrappedValue = wrappedValue
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            wrappedValue = nil
        } else if let list = try? container.decode([String].self) {
            wrappedValue = list
        } else {
            wrappedValue = [try container.decode(String.self)]
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

/// A Go field without `omitempty` in an answer: nil is written as `null`, never left out
/// (dockerd's prune reports and update warnings).
@propertyWrapper
public struct NullWhenNil<Value: Encodable & Sendable>: Encodable, Sendable {
    public var wrappedValue: Value?

    public init(wrappedValue: Value?) {
        self.wrappedValue = wrappedValue
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

extension KeyedDecodingContainer {
    /// Lets synthesized decoders treat a missing StringOrList key as nil.
    public func decode(_ type: StringOrList.Type, forKey key: Key) throws -> StringOrList {
        try decodeIfPresent(type, forKey: key) ?? StringOrList(wrappedValue: nil)
    }
}

extension KeyedEncodingContainer {
    /// A Go field without `omitempty`: nil is written as `null`, never left out.
    mutating func encodeOrNull<T: Encodable>(_ value: T?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }

    /// A Go slice or map field with `omitempty`: left out when nil or empty.
    mutating func encodeUnlessEmpty<T: Encodable & Collection>(_ value: T?, forKey key: Key) throws {
        if let value, !value.isEmpty { try encode(value, forKey: key) }
    }

    /// A Go scalar field with `omitempty`: left out when nil or the zero value.
    mutating func encodeUnlessZero<T: Encodable & Equatable>(_ value: T?, zero: T, forKey key: Key) throws {
        if let value, value != zero { try encode(value, forKey: key) }
    }
}
