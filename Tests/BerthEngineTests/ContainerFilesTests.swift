import BerthOCI
import Testing
@testable import BerthEngine

struct ContainerFilesTests {
    static let defaults = """
    127.0.0.1\tlocalhost
    ::1\tlocalhost ip6-localhost ip6-loopback
    fe00::0\tip6-localnet
    ff00::0\tip6-mcastprefix
    ff02::1\tip6-allnodes
    ff02::2\tip6-allrouters

    """

    @Test func hostname() {
        #expect(ContainerFiles.hostname("0123456789ab") == "0123456789ab\n")
    }

    @Test func hostsHasDockersLinesThenExtrasThenTheContainer() throws {
        let text = try ContainerFiles.hosts(hostname: "web", extraHosts: ["db:10.0.0.5", "v6:fd00::1", "gw:host-gateway"],
                                            hostGateway: "172.17.0.1", containerAddresses: ["172.17.0.2"])
        #expect(text == Self.defaults + "10.0.0.5\tdb\nfd00::1\tv6\n172.17.0.1\tgw\n172.17.0.2\tweb\n")
        // Legacy links' lines after the extra hosts, before the container's own (dockerd's order).
        let linked = try ContainerFiles.hosts(hostname: "web", extraHosts: ["db:10.0.0.5"], containerAddresses: ["172.17.0.3"],
                                              linkLines: ["172.17.0.2\tstore 0123456789ab db"])
        #expect(linked == Self.defaults + "10.0.0.5\tdb\n172.17.0.2\tstore 0123456789ab db\n172.17.0.3\tweb\n")
    }

    @Test func hostsNamesTheFullAndShortHostname() throws {
        let text = try ContainerFiles.hosts(hostname: "web", domainname: "example.com", containerAddresses: ["10.1.2.3"])
        #expect(text.hasSuffix("10.1.2.3\tweb.example.com web\n"))
        #expect(try ContainerFiles.hosts(hostname: "abc") == Self.defaults)
    }

    @Test func hostGatewayNeedsAnAddress() {
        #expect(throws: BerthError.invalidArgument("unable to derive the IP value for host-gateway")) {
            try ContainerFiles.hosts(hostname: "web", extraHosts: ["gw:host-gateway"])
        }
    }

    @Test func hostNetworkCopiesTheHostsFile() throws {
        let host = "127.0.0.1 localhost\n192.168.1.10 myhost\n"
        #expect(try ContainerFiles.hostsForHostNetwork(hostFile: host) == host)
        #expect(try ContainerFiles.hostsForHostNetwork(hostFile: host, extraHosts: ["db:10.0.0.5"]) == Self.defaults + "10.0.0.5\tdb\n")
    }

    @Test func resolvConfDropsLoopbackNameservers() {
        let host = "# generated\nnameserver 127.0.0.53\nnameserver 192.168.1.1\nsearch lan\noptions edns0\n"
        #expect(ContainerFiles.resolvConf(hostFile: host) == "# generated\nnameserver 192.168.1.1\nsearch lan\noptions edns0\n")
    }

    @Test func resolvConfFallsBackToPublicServersInTheFile() {
        let host = "nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n"
        #expect(ContainerFiles.resolvConf(hostFile: host)
            == "options edns0 trust-ad\nsearch .\n\nnameserver 8.8.8.8\nnameserver 8.8.4.4")
        #expect(ContainerFiles.resolvConf(hostFile: "") == "\nnameserver 8.8.8.8\nnameserver 8.8.4.4")
    }

    @Test func resolvConfDropsIPv6ServersWithoutIPv6() {
        let host = "nameserver 2001:db8::1\nnameserver 10.0.0.1\n"
        #expect(ContainerFiles.resolvConf(hostFile: host) == "nameserver 10.0.0.1\n")
        #expect(ContainerFiles.resolvConf(hostFile: host, ipv6Enabled: true) == host)
    }

    @Test func resolvConfOverrides() {
        let host = "nameserver 192.168.1.1\nsearch lan\noptions edns0\n"
        #expect(ContainerFiles.resolvConf(hostFile: host, dns: ["1.1.1.1", "9.9.9.9"])
            == "search lan\nnameserver 1.1.1.1\nnameserver 9.9.9.9\noptions edns0\n")
        #expect(ContainerFiles.resolvConf(hostFile: host, dnsSearch: ["example.com"], dnsOptions: ["ndots:2"])
            == "search example.com\nnameserver 192.168.1.1\noptions ndots:2\n")
        #expect(ContainerFiles.resolvConf(hostFile: host, dnsSearch: ["."]) == "nameserver 192.168.1.1\noptions edns0\n")
    }

    @Test func hostNetworkKeepsTheHostFile() {
        let host = "nameserver 127.0.0.53\n"
        #expect(ContainerFiles.resolvConf(hostFile: host, hostNetwork: true) == host)
    }

    @Test func systemdResolvedStubPointsAtTheUpstreamFile() {
        #expect(ContainerFiles.resolvConfSource(etcResolvConf: "nameserver 127.0.0.53\noptions edns0\n") == "/run/systemd/resolve/resolv.conf")
        #expect(ContainerFiles.resolvConfSource(etcResolvConf: "nameserver 10.0.0.1\n") == "/etc/resolv.conf")
    }
}
