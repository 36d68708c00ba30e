import BerthEngine
import BerthOCI
import Dispatch
import FoundationEssentials
import Glibc
import NIOCore
import NIOHTTP1

/// /containers/…: create, the lifecycle, inspect and list, attach, logs, wait, prune, top,
/// stats, update.
enum ContainerRoutes {
    static func register(_ router: inout Router, engine: Engine) {
        let containers = engine.containers
        router.add(.GET, "/containers/json") { request, _ in
            let filters = try ContainerFilters(ImageRoutes.parseFilters(request.queryValue("filters")))
            // Only a positive limit implies `all` (`ps -n`); docker-py and compose send limit=-1
            // for "no limit" and must still get just the running containers.
            let limit = try request.atoi("limit").flatMap { $0 > 0 ? $0 : nil }
            let query = request.query.keys.sorted().map { "\($0)=\(request.query[$0]!)" }.joined(separator: "&")
            let body = try await containers.listJSON(all: request.flag("all"), limit: limit, size: request.flag("size"),
                                                     filters: filters, query: query)
            return APIResponse(headers: ["Content-Type": "application/json"], body: body)
        }
        router.add(.POST, "/containers/create") { request, _ in
            try JSONRequestBody.checkContentType(request)
            // An empty body is EOF here, not "nothing set" (runconfig's loadJSON); `null` is no config.
            guard var body = try JSONRequestBody.decode(ContainerCreateRequest.self, request.body, as: .createRequest) else {
                throw BerthError.invalidArgument("config cannot be empty in order to create a container")
            }
            try MountVersionGate.apply(to: &body.hostConfig, request: request)
            body.readOnlyNonRecursiveBinds = request.speaksBefore(1, 44)
            let created = try await containers.create(body, name: request.queryValue("name"), platform: request.queryValue("platform"))
            struct Answer: Encodable { var Id: String; var Warnings: [String] }
            return .json(Answer(Id: created.id, Warnings: created.warnings), status: .created)
        }
        router.add(.POST, "/containers/prune") { request, _ in
            let filters = try ContainerFilters(ImageRoutes.parseFilters(request.queryValue("filters")), prune: true)
            let report = try await containers.prune(filters: filters)
            struct Answer: Encodable {
                @NullWhenNil var ContainersDeleted: [String]?  // null when none, as dockerd
                var SpaceReclaimed: Int64
            }
            return .json(Answer(ContainersDeleted: report.deleted.isEmpty ? nil : report.deleted, SpaceReclaimed: report.reclaimed))
        }
        router.add(.GET, "/containers/{id}/json") { request, parameters in
            var inspect = try await containers.inspect(parameters["id"]!, size: request.flag("size"))
            if request.speaksBefore(1, 45) { inspect.addLegacyAliases() }
            return .json(inspect)
        }
        router.add(.POST, "/containers/{id}/start") { request, parameters in
            // A JSON object of more than `{}` (or a body of unknown length) is the HostConfig
            // clients sent before API 1.24.
            if request.body.count > 7 || request.headers["Transfer-Encoding"].contains(where: { $0.lowercased().contains("chunked") }) {
                throw BerthError.invalidArgument("starting container with non-empty request body was deprecated since API v1.22 and removed in v1.24")
            }
            switch try await containers.start(parameters["id"]!) {
            case .started: return APIResponse(status: .noContent)
            case .alreadyRunning: return APIResponse(status: .notModified)
            }
        }
        router.add(.POST, "/containers/{id}/stop") { request, parameters in
            let result = try await containers.stop(parameters["id"]!, timeout: try request.atoi("t"), signal: request.stopSignal)
            return APIResponse(status: result == .stopped ? .noContent : .notModified)
        }
        router.add(.POST, "/containers/{id}/restart") { request, parameters in
            try await containers.restart(parameters["id"]!, timeout: try request.atoi("t"), signal: request.stopSignal)
            return APIResponse(status: .noContent)
        }
        router.add(.POST, "/containers/{id}/kill") { request, parameters in
            try await containers.kill(parameters["id"]!, signal: request.queryValue("signal").flatMap { $0.isEmpty ? nil : $0 })
            return APIResponse(status: .noContent)
        }
        router.add(.POST, "/containers/{id}/pause") { _, parameters in
            try await containers.pause(parameters["id"]!)
            return APIResponse(status: .noContent)
        }
        router.add(.POST, "/containers/{id}/unpause") { _, parameters in
            try await containers.unpause(parameters["id"]!)
            return APIResponse(status: .noContent)
        }
        router.add(.POST, "/containers/{id}/rename") { request, parameters in
            guard let name = request.queryValue("name"), !name.isEmpty else {
                throw BerthError.invalidArgument("Neither old nor new names may be empty")
            }
            try await containers.rename(parameters["id"]!, to: name)
            return APIResponse(status: .noContent)
        }
        // As dockerd's route, the name may hold slashes: a link's name is "parent/alias".
        router.addNamed(.DELETE, prefix: "/containers/", suffix: "", allowsEmptyName: true) { request, parameters in
            guard parameters["name"] != "" else { throw BerthError.invalidArgument("invalid name or ID supplied: \"\"") }
            if request.flag("link") {
                try await containers.removeLink(parameters["name"]!)
                return APIResponse(status: .noContent)
            }
            try await containers.remove(parameters["name"]!, force: request.flag("force"), removeVolumes: request.flag("v"))
            return APIResponse(status: .noContent)
        }
        router.add(.POST, "/containers/{id}/wait") { request, parameters in
            let conditionText = request.queryValue("condition").flatMap { $0.isEmpty ? nil : $0 } ?? "not-running"
            guard let condition = ContainerService.WaitCondition(rawValue: conditionText) else {
                throw BerthError.invalidArgument("invalid condition: \"\(conditionText)\"")
            }
            let id = try await containers.waitRegistration(parameters["id"]!, condition: condition)
            // The head goes out at once, so the client knows the wait is registered.
            let stream = ResponseStream { writer in
                guard let result = await containers.wait(id: id, condition: condition) else { return }  // the client left
                // dockerd always has the Error field, null when there is none; its encoder here
                // is Go's default one (HTML characters escaped).
                let error = result.error.map { "{\"Message\":" + $0.goJSONQuoted + "}" } ?? "null"
                try await writer.write(Array("{\"Error\":\(error),\"StatusCode\":\(result.statusCode)}\n".utf8))
            }
            return APIResponse(headers: ["Content-Type": "application/json"], stream: stream)
        }
        router.add(.GET, "/containers/{id}/attach/ws") { request, parameters in
            try await AttachWebSocketRoute.respond(request, id: parameters["id"]!, containers: containers)
        }
        router.add(.POST, "/containers/{id}/attach") { request, parameters in
            let id = parameters["id"]!
            let options = AttachOptions(stdin: request.flag("stdin"), stdout: request.flag("stdout"),
                                        stderr: request.flag("stderr"), detachKeys: request.queryValue("detachKeys").flatMap { $0.isEmpty ? nil : $0 })
            let tty = try await containers.checkAttach(id, options: options)
            // dockerd's defaults: no log replay, and no live stream unless asked for.
            let replayLogs = request.flag("logs")
            let joinsFrames = LogFraming.joinsFrames(request.headers)
            let stream = request.flag("stream")
            return .hijacked(HijackedSession(multiplexed: !tty) { connection in
                if replayLogs {
                    try await AttachLogReplay.write(id, stdout: options.stdout, stderr: options.stderr, joinsFrames: joinsFrames,
                                                    containers: containers, to: connection.output)
                }
                try await containers.attach(id, options: options, stream: stream,
                                            client: StreamClient(input: connection.input, output: connection.output,
                                                                 closed: connection.closed))
            })
        }
        router.add(.POST, "/containers/{id}/resize") { request, parameters in
            try await containers.resize(parameters["id"]!, height: try request.resizeDimension("h", word: "height"),
                                        width: try request.resizeDimension("w", word: "width"))
            return APIResponse(status: .ok)
        }
        router.add(.GET, "/containers/{id}/logs") { request, parameters in
            try await ContainerLogRoutes.logs(request, id: parameters["id"]!, containers: containers)
        }
        router.add(.POST, "/containers/{id}/exec") { request, parameters in
            let body = try JSONRequestBody.read(ExecCreateRequest.self, from: request, as: .execOptions)
            guard let body, body.Cmd?.isEmpty == false else { throw BerthError.invalidArgument("No exec command specified") }
            struct Answer: Encodable { var Id: String }
            return .json(Answer(Id: try await containers.createExec(parameters["id"]!, body)), status: .created)
        }
        router.add(.POST, "/exec/{id}/start") { request, parameters in
            struct Body: Decodable { var Detach: Bool?; var Tty: Bool? }
            let body = try JSONRequestBody.read(Body.self, from: request, as: GoJSONTypeError(rootType: "container.ExecStartOptions")) ?? Body()
            let execID = parameters["id"]!
            // As dockerd: the stream is raw only when the start says Tty (an omitted one is false).
            let raw = body.Tty ?? false
            _ = try await containers.checkExecStart(execID, tty: raw)
            if body.Detach == true {
                try await containers.startExec(execID, tty: raw, client: nil)
                return APIResponse(status: .ok)
            }
            return .hijacked(HijackedSession(multiplexed: !raw) { connection in
                try await containers.startExec(execID, tty: raw,
                                               client: StreamClient(input: connection.input, output: connection.output))
            })
        }
        router.add(.POST, "/exec/{id}/resize") { request, parameters in
            try await containers.resizeExec(parameters["id"]!, height: try request.resizeDimension("h", word: "height"),
                                            width: try request.resizeDimension("w", word: "width"))
            return APIResponse(status: .ok)
        }
        router.add(.GET, "/exec/{id}/json") { _, parameters in
            .json(try await containers.inspectExec(parameters["id"]!))
        }
        router.add(.GET, "/containers/{id}/top") { request, parameters in
            .json(try await containers.top(parameters["id"]!, psArgs: request.queryValue("ps_args")))
        }
        router.add(.GET, "/containers/{id}/stats") { request, parameters in
            let id = try await containers.statsTarget(parameters["id"]!)
            // Docker's default is a stream; a present `stream` is read as any query boolean.
            let stream = request.flag("stream", default: true)
            let oneShot = request.flag("one-shot")
            if oneShot && stream {
                throw BerthError.invalidArgument("cannot have stream=true and one-shot=true")
            }
            return APIResponse(headers: ["Content-Type": "application/json"], stream: ResponseStream { writer in
                try await containers.streamStats(id: id, stream: stream, oneShot: oneShot) { try await writer.write($0) }
            })
        }
        router.add(.POST, "/containers/{id}/update") { request, parameters in
            // As dockerd, an empty body (or `null`) updates nothing and answers as an update does.
            var body = try JSONRequestBody.read(HostConfig.self, from: request, as: GoJSONTypeError(rootType: "container.UpdateConfig")) ?? HostConfig()
            // API 1.42 removed KernelMemory: dockerd ignores it from clients at 1.42 or later.
            let version = (request.apiVersion ?? SystemInfo.apiVersion).split(separator: ".").map { Int($0) ?? 0 }
            if !version.lexicographicallyPrecedes([1, 42]) { body.KernelMemory = nil }
            struct Answer: Encodable {
                @NullWhenNil var Warnings: [String]?  // null when none, as dockerd
            }
            let warnings = try await containers.update(parameters["id"]!, request: body)
            return .json(Answer(Warnings: warnings.isEmpty ? nil : warnings))
        }
        registerFiles(&router, containers: containers)
    }
}

