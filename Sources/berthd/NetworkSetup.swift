import BerthEngine
import BerthNetwork

/// daemon.json's networking keys → the network service's options.
enum NetworkSetup {
    static func options(from daemon: DaemonOptions) throws -> NetworkOptions {
        var options = NetworkOptions(dataRoot: daemon.dataRoot, execRoot: daemon.execRoot)
        if let bridge = daemon.bridge, !bridge.isEmpty {
            guard bridge.utf8.count < 16 else { throw DaemonOptions.Failure("invalid bridge name \(bridge)") }
            options.bridgeName = bridge
        }
        if let bip = daemon.bip {
            guard let subnet = IPv4Subnet(bip) else { throw DaemonOptions.Failure("invalid bip \(bip)") }
            options.bip = subnet
        }
        if !daemon.defaultAddressPools.isEmpty {
            options.pools = try daemon.defaultAddressPools.map { pool in
                guard let base = IPv4Subnet(pool.base) else { throw DaemonOptions.Failure("invalid default-address-pools base \(pool.base)") }
                return PoolSpec(base: base, size: pool.size)
            }
        }
        options.firewall = daemon.iptables
        options.ipForward = daemon.ipForward
        if let mtu = daemon.mtu { options.mtu = mtu }
        return options
    }
}
