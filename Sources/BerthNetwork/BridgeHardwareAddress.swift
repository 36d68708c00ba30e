import FoundationEssentials

/// A Linux bridge without a hardware address of its own takes the lowest of its ports' and
/// changes it as containers come and go. The other containers' ARP entries for the gateway
/// then name an address the bridge no longer answers to, and what they send it (DNS queries
/// to the embedded server) is lost until the entry is probed again, seconds later. dockerd
/// gives each bridge a fixed random address when it makes it; berthd does too, and fixes the
/// present address of a bridge an earlier berthd made without one.
enum BridgeHardwareAddress {
    /// A random, locally administered unicast address.
    static func random() -> [UInt8] {
        var bytes = (0..<6).map { _ in UInt8.random(in: 0...255) }
        bytes[0] = (bytes[0] & 0xfe) | 0x02
        return bytes
    }

    /// The present address of a device whose address follows its ports (not NET_ADDR_SET,
    /// 3, in sysfs' addr_assign_type); nil when it is set or unknown.
    static func unpinned(_ device: String) -> [UInt8]? {
        let base = "/sys/class/net/\(device)/"
        guard let type = try? String(contentsOfFile: base + "addr_assign_type", encoding: .utf8),
              !type.hasPrefix("3"),
              let text = try? String(contentsOfFile: base + "address", encoding: .utf8) else { return nil }
        let bytes = text.split(whereSeparator: { $0 == ":" || $0.isWhitespace }).compactMap { UInt8($0, radix: 16) }
        return bytes.count == 6 ? bytes : nil
    }
}
