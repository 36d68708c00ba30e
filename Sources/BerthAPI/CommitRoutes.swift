import BerthEngine
import BerthOCI
import FoundationEssentials

/// POST /commit: a new image from a container's changes (`docker commit`).
enum CommitRoutes {
    static func register(_ router: inout Router, engine: Engine) {
        router.add(.POST, "/commit") { request, _ in
            let container = request.queryValue("container") ?? ""
            guard !container.isEmpty else { throw BerthError.invalidArgument("invalid name or ID supplied: \"\"") }
            try JSONRequestBody.checkContentType(request)
            // The body, when not empty or null, is a container config used instead of the container's.
            var config: ContainerConfig?
            if !request.body.isEmpty {
                do {
                    config = try JSONDecoder().decode(ContainerConfig?.self, from: Data(request.body))
                } catch {
                    throw BerthError.invalidArgument("invalid JSON: \(error)")
                }
                // An object without any config field (docker-py sends `{}`) is no config for
                // dockerd too: the --change instructions then apply to the container's config,
                // so an ENV comes after the image's PATH.
                if config == ContainerConfig() { config = nil }
            }
            let commit = CommitRequest(container: container, repository: request.queryValue("repo"), tag: request.queryValue("tag"),
                                       comment: request.queryValue("comment") ?? "", author: request.queryValue("author") ?? "",
                                       pause: pauses(request.queryValue("pause")), changes: request.query["changes"] ?? [],
                                       config: config)
            struct Answer: Encodable { var Id: String }
            return .json(Answer(Id: try await engine.commit(commit)), status: .created)
        }
    }

    /// dockerd's reading of `pause`: absent means yes; "", 0, no, false and none mean no.
    static func pauses(_ value: String?) -> Bool {
        guard let value else { return true }
        return !["", "0", "no", "false", "none"].contains(value.trimmed(newlines: false).lowercased())
    }
}
