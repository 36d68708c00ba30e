import BerthOCI
import Glibc

/// Each running container on a user network has a DNS server of its own at 127.0.0.11 in its
/// network namespace, as with dockerd (see DNSServer); its resolv.conf names that address.
extension NetworkService {
    /// The container's first endpoint on a network with embedded DNS: the one its server
    /// answers as.
    func resolverEndpoint(_ sandbox: SandboxRecord) -> (endpoint: EndpointRecord, network: NetworkRecord)? {
        for endpoint in sandbox.endpoints {
            if let record = networks[endpoint.networkID], Self.hasEmbeddedDNS(record), record.pool != nil {
                return (endpoint, record)
            }
        }
        return nil
    }

    /// Starts the container's server when it is on a user network, points it at another of
    /// its networks when the one it answered as is gone, and stops it when none is left.
    /// A server that cannot start is logged; the container then asks its gateway's.
    func refreshResolver(_ containerID: String) {
        guard let sandbox = sandboxes[containerID], let (endpoint, record) = resolverEndpoint(sandbox) else {
            containerResolvers.removeValue(forKey: containerID)?.stop()
            return
        }
        let network = DNSServer.Network(id: record.id, name: record.name, subnet: record.pool!.subnet)
        if let server = containerResolvers[containerID] {
            if server.container != endpoint.address { server.retarget(network: network, container: endpoint.address) }
            return
        }
        let namespace = open(sandbox.namespacePath, O_RDONLY | O_CLOEXEC)
        guard namespace >= 0 else {
            log("DNS server of container \(containerID): open \(sandbox.namespacePath): \(String(cString: strerror(errno)))")
            return
        }
        defer { close(namespace) }
        do {
            // --dns, else the resolvers the network's server forwards to (read at its start).
            let given = (sandbox.dns ?? []).compactMap(IPv4Address.init)
            let upstreams = given.isEmpty ? dnsServers[record.id]?.upstreams ?? Self.hostNameservers() : given
            containerResolvers[containerID] = try DNSServer(network: network, address: DNSServer.containerAddress, table: dns,
                                                            upstreams: upstreams, container: endpoint.address, namespaceFD: namespace)
        } catch {
            log("DNS server of container \(containerID): \(error)")
        }
    }
}
