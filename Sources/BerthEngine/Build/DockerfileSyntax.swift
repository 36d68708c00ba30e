import BerthOCI

/// One logical line of a Dockerfile: continuations joined, comments dropped.
public struct DockerfileLine: Sendable, Equatable {
    /// Lower-cased instruction word ("from", "run").
    public var instruction: String
    /// The instruction word as written.
    public var word: String
    /// What follows the instruction word, leading `--flag` words included.
    public var rest: String
    /// The line as dockerd echoes it in "Step N/M : ...": the joined physical lines.
    public var original: String
    /// The 1-based number of its first physical line.
    public var lineNumber: Int
}

/// A parsed Dockerfile: its escape character and its logical lines.
public struct DockerfileDocument: Sendable, Equatable {
    public var escape: Character
    public var lines: [DockerfileLine]
    /// The lines continued across a blank line (dockerd warns about them).
    public var emptyContinuations: [String] = []
}

/// The first stage of reading a Dockerfile, as the classic builder does it: parser directives
/// at the top (`# escape=` and `# syntax=`), comments, blank lines, and continuations ending in
/// the escape character. Heredocs are not part of this grammar (dockerd 20.10 has none), so
/// `RUN <<EOF` reads as an ordinary line and its body as instructions, as there.
public enum DockerfileSyntax {
    public static func parse(_ text: String) throws -> DockerfileDocument {
        var escape: Character = "\\"
        // Split on the scalar: as a Character, "\r\n" is one grapheme that "\n" does not match,
        // and a Dockerfile with CRLF line ends would read as a single line.
        var physical = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { scalars in
            var line = String(String.UnicodeScalarView(scalars))
            if line.unicodeScalars.last == "\r" { line.unicodeScalars.removeLast() }
            return line
        }
        // A byte order mark is not part of the first line.
        if let first = physical.first, first.hasPrefix("\u{FEFF}") { physical[0] = String(first.dropFirst()) }
        var index = 0
        var seenDirectives = Set<String>()
        // Directives: only before anything else, one per name.
        while index < physical.count, let (name, value) = directive(physical[index]) {
            guard !seenDirectives.contains(name) else {
                throw BerthError.invalidArgument("failed to parse Dockerfile: only one \(name) parser directive can be used")
            }
            seenDirectives.insert(name)
            if name == "escape" {
                guard value == "`" || value == "\\" else {
                    throw BerthError.invalidArgument("failed to parse Dockerfile: invalid ESCAPE '\(value)'. Must be ` or \\")
                }
                escape = Character(value)
            }
            index += 1
        }
        var lines: [DockerfileLine] = []
        var emptyContinuations: [String] = []
        while index < physical.count {
            let start = index
            var text = physical[index]
            index += 1
            if isComment(text) || text.trimmed(newlines: false).isEmpty { continue }
            var original = ""
            var joined = ""
            var blankInside = false
            // A continued line ends in the escape character (trailing blanks aside).
            while true {
                let (body, continues) = continuation(text, escape: escape)
                original += body
                joined += body
                guard continues else { break }
                // Comment and blank lines inside a continuation are skipped.
                while index < physical.count,
                      isComment(physical[index]) || physical[index].trimmed(newlines: false).isEmpty {
                    if !isComment(physical[index]) { blankInside = true }
                    index += 1
                }
                guard index < physical.count else { break }
                text = physical[index]
                index += 1
            }
            if blankInside { emptyContinuations.append(String(original.drop { $0 == " " || $0 == "\t" }).trimmedTrailing()) }
            let trimmed = joined.drop { $0 == " " || $0 == "\t" }
            let word = String(trimmed.prefix { !$0.isWhitespace })
            let rest = String(trimmed.dropFirst(word.count)).trimmed(newlines: false)
            lines.append(DockerfileLine(instruction: word.lowercased(), word: word, rest: rest,
                                        original: String(original.drop { $0 == " " || $0 == "\t" }).trimmedTrailing(),
                                        lineNumber: start + 1))
        }
        guard !lines.isEmpty else { throw BerthError.invalidArgument("failed to parse Dockerfile: file with no instructions") }
        return DockerfileDocument(escape: escape, lines: lines, emptyContinuations: emptyContinuations)
    }

    /// "# escape=`" → ("escape", "`"); names are case-insensitive; unknown ones are ignored
    /// as directives but still end nothing (they are comments that look like directives).
    static func directive(_ line: String) -> (String, String)? {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        guard trimmed.hasPrefix("#") else { return nil }
        let body = trimmed.dropFirst().drop { $0 == " " || $0 == "\t" }
        guard let equals = body.firstIndex(of: "=") else { return nil }
        let name = body[..<equals].trimmed(newlines: false)
        guard let first = name.first, first.isASCII, first.isLetter,
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return nil }
        let value = body[body.index(after: equals)...].trimmed(newlines: false)
        let lowered = name.lowercased()
        guard lowered == "escape" || lowered == "syntax" else { return nil }
        return (lowered, value)
    }

    static func isComment(_ line: String) -> Bool {
        line.drop { $0 == " " || $0 == "\t" }.hasPrefix("#")
    }

    /// The line without its continuation mark, and whether it had one.
    static func continuation(_ line: String, escape: Character) -> (String, Bool) {
        let trimmed = line.trimmedTrailing()
        if trimmed.last == escape {
            return (String(trimmed.dropLast()), true)
        }
        return (line, false)
    }
}

extension String {
    /// Without trailing blanks (spaces, tabs).
    func trimmedTrailing() -> String {
        var text = Substring(self)
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
