import BerthEngine
import BerthNetwork

/// daemon.json's networking keys → the network service's options.
enum NetworkSetup {
    static func options(from daemon: DaemonOptions) throws -> NetworkOptions {
        var options = NetworkOptions(dataRoot: daemon.dataRoot, execRoot: daemon.execRoot)
        if daemon.dataRoot != DaemonOptions().dataRoot {
            // Another data root is another daemon: its own bridge and table, never berth0's.
            options.bridgeName = "berth" + hash(daemon.dataRoot)
        }
        if let bridge = daemon.bridge, bridge == "none" {
            options.defaultBridgeDisabled = true
        } else if let bridge = daemon.bridge, !bridge.isEmpty {
            guard bridge.utf8.count < 16 else { throw DaemonOptions.Failure("invalid bridge name \(bridge)") }
            // As dockerd: a bridge of another name than the default is the user's, made beforehand.
            options.bridgeIsExternal = bridge != "berth0" && bridge != options.bridgeName
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
        options.icc = daemon.icc
        options.ipMasquerade = daemon.ipMasquerade
        if let mtu = daemon.mtu { options.mtu = mtu }
        options.hostGatewayIP = daemon.hostGatewayIP
        return options
    }

    /// 8 hex digits of FNV-1a, stable across runs.
    static func hash(_ text: String) -> String {
        var value: UInt32 = 2_166_136_261
        for byte in text.utf8 { value = (value ^ UInt32(byte)) &* 16_777_619 }
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }
}
