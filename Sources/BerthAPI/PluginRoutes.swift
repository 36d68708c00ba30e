import BerthEngine
import BerthOCI

/// /plugins: Berth's drivers are built in (as dockerd's bridge or local are), and it installs no
/// managed plugins, so the list is empty and a plugin by name is not found. Installing, enabling
/// and the rest answer 501 (NotImplementedRoutes).
enum PluginRoutes {
    static func register(_ router: inout Router) {
        router.add(.GET, "/plugins") { request, _ in
            // dockerd's filter checks come before its (here empty) list.
            let filters = try ImageRoutes.parseFilters(request.queryValue("filters"))
            for key in filters.keys.sorted() where key != "enabled" && key != "capability" {
                throw BerthError.invalidArgument("invalid filter '\(key)'")
            }
            if let enabled = filters["enabled"] { _ = try VolumeFilters.boolean("enabled", enabled) }
            return .json([String]())
        }
        router.add(.GET, "/plugins/{name}/json") { _, parameters in
            throw BerthError.notFound("plugin \"\(parameters["name"]!)\" not found")
        }
    }
}
