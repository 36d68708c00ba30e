import BerthOCI

/// Legacy links (`--link` from the default bridge) as dockerd checks them at start: each linked
/// container must be one of the default bridge's, then running.
extension ContainerService {
    func checkLegacyLinks(_ id: String) throws {
        guard let entry = entries[id], let links = entry.hostConfig.Links, !links.isEmpty,
              Self.onDefaultBridge(entry.hostConfig.NetworkMode) else { return }
        for link in links {
            // A linked container removed since is left out, as dockerd drops its link.
            guard let targetID = try? resolve(Self.linkTarget(link)), let peer = entries[targetID] else { continue }
            let peerName = "/" + peer.record.bareName
            let peerOnBridge = Self.onDefaultBridge(peer.hostConfig.NetworkMode) || network?.views.view(targetID)?.bridgeEndpoint != nil
            guard peerOnBridge else {
                throw BerthError.internalError("Cannot link to \(peerName), as it does not belong to the default network")
            }
            guard peer.record.State.Running else {
                throw BerthError.internalError("Cannot link to a non running container: \(peerName) AS /\(entry.record.bareName)/\(Self.linkAlias(link))")
            }
        }
    }

    /// NetworkMode of a container on the default bridge.
    static func onDefaultBridge(_ mode: String?) -> Bool { ["", "default", "bridge"].contains(mode ?? "") }
}
