import BerthEngine
import BerthOCI
import FoundationEssentials

/// JSON request bodies read as dockerd's handlers read them (httputils.CheckForJSON and
/// ReadJSON, runconfig's loadJSON), with its answers to what SDKs and scripts get wrong: a
/// body without `Content-Type: application/json`, an empty or cut-off body, content after
/// the JSON, a field of the wrong type — each in dockerd's words, as a 400.
enum JSONRequestBody {
    /// CheckForJSON: a body must say it is application/json (parameters such as a charset
    /// are fine); without a Content-Type only an empty body passes.
    static func checkContentType(_ request: APIRequest) throws {
        let contentType = request.headers.first(name: "Content-Type") ?? ""
        if contentType.isEmpty && request.body.isEmpty { return }
        switch MediaType.parse(contentType) {
        case .failure(let reason):
            throw BerthError.invalidArgument("malformed Content-Type header (\(contentType)): \(reason)")
        case .success(let type) where type != "application/json":
            throw BerthError.invalidArgument("unsupported Content-Type header (\(contentType)): must be 'application/json'")
        case .success:
            return
        }
    }

    /// ReadJSON: the Content-Type checked, then nil for an empty body (dockerd takes it as
    /// "nothing set") or for `null`, else the body's one JSON value.
    static func read<T: Decodable>(_ type: T.Type, from request: APIRequest, as goType: GoJSONTypeError) throws -> T? {
        try checkContentType(request)
        guard !request.body.isEmpty else { return nil }
        return try decode(type, request.body, as: goType)
    }

    /// The first JSON value of `body`, nil when it is `null`, with Go's failures: white
    /// space alone is EOF, a syntax error or cut-off value is "invalid JSON: …", a value of
    /// the wrong type Go's UnmarshalTypeError, and anything after the value refused.
    static func decode<T: Decodable>(_ type: T.Type, _ body: [UInt8], as goType: GoJSONTypeError) throws -> T? {
        let first: (end: Int, more: Bool)
        do {
            first = try GoJSONScanner.firstValue(body)
        } catch .endOfInput {
            throw BerthError.invalidArgument("invalid JSON: got EOF while reading request body")
        } catch {
            throw BerthError.invalidArgument("invalid JSON: \(error.text)")
        }
        let raw = Array(body[..<first.end])
        let value = GoJSONKeyFolding.folded(raw) ?? raw
        var decoded: T?
        if value.drop(while: { [0x20, 0x09, 0x0A, 0x0D].contains($0) }) != Array("null".utf8)[...] {
            do {
                decoded = try JSONDecoder().decode(T.self, from: Data(value))
            } catch let error as DecodingError {
                throw BerthError.invalidArgument("invalid JSON: " + (goType.message(error, body: value) ?? "\(error)"))
            }
        }
        if first.more { throw BerthError.invalidArgument("unexpected content after JSON") }
        return decoded
    }
}

extension JSONRequestBody {
    /// The body with `key` set to `zeroValue` (JSON text) when its object lacks the key: Go
    /// leaves a missing field at its zero value, where a Swift model may require it.
    static func addingMissingKey(_ key: String, zeroValue: String, to body: [UInt8]) -> [UInt8] {
        guard let start = body.firstIndex(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }), body[start] == UInt8(ascii: "{"),
              let (end, _) = try? GoJSONScanner.firstValue(body),
              let object = try? AnyJSON.parse(Data(body[..<end])) as? [String: Any], object[key] == nil else { return body }
        let member = Array((GoStrconv.quote(key) + ":" + zeroValue + (object.isEmpty ? "" : ",")).utf8)
        return Array(body[...start]) + member + Array(body[(start + 1)...])
    }
}

/// Go's mime.ParseMediaType, as far as dockerd's Content-Type check needs it: the lowercased
/// `type/subtype`, or Go's reason it is malformed.
enum MediaType {
    static func parse(_ text: String) -> Result<String, Reason> {
        let parts = text.split(separator: ";", omittingEmptySubsequences: false)
        let media = String(parts[0]).trimmed().lowercased()
        let pieces = media.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let type = pieces[0].prefix(while: isTokenCharacter)
        guard !type.isEmpty else { return .failure(Reason("mime: no media type")) }
        guard type.count == pieces[0].count, pieces.count == 2 else {
            return .failure(Reason("mime: expected slash after first token"))
        }
        let subtype = pieces[1].prefix(while: isTokenCharacter)
        guard !subtype.isEmpty else { return .failure(Reason("mime: expected token after slash")) }
        guard subtype.count == pieces[1].count else { return .failure(Reason("mime: unexpected content after media subtype")) }
        for (index, parameter) in parts.dropFirst().enumerated() {
            let trimmed = String(parameter).trimmed()
            if trimmed.isEmpty && index == parts.count - 2 { break }  // a trailing ";" is allowed
            let keyValue = trimmed.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard keyValue.count == 2, !keyValue[0].isEmpty, keyValue[0].allSatisfy(isTokenCharacter), !keyValue[1].isEmpty else {
                return .failure(Reason("mime: invalid media parameter"))
            }
        }
        return .success(String(type) + "/" + String(subtype))
    }

    struct Reason: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// RFC 2045's token characters: printable ASCII but for space and tspecials.
    static func isTokenCharacter(_ character: Character) -> Bool {
        guard let ascii = character.asciiValue, ascii > 0x20, ascii < 0x7F else { return false }
        return !"()<>@,;:\\\"/[]?=".contains(character)
    }
}
