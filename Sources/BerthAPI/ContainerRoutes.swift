import BerthOCI
import Foundation
import NIOHTTP1

/// What can truly be said about containers before Berth runs any: the list is empty, a prune
/// has nothing to do, and no name or ID names a container (dockerd's "No such container",
/// which also lets `docker inspect NAME` go on to images). Creating one answers 501.
enum ContainerRoutes {
    static func register(_ router: inout Router) {
        router.add(.GET, "/containers/json") { request, _ in
            _ = try ImageRoutes.parseFilters(request.queryValue("filters"))  // bad filters are still refused
            return .json([String]())
        }
        router.add(.POST, "/containers/create") { _, _ in
            throw BerthError.notImplemented("containers is not implemented yet in this version of Berth: cannot create one")
        }
        router.add(.POST, "/containers/prune") { request, _ in
            _ = try ImageRoutes.parseFilters(request.queryValue("filters"))
            struct PruneReport: Encodable { var ContainersDeleted: [String]? = nil; var SpaceReclaimed = 0 }
            return .json(PruneReport())
        }
        let noSuchContainer: Router.Handler = { _, parameters in
            throw BerthError.notFound("No such container: \(parameters["id"] ?? "")")
        }
        for pattern in ["/containers/{id}", "/containers/{id}/{action}", "/containers/{id}/{action}/{detail}"] {
            for method in [HTTPMethod.GET, .HEAD, .POST, .PUT, .DELETE] { router.add(method, pattern, noSuchContainer) }
        }
    }
}
