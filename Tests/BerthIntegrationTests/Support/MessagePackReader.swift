/// A MessagePack reader for the tests of the fluentd log driver: the forms fluentd's forward
/// messages use (arrays, maps, strings, integers, EventTime), read off a stream of messages.
enum MessagePackValue: Equatable, CustomStringConvertible {
    case int(Int64)
    case string(String)
    case array([MessagePackValue])
    case map([(String, MessagePackValue)])
    /// fluentd's EventTime (extension 0).
    case eventTime(seconds: UInt32, nanoseconds: UInt32)

    static func == (lhs: MessagePackValue, rhs: MessagePackValue) -> Bool { lhs.description == rhs.description }

    var description: String {
        switch self {
        case .int(let value): "\(value)"
        case .string(let text): "\"\(text)\""
        case .array(let items): "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .map(let pairs): "{" + pairs.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
        case .eventTime(let seconds, let nanoseconds): "EventTime(\(seconds), \(nanoseconds))"
        }
    }

    /// The map's fields as strings (for records).
    var fields: [String: String] {
        guard case .map(let pairs) = self else { return [:] }
        var out: [String: String] = [:]
        for (key, value) in pairs { if case .string(let text) = value { out[key] = text } }
        return out
    }

    var items: [MessagePackValue] {
        if case .array(let items) = self { return items }
        return []
    }

    /// Every complete value in `bytes`, in order.
    static func all(_ bytes: [UInt8]) -> [MessagePackValue] {
        var reader = Reader(bytes: bytes)
        var values: [MessagePackValue] = []
        while let value = reader.next() { values.append(value) }
        return values
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
            guard offset + count <= bytes.count else { return nil }
            defer { offset += count }
            return bytes[offset..<(offset + count)]
        }

        mutating func number(_ count: Int) -> UInt64? {
            guard let slice = take(count) else { return nil }
            return slice.reduce(0) { $0 << 8 | UInt64($1) }
        }

        mutating func next() -> MessagePackValue? {
            guard let first = take(1)?.first else { return nil }
            switch first {
            case 0x00...0x7F: return .int(Int64(first))
            case 0xE0...0xFF: return .int(Int64(Int8(bitPattern: first)))
            case 0x80...0x8F: return map(Int(first & 0x0F))
            case 0x90...0x9F: return array(Int(first & 0x0F))
            case 0xA0...0xBF: return string(Int(first & 0x1F))
            case 0xD9: return number(1).flatMap { string(Int($0)) }
            case 0xDA: return number(2).flatMap { string(Int($0)) }
            case 0xDB: return number(4).flatMap { string(Int($0)) }
            case 0xDC: return number(2).flatMap { array(Int($0)) }
            case 0xDE: return number(2).flatMap { map(Int($0)) }
            case 0xCC: return number(1).map { .int(Int64($0)) }
            case 0xCD: return number(2).map { .int(Int64($0)) }
            case 0xCE: return number(4).map { .int(Int64($0)) }
            case 0xD0: return number(1).map { .int(Int64(Int8(truncatingIfNeeded: $0))) }
            case 0xD1: return number(2).map { .int(Int64(Int16(truncatingIfNeeded: $0))) }
            case 0xD2: return number(4).map { .int(Int64(Int32(truncatingIfNeeded: $0))) }
            case 0xD3: return number(8).map { .int(Int64(bitPattern: $0)) }
            case 0xD7:
                guard take(1)?.first == 0, let seconds = number(4), let nanoseconds = number(4) else { return nil }
                return .eventTime(seconds: UInt32(seconds), nanoseconds: UInt32(nanoseconds))
            default: return nil
            }
        }

        mutating func string(_ count: Int) -> MessagePackValue? {
            take(count).map { .string(String(decoding: $0, as: UTF8.self)) }
        }

        mutating func array(_ count: Int) -> MessagePackValue? {
            var items: [MessagePackValue] = []
            for _ in 0..<count {
                guard let item = next() else { return nil }
                items.append(item)
            }
            return .array(items)
        }

        mutating func map(_ count: Int) -> MessagePackValue? {
            var pairs: [(String, MessagePackValue)] = []
            for _ in 0..<count {
                guard case .string(let key)? = next(), let value = next() else { return nil }
                pairs.append((key, value))
            }
            return .map(pairs)
        }
    }
}
