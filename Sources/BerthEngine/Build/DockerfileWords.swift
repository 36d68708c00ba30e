import BerthOCI

/// Variable substitution in a Dockerfile's arguments, as the classic builder does it: quotes
/// ('...' literal, "..." with substitution), the escape character, `$VAR`, `${VAR}`,
/// `${VAR:-word}`, `${VAR:+word}`, `${VAR:?message}` (and the forms without the colon, where
/// only an unset variable counts as missing).
public struct DockerfileWords {
    public let escape: Character
    public let environment: [String: String]

    public init(escape: Character, environment: [String: String]) {
        self.escape = escape
        self.environment = environment
    }

    /// "K=V" entries, later ones winning.
    public static func environment(_ entries: [String]) -> [String: String] {
        var map: [String: String] = [:]
        for entry in entries {
            let name = entry.prefix { $0 != "=" }
            map[String(name)] = entry.count > name.count ? String(entry.dropFirst(name.count + 1)) : ""
        }
        return map
    }

    /// One word: quotes removed, variables substituted, blanks kept.
    public func word(_ text: String) throws -> String {
        try Self.failing(text) {
            var scanner = Scanner(Array(text))
            return try process(&scanner, stopAt: nil, splitting: false).joined()
        }
    }

    /// Words split at unquoted blanks after substitution (EXPOSE, ARG-free lists).
    public func words(_ text: String) throws -> [String] {
        try Self.failing(text) {
            var scanner = Scanner(Array(text))
            return try process(&scanner, stopAt: nil, splitting: true)
        }
    }

    /// An error names the text it came from, as dockerd's shell lexer words it.
    private static func failing<T>(_ text: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as BerthError {
            throw BerthError.invalidArgument("failed to process \(GoFormat.quote(text)): \(error.message)")
        }
    }

    struct Scanner {
        let characters: [Character]
        var position = 0
        init(_ characters: [Character]) { self.characters = characters }
        var atEnd: Bool { position >= characters.count }
        func peek() -> Character? { atEnd ? nil : characters[position] }
        mutating func next() -> Character? {
            guard !atEnd else { return nil }
            defer { position += 1 }
            return characters[position]
        }
    }

    /// Reads up to `stopAt` (consumed) or the end. With `splitting`, unquoted blanks end words.
    private func process(_ scanner: inout Scanner, stopAt: Character?, splitting: Bool) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        while let ch = scanner.peek() {
            if let stopAt, ch == stopAt {
                _ = scanner.next()
                break
            }
            if splitting, ch == " " || ch == "\t" || ch == "\n" {
                _ = scanner.next()
                if inWord { words.append(current) }
                current = ""
                inWord = false
                continue
            }
            let wasInWord = inWord
            inWord = true
            switch ch {
            case "'":
                _ = scanner.next()
                current += try singleQuoted(&scanner)
            case "\"":
                _ = scanner.next()
                current += try doubleQuoted(&scanner)
            case "$":
                _ = scanner.next()
                let value = try dollar(&scanner)
                guard splitting else {
                    current += value
                    continue
                }
                // An unquoted expansion is split at its blanks too; an empty one makes no word.
                inWord = wasInWord
                for character in value {
                    if character == " " || character == "\t" || character == "\n" {
                        if !current.isEmpty { words.append(current) }
                        current = ""
                        inWord = false
                    } else {
                        current.append(character)
                        inWord = true
                    }
                }
            case escape:
                _ = scanner.next()
                // The escape makes the next character literal; a trailing one stays.
                if let next = scanner.next() { current.append(next) } else { current.append(escape) }
            default:
                _ = scanner.next()
                current.append(ch)
            }
        }
        if inWord || (!splitting && words.isEmpty) { words.append(current) }
        return words
    }

    private func singleQuoted(_ scanner: inout Scanner) throws -> String {
        var text = ""
        while let ch = scanner.next() {
            if ch == "'" { return text }
            text.append(ch)
        }
        throw BerthError.invalidArgument("unexpected end of statement while looking for matching single-quote")
    }

    private func doubleQuoted(_ scanner: inout Scanner) throws -> String {
        var text = ""
        while let ch = scanner.peek() {
            switch ch {
            case "\"":
                _ = scanner.next()
                return text
            case "$":
                _ = scanner.next()
                text += try dollar(&scanner)
            case escape:
                _ = scanner.next()
                if let next = scanner.peek(), next == "\"" || next == "$" || next == escape {
                    _ = scanner.next()
                    text.append(next)
                } else {
                    text.append(escape)
                }
            default:
                _ = scanner.next()
                text.append(ch)
            }
        }
        throw BerthError.invalidArgument("unexpected end of statement while looking for matching double-quote")
    }

    private static func isNameCharacter(_ ch: Character) -> Bool {
        ch.isASCII && (ch.isLetter || ch.isNumber || ch == "_")
    }

    private func dollar(_ scanner: inout Scanner) throws -> String {
        guard let ch = scanner.peek() else { return "$" }
        if ch != "{" {
            var name = ""
            while let next = scanner.peek(), Self.isNameCharacter(next) {
                name.append(next)
                _ = scanner.next()
            }
            return name.isEmpty ? "$" : (environment[name] ?? "")
        }
        _ = scanner.next()
        var name = ""
        while let next = scanner.peek(), Self.isNameCharacter(next) {
            name.append(next)
            _ = scanner.next()
        }
        guard !name.isEmpty else { throw BerthError.invalidArgument("bad substitution") }
        let value = environment[name]
        guard let ch = scanner.next() else { throw BerthError.invalidArgument("missing '}'") }
        if ch == "}" { return value ?? "" }
        var colon = false
        var modifier = ch
        if ch == ":" {
            colon = true
            guard let next = scanner.next() else { throw BerthError.invalidArgument("missing '}'") }
            modifier = next
        }
        let word = try process(&scanner, stopAt: "}", splitting: false).joined()
        // With the colon an empty value counts as unset.
        let missing = colon ? (value ?? "").isEmpty : value == nil
        switch modifier {
        case "-": return missing ? word : value!
        case "+": return missing ? "" : word
        case "?":
            if missing { throw BerthError.invalidArgument("\(name): \(word.isEmpty ? "is not allowed to be unset" : word)") }
            return value!
        default:
            throw BerthError.invalidArgument("unsupported modifier (\(modifier)) in substitution")
        }
    }
}
