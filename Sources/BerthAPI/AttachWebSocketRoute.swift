import BerthEngine
import NIOCore

/// `GET /containers/{id}/attach/ws`: the attach of web terminals (Portainer) and docker-py's
/// `attach_socket(ws=True)`. As dockerd: the container checks answer in JSON before any
/// handshake; then every write of the container is one frame, raw even without a TTY (the
/// frames keep the writes apart); the client's data frames are its stdin; the end of the
/// attachment (the container's exit, a detach, the client's close) sends a close frame.
enum AttachWebSocketRoute {
    static func respond(_ request: APIRequest, id: String, containers: ContainerService) async throws -> APIResponse {
        // Before API 1.42 dockerd attached all three streams whatever the query said.
        let chooses = !request.speaksBefore(1, 42)
        var options = AttachOptions(stdin: !chooses || request.flag("stdin"), stdout: !chooses || request.flag("stdout"),
                                    stderr: !chooses || request.flag("stderr"),
                                    detachKeys: request.queryValue("detachKeys").flatMap { $0.isEmpty ? nil : $0 })
        options.muxStreams = false
        options.endsWithInput = true
        _ = try await containers.checkAttach(id, options: options)
        let attach = options
        let answer = WebSocketHandshake.answer(request.headers)
        let replayLogs = request.flag("logs")
        let stream = request.flag("stream")
        return .hijacked(HijackedSession(webSocket: answer) { connection in
            if replayLogs {
                try await AttachLogReplay.write(id, stdout: attach.stdout, stderr: attach.stderr, joinsFrames: false,
                                                rawRecords: true, containers: containers, to: connection.output)
            }
            try await containers.attach(id, options: attach, stream: stream,
                                        client: StreamClient(input: connection.input, output: connection.output,
                                                             closed: connection.closed))
        })
    }
}
