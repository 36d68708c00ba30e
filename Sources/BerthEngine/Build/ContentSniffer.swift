/// The content types dockerd's builder tells from a remote context's first bytes (Go's
/// http.DetectContentType, for what matters here), and the ones it accepts.
enum ContentSniffer {
    /// The media type without parameters.
    static func detect(_ bytes: [UInt8]) -> String {
        if bytes.starts(with: [0x1F, 0x8B, 0x08]) { return "application/x-gzip" }
        if bytes.starts(with: Array("%PDF-".utf8)) { return "application/pdf" }
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return "application/zip" }
        let text = bytes.drop { [0x09, 0x0A, 0x0C, 0x0D, 0x20].contains($0) }
        let upper = String(decoding: text.prefix(16), as: UTF8.self).uppercased()
        if upper.hasPrefix("<?XML") { return "text/xml" }
        for tag in ["<!DOCTYPE HTML", "<HTML", "<HEAD", "<SCRIPT", "<IFRAME", "<H1", "<DIV", "<FONT", "<TABLE", "<A", "<STYLE",
                    "<TITLE", "<B", "<BODY", "<BR", "<P", "<!--"] where upper.hasPrefix(tag) {
            let next = upper.dropFirst(tag.count).first
            if next == " " || next == ">" { return "text/html" }
        }
        // Go's "binary data bytes": control characters other than tab, newlines, form feed, escape.
        let binary = bytes.contains { $0 <= 0x08 || $0 == 0x0B || (0x0E...0x1A).contains($0) || (0x1C...0x1F).contains($0) }
        return binary ? "application/octet-stream" : "text/plain"
    }

    /// dockerd's `(?:application/(?:(?:x\-)?tar|octet\-stream|((?:x\-)?(?:gzip|bzip2?|xz)))|(?:text/plain))`,
    /// searched in the type: the leftmost match, nil when none.
    static func acceptableContextType(_ type: String) -> String? {
        let candidates = ["application/x-tar", "application/tar", "application/octet-stream", "application/x-gzip", "application/gzip",
                          "application/x-bzip2", "application/bzip2", "application/x-bzip", "application/bzip", "application/x-xz",
                          "application/xz", "text/plain"]
        var best: (String.Index, String)?
        for candidate in candidates {
            guard let range = type.firstRange(of: candidate) else { continue }
            if best == nil || range.lowerBound < best!.0 { best = (range.lowerBound, candidate) }
        }
        return best?.1
    }
}
