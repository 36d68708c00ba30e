import BerthEngine
import BerthOCI
import FoundationEssentials

/// /volumes/…: list, create, inspect, remove and prune local volumes (`docker volume`).
enum VolumeRoutes {
    struct CreateBody: Decodable {
        var Name: String?
        var Driver: String?
        var DriverOpts: [String: String]?
        var Labels: [String: String]?
    }

    /// `GET /volumes`: dockerd always writes Warnings, as null when there are none.
    struct ListAnswer: Encodable {
        var Volumes: [VolumeView]
        enum CodingKeys: String, CodingKey { case Volumes, Warnings }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(Volumes, forKey: .Volumes)
            try container.encodeNil(forKey: .Warnings)
        }
    }

    /// dockerd's volume prune report starts from an empty list: `[]` when nothing went.
    struct PruneAnswer: Encodable {
        var VolumesDeleted: [String]
        var SpaceReclaimed: Int64
    }

    static func register(_ router: inout Router, engine: Engine) {
        let volumes = engine.volumes
        router.add(.GET, "/volumes") { request, _ in
            let filters = try VolumeFilters.forList(ImageRoutes.parseFilters(request.queryValue("filters")))
            return .json(ListAnswer(Volumes: volumes.list(filters).map(volumes.view)))
        }
        router.add(.POST, "/volumes/create") { request, _ in
            let body = try JSONRequestBody.read(CreateBody.self, from: request, as: GoJSONTypeError(rootType: "volume.CreateOptions")) ?? CreateBody()
            let record = try await engine.blocking {
                try volumes.create(name: body.Name, labels: body.Labels, driver: body.Driver, driverOptions: body.DriverOpts)
            }
            return .json(volumes.view(record), status: .created)
        }
        router.add(.GET, "/volumes/{name}") { _, parameters in
            .json(volumes.view(try volumes.get(parameters["name"]!)))
        }
        router.add(.DELETE, "/volumes/{name}") { request, parameters in
            let name = parameters["name"]!
            try await engine.blocking { try volumes.remove(name, force: request.flag("force")) }
            return APIResponse(status: .noContent)
        }
        router.add(.POST, "/volumes/prune") { request, _ in
            var asked = try VolumeFilters.forPrune(ImageRoutes.parseFilters(request.queryValue("filters")))
            // Before API 1.42 prune took named volumes too, as dockerd still does for those clients.
            if request.speaksBefore(1, 42) { asked.all = true }
            let filters = asked
            let pruned = try await engine.blocking { volumes.prune(filters) }
            engine.containers.events.publish(.volume, "prune", actor: "", attributes: ["reclaimed": String(pruned.reclaimed)])
            return .json(PruneAnswer(VolumesDeleted: pruned.deleted, SpaceReclaimed: pruned.reclaimed))
        }
    }
}
