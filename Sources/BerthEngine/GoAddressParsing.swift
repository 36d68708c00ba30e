import BerthNetwork
import BerthOCI

/// The refusals of Go's address parsers (net/netip's ParseAddr and ParsePrefix, net's
/// ParseCIDR) in their words, for daemon.json values dockerd reads with them.
enum GoAddressParsing {
    /// netip.ParseAddr's error for `text`, nil when it is an address.
    static func parseAddrError(_ text: String) -> String? {
        func failure(_ message: String, at: Substring? = nil) -> String {
            "ParseAddr(\(GoStrconv.quote(text))): \(message)" + (at.map { " (at \(GoStrconv.quote(String($0))))" } ?? "")
        }
        for character in text.utf8 {
            switch character {
            case UInt8(ascii: "."):
                return ipv4Error(text).map { failure($0.message, at: $0.at) }
            case UInt8(ascii: ":"):
                // netip's IPv6 messages are many; the address is checked, the wording is its first.
                return IPv6Address(text) == nil ? failure("unable to parse IP") : nil
            case UInt8(ascii: "%"):
                return failure("missing IPv6 address")
            default:
                continue
            }
        }
        return failure("unable to parse IP")
    }

    /// netip's reading of a dotted IPv4 address: the reason it is not one, and where.
    private static func ipv4Error(_ text: String) -> (message: String, at: Substring?)? {
        let bytes = Array(text.utf8)
        var value = 0, digits = 0, dots = 0
        for (index, byte) in bytes.enumerated() {
            if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                if digits == 1 && value == 0 { return ("IPv4 field has octet with leading zero", nil) }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
                if value > 255 { return ("IPv4 field has value >255", nil) }
            } else if byte == UInt8(ascii: ".") {
                if index == 0 || index == bytes.count - 1 || bytes[index - 1] == UInt8(ascii: ".") {
                    return ("IPv4 field must have at least one digit", Substring(text.utf8.dropFirst(index)))
                }
                if dots == 3 { return ("IPv4 address too long", nil) }
                dots += 1
                value = 0
                digits = 0
            } else {
                return ("unexpected character", Substring(text.utf8.dropFirst(index)))
            }
        }
        return dots < 3 ? ("IPv4 address too short", nil) : nil
    }

    /// netip.ParsePrefix's error for `text`, nil when it is a prefix.
    static func parsePrefixError(_ text: String) -> String? {
        func failure(_ message: String) -> String { "netip.ParsePrefix(\(GoStrconv.quote(text))): \(message)" }
        guard let slash = text.lastIndex(of: "/") else { return failure("no '/'") }
        let address = String(text[..<slash])
        if let error = parseAddrError(address) { return failure(error) }
        let bits = text[text.index(after: slash)...]
        let isIPv6 = address.contains(":")
        if isIPv6 && address.contains("%") { return failure("IPv6 zones cannot be present in a prefix") }
        let badBits = failure("bad bits after slash: " + GoStrconv.quote(String(bits)))
        if bits.count > 1, let first = bits.first, !("1"..."9").contains(first) { return badBits }
        guard let length = Int(bits), bits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-" || $0 == "+") }) else { return badBits }
        return (0...(isIPv6 ? 128 : 32)).contains(length) ? nil : failure("prefix length out of range")
    }

    /// Whether net.ParseCIDR takes `text` ("address/length", the address without leading zeros).
    static func isCIDR(_ text: String) -> Bool {
        guard let slash = text.lastIndex(of: "/") else { return false }
        let address = String(text[..<slash])
        let bits = text[text.index(after: slash)...]
        guard !bits.isEmpty, bits.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), bits.count <= 8,
              let length = Int(bits) else { return false }
        if address.contains(":") { return IPv6Address(address) != nil && length <= 128 }
        return ipv4Error(address) == nil && length <= 32
    }
}
