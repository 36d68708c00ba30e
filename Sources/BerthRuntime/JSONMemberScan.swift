/// Finds where a member's value lies in JSON text without decoding anything: a container's
/// config is decoded without its seccomp profile (two thirds of it), whose compiled program
/// the cache finds by the profile's text alone (see SeccompFilter.init(profileText:)).
struct JSONMemberScan {
    private let bytes: [UInt8]
    private var index = 0

    /// The byte range of the value at `path` (member names, from the outermost object); nil
    /// when there is none, or when the text is not plain enough to be sure: a name there
    /// written with escapes or given twice, or malformed text. The caller then decodes all.
    static func valueRange(at path: [String], in bytes: [UInt8]) -> Range<Int>? {
        var scan = JSONMemberScan(bytes: bytes)
        var range = 0..<bytes.count
        for name in path {
            scan.index = range.lowerBound
            guard let found = scan.member(Array(name.utf8)) else { return nil }
            range = found
        }
        return range
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipSpace() {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
    }

    /// The object at `index`: the range of the value of its member `name`, found once.
    private mutating func member(_ name: [UInt8]) -> Range<Int>? {
        skipSpace()
        guard current == UInt8(ascii: "{") else { return nil }
        index += 1
        var found: Range<Int>?
        while true {
            skipSpace()
            if current == UInt8(ascii: "}") { return found }
            guard let key = string() else { return nil }
            skipSpace()
            guard current == UInt8(ascii: ":") else { return nil }
            index += 1
            skipSpace()
            let start = index
            guard skipValue() else { return nil }
            let escaped = bytes[key].contains(Self.backslash)
            if escaped || bytes[key].elementsEqual(name) {
                // A decoder could take either of two; an escaped name could be this one.
                if found != nil || escaped { return nil }
                found = start..<index
            }
            skipSpace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): return found
            default: return nil
            }
        }
    }

    /// The string at `index`: the range of what is between its quotes.
    private mutating func string() -> Range<Int>? {
        guard current == Self.quote else { return nil }
        index += 1
        let start = index
        while let byte = current {
            if byte == Self.backslash {
                index += 2
            } else if byte == Self.quote {
                index += 1
                return start..<(index - 1)
            } else {
                index += 1
            }
        }
        return nil
    }

    /// Moves past the value at `index`; false when the text ends first or is malformed.
    private mutating func skipValue() -> Bool {
        guard let first = current else { return false }
        switch first {
        case Self.quote:
            return string() != nil
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while let byte = current {
                switch byte {
                case Self.quote:
                    guard string() != nil else { return false }
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 {
                        index += 1
                        return true
                    }
                default:
                    break
                }
                index += 1
            }
            return false
        default:
            // A number, true, false or null: up to the next delimiter.
            let start = index
            while let byte = current, byte != UInt8(ascii: ","), byte != UInt8(ascii: "}"), byte != UInt8(ascii: "]"),
                  byte != 0x20, byte != 0x09, byte != 0x0A, byte != 0x0D {
                index += 1
            }
            return index > start
        }
    }
}
