/// The members of a JSON object read as a type's fields, with Codable's rules: an optional
/// field may be missing or null, a required one may not; other members are ignored; an
/// integer must be whole and in its type's range. Errors name the field's path.
struct JSONFields {
    private let members: [String: JSONValue]
    let path: String

    init(_ value: JSONValue, at path: String) throws {
        guard case .object(let members) = value else { throw JSONShapeError(path: path, expected: "an object") }
        self.members = members
        self.path = path
    }

    private func place(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// The member's value; nil when missing or null.
    private func present(_ key: String) -> JSONValue? {
        guard let value = members[key], value != .null else { return nil }
        return value
    }

    private func required<T>(_ key: String, _ read: (String) throws -> T?) throws -> T {
        guard let value = try read(key) else { throw JSONShapeError(path: place(key), expected: "a value") }
        return value
    }

    func string(_ key: String) throws -> String? {
        guard let value = present(key) else { return nil }
        return try Self.string(value, at: place(key))
    }

    func string(required key: String) throws -> String { try required(key) { try string($0) } }

    func bool(_ key: String) throws -> Bool? {
        guard let value = present(key) else { return nil }
        guard case .bool(let flag) = value else { throw JSONShapeError(path: place(key), expected: "true or false") }
        return flag
    }

    func bool(required key: String) throws -> Bool { try required(key) { try bool($0) } }

    func integer<T: FixedWidthInteger>(_ key: String, as type: T.Type = T.self) throws -> T? {
        guard let value = present(key) else { return nil }
        return try Self.integer(value, at: place(key))
    }

    func integer<T: FixedWidthInteger>(required key: String, as type: T.Type = T.self) throws -> T {
        try required(key) { try integer($0, as: type) }
    }

    func strings(_ key: String) throws -> [String]? {
        try list(key) { try Self.string($0, at: $1) }
    }

    func integers<T: FixedWidthInteger>(_ key: String, as type: T.Type = T.self) throws -> [T]? {
        try list(key) { try Self.integer($0, at: $1) }
    }

    func stringMap(_ key: String) throws -> [String: String]? {
        guard let value = present(key) else { return nil }
        guard case .object(let members) = value else { throw JSONShapeError(path: place(key), expected: "an object") }
        var map: [String: String] = [:]
        for (name, member) in members { map[name] = try Self.string(member, at: place(key) + "." + name) }
        return map
    }

    func strings(required key: String) throws -> [String] { try required(key) { try strings($0) } }

    func object<T>(_ key: String, _ read: (JSONFields) throws -> T) throws -> T? {
        guard let value = present(key) else { return nil }
        return try read(JSONFields(value, at: place(key)))
    }

    func object<T>(required key: String, _ read: (JSONFields) throws -> T) throws -> T {
        try required(key) { try object($0, read) }
    }

    func objects<T>(_ key: String, _ read: (JSONFields) throws -> T) throws -> [T]? {
        try list(key) { try read(JSONFields($0, at: $1)) }
    }

    func list<T>(_ key: String, _ read: (JSONValue, String) throws -> T) throws -> [T]? {
        guard let value = present(key) else { return nil }
        guard case .array(let elements) = value else { throw JSONShapeError(path: place(key), expected: "an array") }
        var list: [T] = []
        list.reserveCapacity(elements.count)
        for (offset, element) in elements.enumerated() { list.append(try read(element, place(key) + "[\(offset)]")) }
        return list
    }

    static func string(_ value: JSONValue, at path: String) throws -> String {
        guard case .string(let text) = value else { throw JSONShapeError(path: path, expected: "a string") }
        return text
    }

    static func integer<T: FixedWidthInteger>(_ value: JSONValue, at path: String) throws -> T {
        guard case .number(let literal) = value else { throw JSONShapeError(path: path, expected: "a number") }
        if let number = T(literal) { return number }
        // 1.0 or 1e3 is whole; JSONDecoder takes it too.
        if literal.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }),
           let real = Double(literal), let number = T(exactly: real) {
            return number
        }
        throw JSONShapeError(path: path, expected: "a whole number that fits \(T.self)")
    }
}

struct JSONShapeError: Error, CustomStringConvertible {
    let path: String
    let expected: String
    var description: String { "\(path): expected \(expected)" }
}
