import BerthEngine
import BerthOCI
import NIOCore

/// `GET /containers/{id}/logs`: the container's log read back as `docker logs` asks — the
/// file the json-file and local drivers write, or its entries in the journal for the journald driver — followed while the
/// container runs with `follow`.
enum ContainerLogRoutes {
    static func logs(_ request: APIRequest, id: String, containers: ContainerService) async throws -> APIResponse {
        // dockerd checks the streams before it looks the container up.
        guard request.flag("stdout") || request.flag("stderr") else {
            throw BerthError.invalidArgument("Bad parameters: you must choose at least one stream")
        }
        let source = try await containers.logSource(id)
        guard source.file != nil || source.driver == "journald" else {
            throw BerthError.notImplemented("configured logging driver does not support reading")
        }
        // dockerd makes the container's driver to read through it, and journald's refuses a host
        // where journald does not listen: an error, rather than an empty log.
        if source.file == nil && !JournaldSocket.isListening() {
            throw BerthError.internalError("journald is not enabled on this host")
        }
        var query = try GoStrconv.passedOn { try LogReadOptions(query: request.query.compactMapValues(\.first)) }
        query.detailsPrefix = source.detailsPrefix
        query.joinsFrames = LogFraming.joinsFrames(request.headers)
        let options = query
        let containerID = source.id
        let stream: ResponseStream
        if let file = source.file {
            let log = JSONFileLog(path: file)
            stream = ResponseStream { writer in
                try await log.readFormatted(options: options, tty: source.tty, stop: {
                    await containers.waitUntilStopped(containerID)
                }) { bytes in
                    try await writer.write(bytes)
                }
            }
        } else {
            let log = JournaldLog(containerID: containerID)
            stream = ResponseStream { writer in
                try await log.readFormatted(options: options, tty: source.tty, end: source.journalEnd, stop: {
                    await containers.waitForJournalEnd(containerID)
                }) { bytes in
                    try await writer.write(bytes)
                }
            }
        }
        let type = source.tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream"
        return APIResponse(headers: ["Content-Type": type], stream: stream)
    }
}
