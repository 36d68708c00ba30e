import BerthOCI

/// A git build context as dockerd reads its URL: the repository, the ref to check out
/// (`#ref`, `master` when none) and the directory in it to build from (`#ref:subdir`).
struct GitRemote: Equatable {
    var remote: String
    var ref: String
    var subdir: String

    /// Whether dockerd takes a remote context for a git repository: an http(s) URL whose path
    /// ends in `.git` (a fragment after it allowed), `git://`, `git@` or `github.com/`.
    static func isGitURL(_ text: String) -> Bool {
        if isURL(text) {
            // dockerd's `\.git(?:#.+)?$`: ".git" at the end, or before a non-empty fragment.
            if text.hasSuffix(".git") { return true }
            var rest = text[...]
            while let found = rest.firstRange(of: ".git#") {
                let fragment = rest[found.upperBound...]
                if !fragment.isEmpty && !fragment.contains("\n") { return true }
                rest = rest[rest.index(after: found.lowerBound)...]
            }
        }
        return ["git://", "github.com/", "git@"].contains { text.hasPrefix($0) }
    }

    static func isURL(_ text: String) -> Bool { text.hasPrefix("http://") || text.hasPrefix("https://") }

    static func parse(_ url: String) throws -> GitRemote {
        var text = url
        if !isTransport(text) { text = "https://" + text }
        let parts = text.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        let fragment = parts.count > 1 ? String(parts[1]) : ""
        let refAndSubdir = fragment.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        var ref = String(refAndSubdir[0])
        if ref.isEmpty { ref = "master" }
        let subdir = refAndSubdir.count > 1 ? String(refAndSubdir[1]) : ""
        if ref.hasPrefix("-") { throw BerthError.internalError("invalid refspec: \(ref)") }
        return GitRemote(remote: String(parts[0]), ref: ref, subdir: subdir)
    }

    /// git@…, or a scheme git speaks itself.
    static func isTransport(_ text: String) -> Bool {
        if text.hasPrefix("git@") { return true }
        guard let end = text.firstRange(of: "://") else { return false }
        return ["git", "http", "https", "ssh"].contains(text[..<end.lowerBound].lowercased())
    }

    /// The scheme in lowercase ("" when there is none).
    var scheme: String {
        guard let end = remote.firstRange(of: "://") else { return "" }
        return remote[..<end.lowerBound].lowercased()
    }
}
