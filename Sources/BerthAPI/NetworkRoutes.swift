import BerthEngine
import BerthNetwork
import BerthOCI
import FoundationEssentials
import Glibc

/// /networks/…: list, inspect, create, remove, prune, connect and disconnect.
enum NetworkRoutes {
    /// The network service's errors as engine errors (status codes in one place).
    @Sendable static func mapped<T>(_ work: () async throws -> T) async throws -> T {
        do { return try await work() } catch { throw ContainerService.networkError(error) }
    }

    static func register(_ router: inout Router, engine: Engine) {
        guard let network = engine.network else { return }
        let containers = engine.containers
        router.add(.GET, "/networks") { request, _ in
            let filters = try ImageRoutes.parseFilters(request.queryValue("filters"))
            return .json(try await mapped { try await network.list(filters: filters) })
        }
        router.add(.GET, "/networks/{id}") { _, parameters in
            var view = try await mapped { try await network.inspect(parameters["id"]!) }
            // Containers on host or none have no endpoint in the network service: the engine lists them.
            if (view.Driver == "host" || view.Driver == "null") && !view.ConfigOnly {
                view.Containers?.merge(await containers.predefinedNetworkContainers(view.Name)) { own, _ in own }
            }
            return .json(view)
        }
        router.add(.POST, "/networks/create") { request, _ in
            // As dockerd, no body (or no Name) is a network without a name, refused by the engine.
            var named = request
            named.body = JSONRequestBody.addingMissingKey("Name", zeroValue: "\"\"", to: request.body)
            let body = try JSONRequestBody.read(NetworkCreateRequest.self, from: named, as: GoJSONTypeError(rootType: "network.CreateRequest"))
                ?? JSONDecoder().decode(NetworkCreateRequest.self, from: Data(#"{"Name":""}"#.utf8))
            let created = try await mapped { try await engine.createNetwork(body) }
            struct Answer: Encodable { var Id: String; var Warning: String }
            return .json(Answer(Id: created.id, Warning: created.warning), status: .created)
        }
        router.add(.DELETE, "/networks/{id}") { _, parameters in
            try await mapped { try await engine.removeNetwork(parameters["id"]!) }
            return APIResponse(status: .noContent)
        }
        router.add(.POST, "/networks/prune") { request, _ in
            let filters = try ImageRoutes.parseFilters(request.queryValue("filters"))
            let removed = try await mapped { try await engine.pruneNetworks(filters: filters) }
            struct Answer: Encodable {
                @NullWhenNil var NetworksDeleted: [String]?  // null when none, as dockerd
            }
            return .json(Answer(NetworksDeleted: removed.isEmpty ? nil : removed))
        }
        struct ConnectBody: Decodable {
            var Container: String?
            var EndpointConfig: EndpointSettings?
            var Force: Bool?
        }
        router.add(.POST, "/networks/{id}/connect") { request, parameters in
            let body = try JSONRequestBody.read(ConnectBody.self, from: request, as: GoJSONTypeError(rootType: "network.ConnectOptions"))
                ?? ConnectBody()
            // As dockerd: the container is looked up first, then the network (in connectNetwork).
            try await containers.connectNetwork(parameters["id"]!, container: body.Container ?? "",
                                                aliases: body.EndpointConfig?.Aliases ?? [],
                                                ipv4: body.EndpointConfig?.IPAMConfig?.IPv4Address,
                                                ipv6: body.EndpointConfig?.IPAMConfig?.IPv6Address,
                                                links: body.EndpointConfig?.Links ?? [],
                                                macAddress: body.EndpointConfig?.MacAddress,
                                                driverOpts: body.EndpointConfig?.DriverOpts,
                                                linkLocalIPs: body.EndpointConfig?.IPAMConfig?.LinkLocalIPs ?? [],
                                                sentEmpty: body.EndpointConfig?.emptyFields ?? [])
            return APIResponse(status: .ok)
        }
        router.add(.POST, "/networks/{id}/disconnect") { request, parameters in
            let body = try JSONRequestBody.read(ConnectBody.self, from: request, as: GoJSONTypeError(rootType: "network.DisconnectOptions"))
                ?? ConnectBody()
            try await containers.disconnectNetwork(parameters["id"]!, container: body.Container ?? "")
            return APIResponse(status: .ok)
        }
    }
}

extension EndpointSettings {
    /// The fields sent as empty objects, which dockerd shows back as sent (the CLI's
    /// `network connect` sends `"IPAMConfig":{}`, `"Aliases":[]`, `"DriverOpts":{}`).
    var emptyFields: [String] {
        var fields: [String] = []
        if let ipam = IPAMConfig, (ipam.IPv4Address ?? "").isEmpty, (ipam.IPv6Address ?? "").isEmpty,
           (ipam.LinkLocalIPs ?? []).isEmpty { fields.append("IPAMConfig") }
        if Aliases?.isEmpty == true { fields.append("Aliases") }
        if DriverOpts?.isEmpty == true { fields.append("DriverOpts") }
        return fields
    }
}
