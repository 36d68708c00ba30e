import BerthNetwork
import BerthOCI

/// The container service's side of the events: each emit is one line at the place where the
/// thing happened, with the attributes dockerd gives that action.
extension ContainerService {
    /// A container event: its labels, `image` (as the user named it) and `name`, plus `extra`
    /// (exitCode, signal, execID, oldName, height/width).
    func emit(_ action: String, container id: String, _ extra: [String: String] = [:]) {
        guard let record = entries[id]?.record else { return }
        emit(action, record: record, extra)
    }

    /// For a container no longer in the table (destroy).
    func emit(_ action: String, record: ContainerRecord, _ extra: [String: String] = [:]) {
        events.publish(.container, action, actor: record.ID, attributes: Self.eventAttributes(record, extra))
    }

    /// A container event's attributes: its labels, `image` and `name`, plus `extra` (also for
    /// those off the actor, such as the end of an export's stream).
    nonisolated static func eventAttributes(_ record: ContainerRecord, _ extra: [String: String] = [:]) -> [String: String] {
        var attributes = record.Config.Labels ?? [:]
        attributes["image"] = record.Config.Image ?? record.Image
        attributes["name"] = record.bareName
        attributes.merge(extra) { _, new in new }
        return attributes
    }

    /// `exec_create: sh -c date` — dockerd puts the command in the action itself.
    func emitExec(_ action: String, execID: String, _ extra: [String: String] = [:]) {
        guard let exec = execs[execID] else { return }
        let command = exec.ProcessConfig.entrypoint + " " + exec.ProcessConfig.arguments.joined(separator: " ")
        let name = action == "exec_die" ? action : action + ": " + command
        emit(name, container: exec.ContainerID, extra.merging(["execID": execID]) { _, new in new })
    }

    /// The networks a running container is on: ID, name and driver, for connect/disconnect.
    /// Synchronous (no wait on the network service), so that an exit's `disconnect` comes
    /// before what the exit wakes (`stop`, `destroy`), in dockerd's order.
    func attachedNetworks(_ id: String) -> [(id: String, name: String, driver: String)] {
        guard let network else { return [] }
        // A host or none container has no endpoint of Berth's; dockerd connects it (and
        // reports that) to the predefined network all the same.
        let mode = entries[id]?.hostConfig.NetworkMode ?? ""
        // (Unless it left that network: then it has the ones it joined, or none.)
        if mode == "host" || mode == "none", network.views.view(id)?.networks.isEmpty ?? true, network.views.view(id)?.isRecorded != true,
           let networkID = network.views.predefinedNetworkID(mode) {
            return [(networkID, mode, mode == "host" ? "host" : "null")]
        }
        guard let view = network.views.view(id) else { return [] }
        return view.networks.sorted(by: { $0.key < $1.key }).map { name, endpoint in
            // Only the predefined host and none networks have other drivers than bridge.
            (endpoint.NetworkID, name, name == "host" ? "host" : name == "none" ? "null" : "bridge")
        }
    }

    /// `network connect` / `network disconnect` events of one container.
    func emitNetwork(_ action: String, container id: String, networks: [(id: String, name: String, driver: String)]) {
        for network in networks {
            events.publish(.network, action, actor: network.id,
                           attributes: ["container": id, "name": network.name, "type": network.driver])
        }
    }

    /// One network by name or ID, for the connect/disconnect requests.
    func networkActor(_ nameOrID: String) async -> (id: String, name: String, driver: String)? {
        guard let record = try? await network?.find(nameOrID) else { return nil }
        return (record.id, record.name, record.driver)
    }
}
