/// `--link-local-ip`: addresses added to a container's interface beside the one the
/// network hands out (EndpointSettings.IPAMConfig.LinkLocalIPs), as dockerd adds them:
/// an IPv4 one with a /16, an IPv6 one with a /64.
enum LinkLocalAddresses {
    enum Parsed: Equatable {
        case v4(IPv4Subnet)
        case v6(IPv6Subnet)
    }

    /// Each address as an interface address; nil for one that is not an address.
    static func parse(_ text: String) -> Parsed? {
        if let address = IPv4Address(text) { return .v4(IPv4Subnet(address, prefixLength: 16)) }
        if let address = IPv6Address(text) { return .v6(IPv6Subnet(address, prefixLength: 64)) }
        return nil
    }

    /// dockerd's (v28) check: any address but an unspecified one, each refusal a line of
    /// "invalid endpoint settings:" (several as a list, as its multierror writes them).
    static func problems(_ list: [String]) -> [String] {
        list.compactMap { text in
            switch parse(text) {
            case .v4(let subnet) where subnet.address.value != 0: return nil
            case .v6(let subnet) where subnet.address != IPv6Address(high: 0, low: 0): return nil
            default: return "invalid link-local IP address: \(text)"
            }
        }
    }

    /// The text of dockerd's refusal of these problems, nil without any.
    static func refusal(_ problems: [String]) -> String? {
        switch problems.count {
        case 0: return nil
        case 1: return "invalid endpoint settings:\n" + problems[0]
        default: return "invalid endpoint settings:\n* " + problems.joined(separator: "\n* ")
        }
    }
}

extension EndpointRequest {
    /// Refuses link-local addresses dockerd refuses, at connect.
    static func checkLinkLocal(_ list: [String]) throws {
        if let text = LinkLocalAddresses.refusal(LinkLocalAddresses.problems(list)) {
            throw NetworkRequestError(kind: .invalid, description: text)
        }
    }
}