extension ContainerRoutes {
    /// `docker cp` (archive), `docker export` and `docker diff` (changes).
    static func registerFiles(_ router: inout Router, containers: ContainerService) {
        let statHeader = "X-Docker-Container-Path-Stat"
        router.add(.HEAD, "/containers/{id}/archive") { request, parameters in
            let stat = try await containers.statPath(parameters["id"]!, path: request.queryValue("path"))
            return APIResponse(headers: [statHeader: stat.header])
        }
        router.add(.GET, "/containers/{id}/archive") { request, parameters in
            let (stat, tar) = try await containers.archive(parameters["id"]!, path: request.queryValue("path"))
            return tarResponse(tar, headers: ["Content-Type": "application/x-tar", statHeader: stat.header])
        }
        router.add(.PUT, "/containers/{id}/archive") { request, parameters in
            let options = ContainerService.ExtractOptions(noOverwriteDirNonDir: request.flag("noOverwriteDirNonDir"),
                                                          copyUIDGID: request.flag("copyUIDGID"))
            try await containers.extract(parameters["id"]!, path: request.queryValue("path"),
                                         archiveFile: request.bodyFile, options: options)
            return APIResponse(status: .ok)
        }
        router.add(.GET, "/containers/{id}/export") { _, parameters in
            tarResponse(try await containers.export(parameters["id"]!), headers: ["Content-Type": "application/x-tar"])
        }
        router.add(.GET, "/containers/{id}/changes") { _, parameters in
            let changes = try await containers.changes(parameters["id"]!)
            // dockerd answers null when nothing changed.
            guard !changes.isEmpty else { return APIResponse(headers: ["Content-Type": "application/json"], body: Array("null\n".utf8)) }
            return .json(changes.map { FilesystemChange(Path: $0.path, Kind: $0.kind.rawValue) })
        }
    }

    /// A tar written while it is sent; chunks are read off the event loop.
    static func tarResponse(_ tar: TarStream, headers: HTTPHeaders) -> APIResponse {
        APIResponse(headers: headers, stream: ResponseStream { writer in
            defer { tar.close() }
            while true {
                let chunk = try await ContainerRoutes.readChunk(tar)
                if chunk.readableBytes == 0 { break }
                try await writer.write(chunk)
            }
            try await tar.finish()
        })
    }

    /// The next piece of the tar; empty at its end.
    static func readChunk(_ tar: TarStream) async throws -> ByteBuffer {
        try await withCheckedThrowingContinuation { continuation in
            BlockingWork.start {
                continuation.resume(with: Result {
                    var buffer = ByteBufferAllocator().buffer(capacity: TarStream.chunkSize)
                    _ = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: TarStream.chunkSize) { try tar.read(into: $0) }
                    return buffer
                })
            }
        }
    }
}

/// One entry of `GET /containers/{id}/changes`, as dockerd's FilesystemChange.
struct FilesystemChange: Encodable {
    var Path: String
    var Kind: Int
}
