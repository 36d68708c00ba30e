import FoundationEssentials
import Testing
@testable import BerthEngine

/// The API's JSON as dockerd writes it: declaration order, sorted dictionaries, Go's escapes.
struct DeclarationOrderJSONTests {
    struct Inner: Encodable {
        var Zed = 1
        var Alpha: String? = nil
    }
    struct Outer: Encodable {
        var Name = "n"
        var Created = 1.5
        var Whole = 3.0
        var Labels = ["b": "2", "a": "1", "c": "3"]
        var Inner = DeclarationOrderJSONTests.Inner()
        var List: [Int?] = [1, nil]
        var Empty: [String: Int] = [:]
        var Flag = true
        var Big: Int64 = -9_000_000_000
    }

    private func text<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try DeclarationOrderJSON.encode(value), as: UTF8.self)
    }

    @Test func keysInDeclarationOrderAndDictionariesSorted() throws {
        #expect(try text(Outer()) == #"{"Name":"n","Created":1.5,"Whole":3,"Labels":{"a":"1","b":"2","c":"3"},"Inner":{"Zed":1},"List":[1,null],"Empty":{},"Flag":true,"Big":-9000000000}"#)
    }

    @Test func stringsEscapedAsGoDoesWithoutHTMLEscapes() throws {
        #expect(try text(["k": "a/b <&> \"q\" \\ \n\t\r\u{8}\u{C}\u{1} é\u{2028}\u{2029}"])
                == #"{"k":"a/b <&> \"q\" \\ \n\t\r\b\f\u0001 é\u2028\u2029"}"#)
    }

    /// A custom encode(to:) that writes a key twice keeps its first place and last value;
    /// OrderedJSONKeys puts the keys it names first.
    struct Rewritten: Encodable, OrderedJSONKeys {
        static let jsonKeyOrder = ["B", "A"]
        enum Keys: String, CodingKey { case A, B, C }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(1, forKey: .A)
            try c.encode(2, forKey: .C)
            try c.encodeNil(forKey: .B)
            try c.encode(3, forKey: .A)
        }
    }

    @Test func rewrittenKeysAndAnOrderOfItsOwn() throws {
        #expect(try text(Rewritten()) == #"{"B":null,"A":3,"C":2}"#)
    }

    @Test func notANumberIsRefused() {
        #expect(throws: EncodingError.self) { try DeclarationOrderJSON.encode(["x": Double.nan]) }
    }
}
