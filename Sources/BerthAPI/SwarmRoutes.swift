import NIOHTTP1

/// Berth never joins a swarm. Its swarm endpoints answer as dockerd's do on a node outside
/// one (503, in its words: clients such as docker-py's `leave_swarm(force=True)` rely on
/// them), except for making or joining a swarm, which Berth cannot do (501).
enum SwarmRoutes {
    static let notManager = #"This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again."#
    static let resources = ["swarm", "nodes", "services", "tasks", "secrets", "configs"]

    static func register(_ router: inout Router) {
        let cannot: Router.Handler = { _, _ in
            .error("swarm is not implemented yet in this version of Berth", status: .notImplemented)
        }
        router.add(.POST, "/swarm/init", cannot)
        router.add(.POST, "/swarm/join", cannot)
        router.add(.POST, "/swarm/leave") { _, _ in .error("This node is not part of a swarm", status: .serviceUnavailable) }
        let outside: Router.Handler = { _, _ in .error(notManager, status: .serviceUnavailable) }
        for prefix in resources {
            var pattern = "/" + prefix
            for depth in 0..<4 {
                for method in [HTTPMethod.GET, .POST, .PUT, .DELETE, .HEAD] { router.add(method, pattern, outside) }
                pattern += "/{p\(depth)}"
            }
        }
    }
}
