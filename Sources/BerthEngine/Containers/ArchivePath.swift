import FoundationEssentials

/// A path of `docker cp` as dockerd reads it (container.ResolvePath): absolute and cleaned,
/// with a trailing "/" or "/." kept, since they mean "follow the last link" and "the
/// directory's contents".
struct ArchivePath: Equatable {
    /// The cleaned absolute path with its trailing "/" or "/." (dockerd's absPath).
    let absolute: String
    /// Its directory part (resolved through symlinks) and last element ("" or "." when the
    /// path ends in "/" or "/.").
    let directory: String
    let base: String

    init(_ path: String) {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(part)
        }
        var absolute = "/" + parts.joined(separator: "/")
        if absolute != "/" {
            if path.hasSuffix("/.") || path == "." {
                absolute += "/."
            } else if path.hasSuffix("/") {
                absolute += "/"
            }
        }
        self.absolute = absolute
        let slash = absolute.lastIndex(of: "/")!
        directory = String(absolute[...slash])
        base = String(absolute[absolute.index(after: slash)...])
    }

    /// The name the stat and the archive give it (Go's filepath.Base of absPath).
    var name: String {
        if absolute == "/" { return "/" }
        if absolute.hasSuffix("/.") { return "." }
        return String(absolute.split(separator: "/").last ?? "/")
    }
}
