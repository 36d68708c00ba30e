/// dockerd's checks of `network create`'s IPAM configs, made before anything is allocated:
/// a subnet with host bits, an ip-range, gateway or auxiliary address outside its subnet or
/// of the other family. Every problem is reported at once, as dockerd joins them.
enum IPAMConfigCheck {
    /// An address or prefix of either family; IPv4 ones are held as IPv4-mapped IPv6, so one
    /// set of arithmetic serves both.
    struct Prefix {
        var family: Int
        var mapped: IPv6Subnet
        /// As given ("10.1.0.5/24") and with its host bits cleared ("10.1.0.0/24").
        var given: String
        var masked: String
        var bits: Int { family == 4 ? mapped.prefixLength - 96 : mapped.prefixLength }

        init?(_ text: String) {
            if let v4 = IPv4Subnet(text) {
                family = 4
                mapped = IPv6Subnet(Self.mapped(v4.address), prefixLength: 96 + v4.prefixLength)
                given = v4.addressDescription
                masked = v4.description
            } else if let v6 = IPv6Subnet(text) {
                family = 6
                mapped = v6
                given = v6.addressDescription
                masked = v6.description
            } else {
                return nil
            }
        }

        static func mapped(_ address: IPv4Address) -> IPv6Address {
            IPv6Address(high: 0, low: 0xffff_0000_0000 | UInt64(address.value))
        }
    }

    /// The refusal for `configs`, or nil. IPv6 subnets count only on an IPv6 network; a config
    /// without a (readable) subnet is left to the later checks.
    static func refusal(_ configs: [NetworkCreateRequest.IPAMConfig], ipv6: Bool) -> NetworkRequestError? {
        let found = configs.flatMap { problems($0, ipv6: ipv6) }
        guard !found.isEmpty else { return nil }
        let joined = found.count == 1 ? found[0] : "* " + found.joined(separator: "\n* ")
        return NetworkRequestError(kind: .invalid, description: "invalid network config:\n" + joined)
    }

    static func problems(_ config: NetworkCreateRequest.IPAMConfig, ipv6: Bool) -> [String] {
        guard let subnet = config.Subnet.flatMap(Prefix.init), subnet.family == 4 || ipv6 else { return [] }
        var problems: [String] = []
        if subnet.given != subnet.masked {
            problems.append("invalid subnet \(subnet.given): it should be \(subnet.masked)")
        }
        if let text = config.IPRange, let range = Prefix(text) {
            let name = "invalid ip-range \(range.given)"
            if range.family != subnet.family {
                problems.append("\(name): parent subnet is an IPv\(subnet.family) block")
            } else {
                if range.bits < subnet.bits { problems.append("\(name): CIDR block is bigger than its parent subnet \(subnet.given)") }
                if range.given != range.masked { problems.append("\(name): it should be \(range.masked)") }
                if !range.mapped.overlaps(subnet.mapped) { problems.append("\(name): parent subnet \(subnet.given) doesn't contain ip-range") }
            }
        }
        func addressProblem(_ text: String) -> String? {
            let family: Int, address: IPv6Address
            if let v4 = IPv4Address(text) {
                (family, address) = (4, Prefix.mapped(v4))
            } else if let v6 = IPv6Address(text) {
                (family, address) = (6, v6)
            } else {
                return nil
            }
            if family != subnet.family { return "parent subnet is an IPv\(subnet.family) block" }
            return subnet.mapped.contains(address) ? nil : "parent subnet \(subnet.given) doesn't contain this address"
        }
        if let gateway = config.Gateway, let problem = addressProblem(gateway) {
            problems.append("invalid gateway \(gateway): \(problem)")
        }
        for (name, address) in (config.AuxiliaryAddresses ?? [:]).sorted(by: { $0.key < $1.key }) {
            if let problem = addressProblem(address) { problems.append("invalid auxiliary address \(name): \(problem)") }
        }
        return problems
    }
}
