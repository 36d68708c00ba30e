/// `.dockerignore`: patterns (Go filepath.Match syntax plus `**`), `!` exceptions, the last
/// matching pattern deciding; a path is excluded too when a parent directory matches.
public struct DockerIgnore: Sendable {
    struct Pattern: Sendable {
        var parts: [String]
        var exclusion: Bool
    }

    let patterns: [Pattern]

    public init(_ text: String) {
        var patterns: [Pattern] = []
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = rawLine.trimmed(newlines: true)
            if line.hasPrefix("#") || line.isEmpty { continue }
            var exclusion = false
            if line.hasPrefix("!") {
                exclusion = true
                line = String(line.dropFirst()).trimmed(newlines: true)
            }
            let cleaned = Self.clean(line)
            if cleaned.isEmpty { continue }
            patterns.append(Pattern(parts: cleaned.split(separator: "/").map(String.init), exclusion: exclusion))
        }
        self.patterns = patterns
    }

    /// "./a//b/" → "a/b"; a leading "/" is dropped (patterns are relative to the context).
    static func clean(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        return parts.joined(separator: "/")
    }

    public var isEmpty: Bool { patterns.isEmpty }

    /// Whether the context path (relative, "/"-separated) is left out of the build.
    public func excludes(_ path: String) -> Bool {
        let parts = path.split(separator: "/").map(String.init)
        var excluded = false
        for pattern in patterns {
            // The pattern matches the path or one of its parent directories.
            var matched = false
            for length in stride(from: parts.count, through: 1, by: -1) where Self.match(pattern.parts[...], parts[..<length]) {
                matched = true
                break
            }
            if matched { excluded = !pattern.exclusion }
        }
        return excluded
    }

    static func match(_ pattern: ArraySlice<String>, _ path: ArraySlice<String>) -> Bool {
        guard let first = pattern.first else { return path.isEmpty }
        if first == "**" {
            // Any number of path elements, none included.
            for skip in 0...path.count where match(pattern.dropFirst(), path.dropFirst(skip)) { return true }
            return false
        }
        guard let element = path.first, fnmatch(first, element) else { return false }
        return match(pattern.dropFirst(), path.dropFirst())
    }

    /// One path element against one pattern element: `*`, `?`, `[...]`, `\` escapes.
    static func fnmatch(_ pattern: String, _ text: String) -> Bool {
        matchElement(Array(pattern)[...], Array(text)[...])
    }

    private static func matchElement(_ pattern: ArraySlice<Character>, _ text: ArraySlice<Character>) -> Bool {
        guard let p = pattern.first else { return text.isEmpty }
        switch p {
        case "*":
            for skip in 0...text.count where matchElement(pattern.dropFirst(), text.dropFirst(skip)) { return true }
            return false
        case "?":
            guard !text.isEmpty else { return false }
            return matchElement(pattern.dropFirst(), text.dropFirst())
        case "[":
            guard let c = text.first, let close = pattern.dropFirst().firstIndex(of: "]") else { return false }
            var set = pattern[(pattern.startIndex + 1)..<close]
            var negate = false
            if set.first == "^" || set.first == "!" {
                negate = true
                set = set.dropFirst()
            }
            var found = false
            var items = Array(set)
            var index = 0
            while index < items.count {
                if index + 2 < items.count, items[index + 1] == "-" {
                    if items[index] <= c && c <= items[index + 2] { found = true }
                    index += 3
                } else {
                    if items[index] == "\\", index + 1 < items.count { index += 1 }
                    if items[index] == c { found = true }
                    index += 1
                }
            }
            items.removeAll()
            guard found != negate else { return false }
            return matchElement(pattern[(close + 1)...], text.dropFirst())
        case "\\":
            let rest = pattern.dropFirst()
            guard let literal = rest.first, text.first == literal else { return false }
            return matchElement(rest.dropFirst(), text.dropFirst())
        default:
            guard text.first == p else { return false }
            return matchElement(pattern.dropFirst(), text.dropFirst())
        }
    }
}
