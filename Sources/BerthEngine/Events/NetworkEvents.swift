import BerthNetwork
import BerthOCI

/// Network create, remove and prune through the engine, so that each emits its event
/// (`create`, `destroy`: the network's name and driver type).
extension Engine {
    public func createNetwork(_ request: NetworkCreateRequest) async throws -> (id: String, warning: String) {
        guard let network else { throw BerthError.notImplemented("networking is off in this daemon") }
        let created = try await network.create(request)
        if let record = try? await network.find(created.id) {
            events.publish(.network, "create", actor: record.id, attributes: ["name": record.name, "type": record.driver])
        }
        return created
    }

    public func removeNetwork(_ nameOrID: String) async throws {
        guard let network else { throw BerthError.notImplemented("networking is off in this daemon") }
        let record = try await network.find(nameOrID)
        try await network.remove(nameOrID)
        // dockerd announces no removal of a configuration network (its creation, it does).
        guard record.configuration == nil else { return }
        events.publish(.network, "destroy", actor: record.id, attributes: ["name": record.name, "type": record.driver])
    }

    /// Returns the removed networks' names.
    public func pruneNetworks(filters: [String: [String]]) async throws -> [String] {
        guard let network else { throw BerthError.notImplemented("networking is off in this daemon") }
        // dockerd's keys; `until` goes on as Unix seconds.
        for key in filters.keys.sorted() where !["label", "label!", "until"].contains(key) {
            throw BerthError.invalidArgument("invalid filter '\(key)'")
        }
        var filters = filters
        if let until = filters["until"]?.last { filters["until"] = [String(try DockerTimestamp.until(until))] }
        let before = try await network.list(filters: [:])
        let removed = try await network.prune(filters: filters)
        for view in before where removed.contains(view.Name) {
            events.publish(.network, "destroy", actor: view.Id, attributes: ["name": view.Name, "type": view.Driver])
        }
        // Networks take no disk space: dockerd reports 0.
        events.publish(.network, "prune", actor: "", attributes: ["reclaimed": "0"])
        return removed
    }
}
