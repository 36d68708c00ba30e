import BerthOCI

/// What a `container:<name>` mode (network, IPC, PID) needs of the container whose namespace
/// it joins, taken when the start begins.
struct NamespacePeer: Sendable {
    var name: String
    var running: Bool
    var status: String
    var pid: Int32
}

extension ContainerService {
    /// The containers that `hostConfig`'s `container:` modes name, by the name the mode gives.
    /// Only those: the start's plan keeps this until the spec is built, and keeping the whole
    /// table instead made each later change of it during the start copy every container.
    func namespacePeers(of hostConfig: HostConfig) -> [String: NamespacePeer] {
        var references: [String] = []
        if case .container(let target) = NetworkModeKind(hostConfig.NetworkMode) { references.append(target) }
        for mode in [hostConfig.IpcMode, hostConfig.PidMode] {
            if let mode, mode.hasPrefix("container:") { references.append(String(mode.dropFirst("container:".count))) }
        }
        var peers: [String: NamespacePeer] = [:]
        for reference in references {
            guard let entry = peerEntry(reference) else { continue }
            let record = entry.record
            peers[reference] = NamespacePeer(name: record.bareName, running: record.State.Running,
                                             status: record.State.Status, pid: record.State.Pid)
        }
        return peers
    }

    /// By full ID, name, or ID prefix.
    private func peerEntry(_ reference: String) -> Entry? {
        if let entry = entries[reference] { return entry }
        if let id = names[reference], let entry = entries[id] { return entry }
        guard !reference.isEmpty else { return nil }
        return entries.first(where: { $0.key.hasPrefix(reference) })?.value
    }

    /// The plan's `peerPid`: the PID whose namespaces a mode joins, or why it cannot.
    static func peerPid(in peers: [String: NamespacePeer]) -> @Sendable (String) throws -> Int32 {
        { reference in
            guard let peer = peers[reference] else { throw BerthError.notFound("No such container: \(reference)") }
            guard peer.running else { throw SpecBuilder.PeerNotRunning(name: peer.name, status: peer.status) }
            return peer.pid
        }
    }
}
