import BerthEngine
import BerthOCI
import NIOCore

/// `GET /containers/{id}/logs`: the json-file log read back as `docker logs` asks, followed
/// while the container runs with `follow`.
enum ContainerLogRoutes {
    static func logs(_ request: APIRequest, id: String, containers: ContainerService) async throws -> APIResponse {
        let source = try await containers.logSource(id)
        guard source.driver == "json-file" else {
            throw BerthError.notImplemented("configured logging driver does not support reading")
        }
        var query = try LogReadOptions(query: request.query.compactMapValues(\.last))
        query.detailsPrefix = source.detailsPrefix
        let options = query
        let log = JSONFileLog(directory: source.directory, containerID: source.id)
        let containerID = source.id
        let stream = ResponseStream { writer in
            try await log.readFormatted(options: options, tty: source.tty, stop: {
                await containers.waitUntilStopped(containerID)
            }) { bytes in
                try await writer.write(bytes)
            }
        }
        let type = source.tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream"
        return APIResponse(headers: ["Content-Type": type], stream: stream)
    }
}
