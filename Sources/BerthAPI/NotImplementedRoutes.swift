import NIOHTTP1

/// Endpoints of the Engine API that later parts of Berth will serve. Until then they answer
/// 501 with what is missing, never a fake success (the CLI prints the message).
enum NotImplementedRoutes {
    static let resources: [(prefix: String, name: String)] = [
        ("images", "images"),
        ("system", "system"),
        ("plugins", "plugins"), ("session", "session"),
    ]

    /// dockerd's answer on its experimental routes (checkpoints) when, as Berth, it is not
    /// in experimental mode.
    static let experimentalDisabled = "This experimental feature is disabled by default. "
        + "Start the Docker daemon in experimental mode in order to enable it."

    /// Answers every method on every path below the listed resources (up to five levels).
    static func register(_ router: inout Router) {
        for method in [HTTPMethod.GET, .POST] {
            router.add(method, "/containers/{id}/checkpoints") { _, _ in .error(experimentalDisabled, status: .notImplemented) }
        }
        for (prefix, name) in resources {
            let handler: Router.Handler = { _, _ in
                .error("\(name) is not implemented yet in this version of Berth", status: .notImplemented)
            }
            var pattern = "/" + prefix
            for depth in 0..<5 {
                for method in [HTTPMethod.GET, .POST, .PUT, .DELETE, .HEAD] { router.add(method, pattern, handler) }
                pattern += "/{p\(depth)}"
            }
        }
    }
}
