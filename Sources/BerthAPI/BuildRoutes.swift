import BerthEngine
import BerthOCI
import FoundationEssentials

/// POST /build: the classic builder (`docker build` without BuildKit). The context tar is
/// the body; the answer is a JSON message stream. What fails before the first step is an
/// HTTP error, as with dockerd; a failure later is an `errorDetail` message in the stream.
enum BuildRoutes {
    static func register(_ router: inout Router, engine: Engine) {
        router.add(.POST, "/build") { request, _ in
            if let remote = request.queryValue("remote"), !remote.isEmpty {
                throw BerthError.notImplemented("building from a remote context is not implemented in this version of Berth")
            }
            if request.queryValue("version") == "2" {
                throw BerthError.notImplemented("BuildKit builds are not implemented in this version of Berth; use the classic builder (DOCKER_BUILDKIT=0)")
            }
            let build = BuildRequest(
                contextFile: request.bodyFile,
                dockerfile: request.queryValue("dockerfile").flatMap { $0.isEmpty ? nil : $0 } ?? "Dockerfile",
                tags: request.query["t"] ?? [],
                buildArgs: try jsonMap(request.queryValue("buildargs"), name: "build args"),
                labels: try jsonMap(request.queryValue("labels"), name: "labels").compactMapValues { $0 },
                noCache: flag(request.queryValue("nocache"), default: false),
                remove: flag(request.queryValue("rm"), default: true),
                forceRemove: flag(request.queryValue("forcerm"), default: false),
                quiet: flag(request.queryValue("q"), default: false),
                target: request.queryValue("target").flatMap { $0.isEmpty ? nil : $0 })
            let prepared = try await engine.prepareBuild(build)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let stream = ResponseStream { writer in
                let write: @Sendable (BuildStreamRecord) async throws -> Void = { record in
                    try await writer.write(Array(try encoder.encode(record)) + Array("\r\n".utf8))
                }
                do {
                    _ = try await engine.runBuild(prepared) { message in
                        switch message {
                        case .stream(let text): try await write(BuildStreamRecord(stream: text))
                        case .imageID(let id): try await write(BuildStreamRecord(aux: .init(ID: id)))
                        }
                    }
                } catch let failure as BuildFailure {
                    try await write(BuildStreamRecord(error: failure.message, code: failure.code))
                } catch let error as BerthError {
                    try await write(BuildStreamRecord(error: error.message, code: nil))
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    try await write(BuildStreamRecord(error: "\(error)", code: nil))
                }
            }
            return APIResponse(headers: ["Content-Type": "application/json"], stream: stream)
        }
    }

    /// The query's booleans as dockerd reads them ("1", "true"; absent: the default).
    static func flag(_ value: String?, default defaultValue: Bool) -> Bool {
        guard let value, !value.isEmpty else { return defaultValue }
        return ["1", "true", "True", "TRUE"].contains(value)
    }

    /// `buildargs` and `labels`: a JSON object of strings (a null value allowed).
    static func jsonMap(_ text: String?, name: String) throws -> [String: String?] {
        guard let text, !text.isEmpty else { return [:] }
        do {
            return try JSONDecoder().decode([String: String?].self, from: Data(text.utf8))
        } catch {
            throw BerthError.invalidArgument("invalid \(name) JSON: \(text)")
        }
    }
}

/// One message of the build stream: text, the image ID, or the error that ended it.
struct BuildStreamRecord: Encodable, Sendable {
    struct Aux: Encodable, Sendable { var ID: String }
    struct ErrorDetail: Encodable, Sendable {
        var code: Int?
        var message: String
    }
    var stream: String?
    var aux: Aux?
    var errorDetail: ErrorDetail?
    var error: String?

    init(stream: String) { self.stream = stream }
    init(aux: Aux) { self.aux = aux }
    init(error: String, code: Int?) {
        self.error = error
        errorDetail = ErrorDetail(code: code, message: error)
    }
}
