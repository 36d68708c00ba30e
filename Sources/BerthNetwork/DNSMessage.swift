import BerthOCI
/// The few parts of a DNS message (RFC 1035) the embedded server needs: the header, the
/// first question, and A / PTR answers.
public struct DNSQuestion: Equatable, Sendable {
    public var name: String
    public var type: UInt16
    public var qclass: UInt16

    public static let typeA: UInt16 = 1, typePTR: UInt16 = 12, typeAAAA: UInt16 = 28
}

public struct DNSQuery: Equatable, Sendable {
    public var id: UInt16
    public var flags: UInt16
    public var question: DNSQuestion
    /// The question section's bytes as received, echoed in the answer.
    public var questionBytes: [UInt8]

    /// nil for anything that is not a standard query with at least one question.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count >= 12 else { return nil }
        id = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        flags = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
        let questions = UInt16(bytes[4]) << 8 | UInt16(bytes[5])
        guard flags & 0x8000 == 0, questions >= 1 else { return nil }
        var offset = 12
        var labels: [String] = []
        while true {
            guard offset < bytes.count else { return nil }
            let length = Int(bytes[offset])
            offset += 1
            if length == 0 { break }
            guard length < 64, offset + length <= bytes.count else { return nil }
            labels.append(String(decoding: bytes[offset..<offset + length], as: UTF8.self))
            offset += length
        }
        guard offset + 4 <= bytes.count else { return nil }
        let type = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
        let qclass = UInt16(bytes[offset + 2]) << 8 | UInt16(bytes[offset + 3])
        question = DNSQuestion(name: labels.joined(separator: "."), type: type, qclass: qclass)
        questionBytes = Array(bytes[12..<offset + 4])
    }

    /// A query as a resolver sends it (for tests and the forwarder's checks).
    public static func encode(id: UInt16, name: String, type: UInt16) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xff), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        bytes += encodeName(name)
        bytes += [UInt8(type >> 8), UInt8(type & 0xff), 0, 1]
        return bytes
    }

    static func encodeName(_ name: String) -> [UInt8] {
        var bytes: [UInt8] = []
        for label in name.split(separator: ".") {
            let utf8 = Array(label.utf8.prefix(63))
            bytes.append(UInt8(utf8.count))
            bytes += utf8
        }
        return bytes + [0]
    }

    public enum Answer: Equatable, Sendable {
        case addresses([IPv4Address])
        case addresses6([IPv6Address])
        case pointer(String)
    }

    /// The response: `answer` nil is NXDOMAIN; an empty address list is NOERROR with no
    /// records (a known name asked for AAAA).
    public func response(_ answer: Answer?, ttl: UInt32 = 600) -> [UInt8] {
        var records: [[UInt8]] = []
        switch answer {
        case .addresses(let addresses):
            for address in addresses {
                records.append([0xc0, 0x0c, 0, 1, 0, 1] + ttl.bigBytes + [0, 4] + address.bytes)
            }
        case .addresses6(let addresses):
            for address in addresses {
                records.append([0xc0, 0x0c, 0, 28, 0, 1] + ttl.bigBytes + [0, 16] + address.bytes)
            }
        case .pointer(let name):
            let target = Self.encodeName(name)
            records.append([0xc0, 0x0c, 0, 12, 0, 1] + ttl.bigBytes + UInt16(target.count).bigBytes + target)
        case nil:
            break
        }
        // QR, the query's opcode and RD, RA; rcode 3 (NXDOMAIN) when there is no such name.
        let responseFlags: UInt16 = 0x8000 | (flags & 0x7900) | 0x0080 | (answer == nil ? 3 : 0)
        var bytes = id.bigBytes + responseFlags.bigBytes + UInt16(1).bigBytes + UInt16(records.count).bigBytes + [0, 0, 0, 0]
        bytes += questionBytes
        for record in records { bytes += record }
        return bytes
    }

    public static let serverFailure: UInt8 = 2, refused: UInt8 = 5

    /// An answer of no records with `rcode`, as dockerd's resolver makes one (its opcode,
    /// RD and CD echoed, no RA).
    public func failure(_ rcode: UInt8) -> [UInt8] {
        let responseFlags: UInt16 = 0x8000 | (flags & 0x7910) | UInt16(rcode & 0x0f)
        return id.bigBytes + responseFlags.bigBytes + UInt16(1).bigBytes + [0, 0, 0, 0, 0, 0] + questionBytes
    }
}

extension FixedWidthInteger {
    var bigBytes: [UInt8] { withUnsafeBytes(of: self.bigEndian) { Array($0) } }
}

/// "2.0.17.172.in-addr.arpa" → 172.17.0.2.
public func reverseLookupAddress(_ name: String) -> IPv4Address? {
    let lowered = name.lowercased()
    guard lowered.hasSuffix(".in-addr.arpa") else { return nil }
    let parts = lowered.dropLast(".in-addr.arpa".count).split(separator: ".")
    guard parts.count == 4 else { return nil }
    return IPv4Address(parts.reversed().joined(separator: "."))
}
