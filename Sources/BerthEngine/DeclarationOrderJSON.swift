import FoundationEssentials

/// JSON in the order dockerd writes it: a type's keys in the order its `encode(to:)` gives
/// them (its declaration order, as Go's encoding/json follows a struct's fields), a
/// dictionary's keys sorted (as Go sorts a map's), slashes and HTML characters as they are.
/// `docker inspect` prints the daemon's bytes re-indented, so the order is what users see;
/// FoundationEssentials' encoder keeps no order at all.
public enum DeclarationOrderJSON {
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let root = JSONNode()
        try JSONNode.fill(root, with: value, codingPath: [])
        var output: [UInt8] = []
        output.reserveCapacity(1024)
        root.write(to: &output)
        return output
    }
}

/// One value of the tree being built; containers fill it in place.
final class JSONNode {
    enum Kind { case empty, literal, string, array, object }
    var kind = Kind.empty
    /// A number, `true`, `false` or `null` as written (literal), or the text (string).
    var text = ""
    var items: [JSONNode] = []
    var keys: [String] = []
    var members: [String: JSONNode] = [:]
    /// A dictionary's object: its keys are written sorted.
    var sortsKeys = false

    /// The member for `key`, made (or emptied) for a new value; a key written twice keeps its
    /// first place and its last value, as with Foundation's encoder.
    func member(_ key: String) -> JSONNode {
        if kind != .object { becomeObject() }
        let node = JSONNode()
        if members.updateValue(node, forKey: key) == nil { keys.append(key) }
        return node
    }

    /// The keys `order` names first, in its order, then the others as they came.
    func order(by order: [String]) {
        let named = order.filter { members[$0] != nil }
        let rest = keys.filter { !order.contains($0) }
        keys = named + rest
    }

    func becomeNull() {
        kind = .literal
        text = "null"
    }

    func becomeObject() {
        kind = .object
        items = []
    }

    func becomeArray() {
        kind = .array
        keys = []
        members = [:]
    }

    /// Fills `node` with `value`: scalars directly, the rest through its own `encode(to:)`.
    static func fill<T: Encodable>(_ node: JSONNode, with value: T, codingPath: [any CodingKey]) throws {
        switch value {
        case let text as String: node.kind = .string; node.text = text
        case let flag as Bool: node.kind = .literal; node.text = flag ? "true" : "false"
        case let number as Double: node.kind = .literal; node.text = try number.jsonText(codingPath)
        case let number as Float: node.kind = .literal; node.text = try Double(number).jsonText(codingPath)
        case let data as Data: node.kind = .string; node.text = data.base64EncodedString()
        case let dictionary as any SortedJSONObject:
            node.becomeObject()
            node.sortsKeys = true
            try dictionary.fillMembers(of: node, codingPath: codingPath)
        default:
            if let number = value as? any BinaryInteger {
                node.kind = .literal
                node.text = "\(number)"
                return
            }
            try value.encode(to: NodeEncoder(node: node, codingPath: codingPath))
            // A value that wrote nothing is an empty object, as Foundation's encoder makes it.
            if node.kind == .empty { node.becomeObject() }
            if let order = (value as? any OrderedJSONKeys).map({ type(of: $0).jsonKeyOrder }) { node.order(by: order) }
        }
    }

