import Testing
@testable import BerthNetwork

struct IPAMConfigCheckTests {
    typealias Config = NetworkCreateRequest.IPAMConfig

    static func refusal(_ configs: [Config], ipv6: Bool = false) -> String? {
        IPAMConfigCheck.refusal(configs, ipv6: ipv6)?.description
    }

    /// dockerd's words for each problem, one alone or all of them as a list.
    @Test func problemsInDockerdsWords() {
        #expect(Self.refusal([Config(Subnet: "10.1.0.0/24", IPRange: "10.1.0.128/25", Gateway: "10.1.0.1")]) == nil)
        #expect(Self.refusal([Config(Subnet: "10.1.0.5/24")]) == "invalid network config:\ninvalid subnet 10.1.0.5/24: it should be 10.1.0.0/24")
        #expect(Self.refusal([Config(Subnet: "10.1.0.0/24", Gateway: "10.2.0.1")])
                == "invalid network config:\ninvalid gateway 10.2.0.1: parent subnet 10.1.0.0/24 doesn't contain this address")
        #expect(Self.refusal([Config(Subnet: "10.1.0.0/24", Gateway: "fd00::1")])
                == "invalid network config:\ninvalid gateway fd00::1: parent subnet is an IPv4 block")
        #expect(Self.refusal([Config(Subnet: "10.1.0.0/24", AuxiliaryAddresses: ["b": "10.9.0.1", "a": "10.1.0.9"])])
                == "invalid network config:\ninvalid auxiliary address b: parent subnet 10.1.0.0/24 doesn't contain this address")
        #expect(Self.refusal([Config(Subnet: "10.1.0.5/24", IPRange: "10.2.0.1/25")]) == """
            invalid network config:
            * invalid subnet 10.1.0.5/24: it should be 10.1.0.0/24
            * invalid ip-range 10.2.0.1/25: it should be 10.2.0.0/25
            * invalid ip-range 10.2.0.1/25: parent subnet 10.1.0.5/24 doesn't contain ip-range
            """)
    }

    /// An ip-range bigger than its subnet is named as such (it overlaps, so only that).
    @Test func rangeBiggerThanItsSubnet() {
        #expect(Self.refusal([Config(Subnet: "10.1.0.0/24", IPRange: "10.0.0.0/8")])
                == "invalid network config:\ninvalid ip-range 10.0.0.0/8: CIDR block is bigger than its parent subnet 10.1.0.0/24")
    }

    /// IPv6 subnets are checked on IPv6 networks only.
    @Test func ipv6SubnetsOnlyWithIPv6() {
        #expect(Self.refusal([Config(Subnet: "fd00::5/64")]) == nil)
        #expect(Self.refusal([Config(Subnet: "fd00::5/64")], ipv6: true) == "invalid network config:\ninvalid subnet fd00::5/64: it should be fd00::/64")
        #expect(Self.refusal([Config(Subnet: "fd00::/64", Gateway: "fd01::1")], ipv6: true)
                == "invalid network config:\ninvalid gateway fd01::1: parent subnet fd00::/64 doesn't contain this address")
    }
}
