/// `--network container:<peer>` (compose's `network_mode: service:x`): as dockerd does at each
/// start, the container takes the peer's hostname and domain name and uses the peer's own
/// /etc/hostname, /etc/hosts and /etc/resolv.conf, so both answer to the same names.
extension ContainerService {
    func adoptNetworkPeerFiles(_ id: String) {
        guard let entry = entries[id], let mode = entry.hostConfig.NetworkMode, mode.hasPrefix("container:") else { return }
        // A missing or stopped peer fails the start later, with dockerd's message.
        guard let peerID = try? resolve(String(mode.dropFirst("container:".count))), peerID != id,
              let peer = entries[peerID]?.record, peer.State.Running else { return }
        entries[id]!.record.HostnamePath = peer.HostnamePath
        entries[id]!.record.HostsPath = peer.HostsPath
        entries[id]!.record.ResolvConfPath = peer.ResolvConfPath
        entries[id]!.record.Config.Hostname = peer.Config.Hostname
        entries[id]!.record.Config.Domainname = peer.Config.Domainname
    }
}