    func write(to output: inout [UInt8]) {
        switch kind {
        case .empty: output.append(contentsOf: "{}".utf8)
        case .literal: output.append(contentsOf: text.utf8)
        case .string: Self.writeString(text, to: &output)
        case .array:
            output.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                item.write(to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object:
            output.append(UInt8(ascii: "{"))
            for (index, key) in (sortsKeys ? keys.sorted() : keys).enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                Self.writeString(key, to: &output)
                output.append(UInt8(ascii: ":"))
                members[key]!.write(to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// Go's escapes (without its HTML ones, which dockerd turns off; U+2028 and U+2029, which
    /// Go escapes always, too).
    static func writeString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { bytes in
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if byte == 0xE2, index + 1 < bytes.count, bytes[index] == 0x80, bytes[index + 1] == 0xA8 || bytes[index + 1] == 0xA9 {
                    output.append(contentsOf: (bytes[index + 1] == 0xA8 ? "\\u2028" : "\\u2029").utf8)
                    index += 2
                    continue
                }
                switch byte {
                case UInt8(ascii: "\""): output.append(contentsOf: "\\\"".utf8)
                case UInt8(ascii: "\\"): output.append(contentsOf: "\\\\".utf8)
                case 0x0A: output.append(contentsOf: "\\n".utf8)
                case 0x0D: output.append(contentsOf: "\\r".utf8)
                case 0x09: output.append(contentsOf: "\\t".utf8)
                case 0x08: output.append(contentsOf: "\\b".utf8)
                case 0x0C: output.append(contentsOf: "\\f".utf8)
                case 0..<0x20:
                    output.append(contentsOf: "\\u00".utf8)
                    output.append(hexDigits[Int(byte >> 4)])
                    output.append(hexDigits[Int(byte & 0xF)])
                default: output.append(byte)
                }
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}

extension Double {
    /// As Go writes a float64: integral values without a fraction, others in the shortest form.
    func jsonText(_ codingPath: [any CodingKey]) throws -> String {
        guard isFinite else {
            throw EncodingError.invalidValue(self, .init(codingPath: codingPath, debugDescription: "\(self) is not valid JSON"))
        }
        if self == rounded(), abs(self) < 1e21 { return String(Int64(self)) }
        return "\(self)"
    }
}

/// A type whose encode(to:) writes its keys in another order than dockerd's (one that adds
/// fields for older API versions after the current ones): the keys named here come first.
public protocol OrderedJSONKeys {
    static var jsonKeyOrder: [String] { get }
}

/// A dictionary with String keys: its members are written sorted (Go sorts a map's keys).
protocol SortedJSONObject {
    func fillMembers(of node: JSONNode, codingPath: [any CodingKey]) throws
}

extension Dictionary: SortedJSONObject where Key == String, Value: Encodable {
    func fillMembers(of node: JSONNode, codingPath: [any CodingKey]) throws {
        for (key, value) in self {
            try JSONNode.fill(node.member(key), with: value, codingPath: codingPath + [JSONKey(key)])
        }
    }
}

struct JSONKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) {
        stringValue = "\(intValue)"
        self.intValue = intValue
    }
}

/// The Encoder a value's `encode(to:)` writes into: one node.
struct NodeEncoder: Encoder {
    let node: JSONNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if node.kind != .object { node.becomeObject() }
        return KeyedEncodingContainer(KeyedNodeContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if node.kind != .array { node.becomeArray() }
        return UnkeyedNodeContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueNodeContainer(node: node, codingPath: codingPath)
    }
}

struct KeyedNodeContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: JSONNode
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws {
        node.member(key.stringValue).becomeNull()
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try JSONNode.fill(node.member(key.stringValue), with: value, codingPath: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = node.member(key.stringValue)
        child.becomeObject()
        return KeyedEncodingContainer(KeyedNodeContainer<NestedKey>(node: child, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = node.member(key.stringValue)
        child.becomeArray()
        return UnkeyedNodeContainer(node: child, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder { NodeEncoder(node: node.member("super"), codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { NodeEncoder(node: node.member(key.stringValue), codingPath: codingPath + [key]) }
}

struct UnkeyedNodeContainer: UnkeyedEncodingContainer {
    let node: JSONNode
    let codingPath: [any CodingKey]
    var count: Int { node.items.count }

    private func next() -> JSONNode {
        let child = JSONNode()
        node.items.append(child)
        return child
    }

    mutating func encodeNil() throws { next().becomeNull() }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let path = codingPath + [JSONKey(intValue: count)!]
        try JSONNode.fill(next(), with: value, codingPath: path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = next()
        child.becomeObject()
        return KeyedEncodingContainer(KeyedNodeContainer<NestedKey>(node: child, codingPath: codingPath))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = next()
        child.becomeArray()
        return UnkeyedNodeContainer(node: child, codingPath: codingPath)
    }

    mutating func superEncoder() -> any Encoder { NodeEncoder(node: next(), codingPath: codingPath) }
}

struct SingleValueNodeContainer: SingleValueEncodingContainer {
    let node: JSONNode
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.becomeNull() }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try JSONNode.fill(node, with: value, codingPath: codingPath)
    }
}
