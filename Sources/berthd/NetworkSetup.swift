import BerthEngine
import BerthNetwork
import BerthStore

/// daemon.json's networking keys → the network service's options.
enum NetworkSetup {
    static func options(from daemon: DaemonOptions, daemonID: String) throws -> NetworkOptions {
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
        // daemon.json's pools of each family replace that family's defaults.
        var pools: [PoolSpec] = [], pools6: [IPv6PoolSpec] = []
        for pool in daemon.defaultAddressPools {
            if let base = IPv4Subnet(pool.base) {
                pools.append(PoolSpec(base: base, size: pool.size))
            } else if let base = IPv6Subnet(pool.base) {
                pools6.append(IPv6PoolSpec(base: base, size: pool.size))
            } else {
                throw DaemonOptions.Failure("invalid default-address-pools base \(pool.base)")
            }
        }
        if !pools.isEmpty { options.pools = pools }
        options.pools6 = pools6.isEmpty ? [uniqueLocalPool(daemonID: daemonID)] : pools6
        options.firewall = daemon.iptables
        options.ipForward = daemon.ipForward
        options.icc = daemon.icc
        options.ipMasquerade = daemon.ipMasquerade
        if let mtu = daemon.mtu { options.mtu = mtu }
        options.hostGatewayIP = daemon.hostGatewayIP
        return options
    }

    /// This daemon's unique local IPv6 /48, from the SHA-256 of its ID (stable while the ID is).
    static func uniqueLocalPool(daemonID: String) -> IPv6PoolSpec {
        let hasher = SHA256Hasher()
        Array(daemonID.utf8).withUnsafeBytes { hasher.update($0) }
        let hex = Array(hasher.finish().dropFirst("sha256:".count).utf8)
        let bytes = stride(from: 0, to: hex.count, by: 2).compactMap { UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16) }
        return IPv6PoolSpec.uniqueLocal(idDigest: bytes)
    }

    /// 8 hex digits of FNV-1a, stable across runs.
    static func hash(_ text: String) -> String {
        var value: UInt32 = 2_166_136_261
        for byte in text.utf8 { value = (value ^ UInt32(byte)) &* 16_777_619 }
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }
}
