import BerthEngine
import BerthOCI
import FoundationEssentials

/// POST /build: the classic builder (`docker build` without BuildKit). The context tar is
/// the body; the answer is a JSON message stream. What fails before the first step is an
/// HTTP error, as with dockerd; a failure later is an `errorDetail` message in the stream.
enum BuildRoutes {
    static func register(_ router: inout Router, engine: Engine) {
        // Cancels a BuildKit build by its ID. Classic builds have none (closing their
        // connection cancels them), so no build matches: nothing to do, as dockerd answers.
        router.add(.POST, "/build/cancel") { _, _ in APIResponse(status: .ok) }
        router.add(.POST, "/build") { request, _ in
            if request.queryValue("version") == "2" {
                throw BerthError.notImplemented("BuildKit builds are not implemented in this version of Berth; use the classic builder (DOCKER_BUILDKIT=0)")
            }
            var build = BuildRequest(
                contextFile: request.bodyFile,
                dockerfile: request.queryValue("dockerfile").flatMap { $0.isEmpty ? nil : $0 } ?? "Dockerfile",
                tags: request.query["t"] ?? [],
                buildArgs: try jsonMap(request.queryValue("buildargs"), name: "build args"),
                labels: try jsonMap(request.queryValue("labels"), name: "labels").compactMapValues { $0 },
                noCache: flag(request.queryValue("nocache"), default: false),
                remove: flag(request.queryValue("rm"), default: true),
                forceRemove: flag(request.queryValue("forcerm"), default: false),
                quiet: flag(request.queryValue("q"), default: false),
                target: request.queryValue("target").flatMap { $0.isEmpty ? nil : $0 },
                pull: flag(request.queryValue("pull"), default: false))
            if flag(request.queryValue("squash"), default: false) {
                throw BerthError.invalidArgument("squash is only supported with experimental mode")
            }
            if let remote = request.queryValue("remote"), !remote.isEmpty {
                build.remote = remote
                build.cancellation = request.clientLeft
            }
            build.hostConfig = try hostConfig(request)
            if let text = request.queryValue("cachefrom"), !text.isEmpty {
                guard let names = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else {
                    throw BerthError.invalidArgument("invalid cachefrom JSON: \(text)")
                }
                build.cacheFrom = names
            }
            let prepared = try await engine.prepareBuild(build)
            let stream = ResponseStream { writer in
                let write: @Sendable (BuildStreamRecord) async throws -> Void = { record in
                    try await writer.write(record.jsonLine)
                }
                do {
                    _ = try await engine.runBuild(prepared) { message in
                        switch message {
                        case .stream(let text): try await write(.stream(text))
                        case .imageID(let id): try await write(.imageID(id))
                        case .pull(let progress): try await writer.write(Array((progress.json + "\r\n").utf8))
                        }
                    }
                } catch let failure as BuildFailure {
                    try await write(.error(failure.message, code: failure.code))
                } catch let error as BerthError {
                    try await write(.error(error.message, code: nil))
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    try await write(.error("\(error)", code: nil))
                }
            }
            return APIResponse(headers: ["Content-Type": "application/json"], stream: stream)
        }
    }

    /// The options the steps' containers run with.
    static func hostConfig(_ request: APIRequest) throws -> HostConfig {
        var host = HostConfig()
        func integer(_ name: String) throws -> Int64? {
            guard let text = request.queryValue(name), !text.isEmpty else { return nil }
            guard let value = Int64(text) else {
                throw BerthError.invalidArgument("strconv.ParseInt: parsing \"\(text)\": invalid syntax")
            }
            return value
        }
        if let mode = request.queryValue("networkmode"), !mode.isEmpty { host.NetworkMode = mode }
        let hosts = (request.query["extrahosts"] ?? []).flatMap { $0.split(separator: ",").map(String.init) }.filter { !$0.isEmpty }
        if !hosts.isEmpty { host.ExtraHosts = hosts }
        host.Memory = try integer("memory").flatMap { $0 == 0 ? nil : $0 }
        host.MemorySwap = try integer("memswap").flatMap { $0 == 0 ? nil : $0 }
        host.CpuShares = try integer("cpushares").flatMap { $0 == 0 ? nil : $0 }
        host.CpuPeriod = try integer("cpuperiod").flatMap { $0 == 0 ? nil : $0 }
        host.CpuQuota = try integer("cpuquota").flatMap { $0 == 0 ? nil : $0 }
        host.ShmSize = try integer("shmsize").flatMap { $0 == 0 ? nil : $0 }
        if let cpus = request.queryValue("cpusetcpus"), !cpus.isEmpty { host.CpusetCpus = cpus }
        if let mems = request.queryValue("cpusetmems"), !mems.isEmpty { host.CpusetMems = mems }
        if let parent = request.queryValue("cgroupparent"), !parent.isEmpty { host.CgroupParent = parent }
        if let text = request.queryValue("ulimits"), !text.isEmpty {
            do {
                host.Ulimits = try JSONDecoder().decode([Ulimit].self, from: Data(text.utf8))
            } catch {
                throw BerthError.invalidArgument("invalid ulimits JSON: \(text)")
            }
        }
        return host
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
enum BuildStreamRecord: Sendable {
    case stream(String)
    case imageID(String)
    case error(String, code: Int?)

    /// The line as dockerd writes its JSONMessage: Go's json.Marshal (so `<`, `>` and `&`
    /// escaped), fields in their declared order (stream, errorDetail, error, aux), a zero code
    /// left out, and "\r\n" after it.
    var jsonLine: [UInt8] {
        let json: String
        switch self {
        case .stream(let text):
            json = #"{"stream":"# + text.goJSONQuoted + "}"
        case .imageID(let id):
            json = #"{"aux":{"ID":"# + id.goJSONQuoted + "}}"
        case .error(let message, let code):
            let codeField = code.map { $0 == 0 ? "" : #""code":\#($0),"# } ?? ""
            json = #"{"errorDetail":{"# + codeField + #""message":"# + message.goJSONQuoted + #"},"error":"# + message.goJSONQuoted + "}"
        }
        return Array((json + "\r\n").utf8)
    }
}
