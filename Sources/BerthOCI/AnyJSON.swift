import FoundationEssentials

/// JSON read into plain Swift values — String, Bool, Int (or Double when not whole),
/// [Any], [String: Any], and `AnyJSON.null` — for inputs whose shape is checked key by key
/// (daemon.json, query filters). Foundation's JSONSerialization does the same but is not in
/// FoundationEssentials.
public enum AnyJSON {
    /// JSON's `null`.
    public struct Null: Sendable, Equatable {}
    public static let null = Null()

    /// Why a text is not JSON, in the decoder's own words ("Unexpected character ...").
    public struct SyntaxError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The document's value; throws a SyntaxError when the text is not JSON.
    public static func parse(_ data: Data) throws -> Any {
        do {
            return try JSONDecoder().decode(Node.self, from: data).value
        } catch DecodingError.dataCorrupted(let context) {
            throw SyntaxError(description: context.underlyingError.map { "\($0)" } ?? context.debugDescription)
        }
    }

    /// A value as compact JSON text (object keys sorted).
    public static func text(_ value: Any) -> String {
        switch value {
        case let text as String: return quoted(text)
        case let flag as Bool: return flag ? "true" : "false"
        case let number as Int: return String(number)
        case let number as Double: return String(number)
        case let list as [Any]: return "[" + list.map(text).joined(separator: ",") + "]"
        case let object as [String: Any]:
            return "{" + object.keys.sorted().map { quoted($0) + ":" + text(object[$0]!) }.joined(separator: ",") + "}"
        default: return "null"
        }
    }

    private static func quoted(_ text: String) -> String {
        let data = (try? JSONEncoder().encode(text)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    private struct Node: Decodable {
        let value: Any

        private struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            if let object = try? decoder.container(keyedBy: Key.self) {
                var values: [String: Any] = [:]
                for key in object.allKeys { values[key.stringValue] = try object.decode(Node.self, forKey: key).value }
                value = values
            } else if var array = try? decoder.unkeyedContainer() {
                var values: [Any] = []
                while !array.isAtEnd { values.append(try array.decode(Node.self).value) }
                value = values
            } else {
                let single = try decoder.singleValueContainer()
                if single.decodeNil() {
                    value = AnyJSON.null
                } else if let flag = try? single.decode(Bool.self) {
                    value = flag
                } else if let number = try? single.decode(Int.self) {
                    value = number
                } else if let number = try? single.decode(Double.self) {
                    value = number
                } else {
                    value = try single.decode(String.self)
                }
            }
        }
    }
}
