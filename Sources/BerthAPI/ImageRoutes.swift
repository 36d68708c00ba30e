import BerthEngine
import BerthOCI
import BerthStore
import FoundationEssentials
import Glibc
import NIOCore
import NIOHTTP1

/// The image endpoints: load, save, import, list, inspect, history, tag, remove, prune, disk usage.
enum ImageRoutes {
    static func register(_ router: inout Router, engine: Engine) {
        router.add(.POST, "/images/load") { request, _ in
            guard let file = request.bodyFile else { throw BerthError.invalidArgument("no image archive in the request body") }
            let result = try await engine.blocking {
                let fd = open(file, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw BerthError.internalError("cannot read the upload") }
                defer { close(fd) }
                return try engine.loadImages(from: fd)
            }
            // A JSON message stream, one object per line, as dockerd sends it. The CLI asks for
            // progress (quiet=0) on a terminal: one finished bar per layer unpacked.
            var messages = request.flag("quiet") ? [] : result.layers.map(LoadProgress.layerLoaded)
            messages += result.lines.map { LoadProgress(stream: $0 + "\n") }
            return .jsonLines(messages)
        }
        let save: @Sendable ([String]) async throws -> APIResponse = { names in
            let export = try engine.exportImages(names)
            // The first chunk, or the end, decides the status: an unknown name fails before any byte.
            let first = try await ContainerRoutes.readChunk(export)
            if first.readableBytes == 0 {
                defer { export.close() }
                try await export.finish()
            }
            return APIResponse(headers: ["Content-Type": "application/x-tar"], stream: ResponseStream { writer in
                defer { export.close() }
                var chunk = first
                while chunk.readableBytes > 0 {
                    try await writer.write(chunk)
                    chunk = try await ContainerRoutes.readChunk(export)
                }
                try await export.finish()
            })
        }
        router.add(.GET, "/images/get") { request, _ in try await save(request.query["names"] ?? []) }
        router.addNamed(.GET, prefix: "/images/", suffix: "/get") { _, parameters in try await save([parameters["name"]!]) }
        router.add(.POST, "/images/create") { request, _ in
            if let fromImage = request.queryValue("fromImage") {
                return try await ImagePullRoute.respond(request, engine: engine, fromImage: fromImage)
            }
            guard let source = request.queryValue("fromSrc") else {
                throw BerthError.invalidArgument("fromImage or fromSrc is required")
            }
            guard source == "-" else {
                throw BerthError.notImplemented("importing from a URL is not implemented in this version of Berth; pipe the file instead")
            }
            guard let file = request.bodyFile else { throw BerthError.invalidArgument("no archive in the request body") }
            let reference = request.queryValue("repo").flatMap { repository -> String? in
                guard !repository.isEmpty else { return nil }
                let tag = request.queryValue("tag") ?? ""
                return repository + (tag.isEmpty ? "" : ":" + tag)
            }
            let changes = request.query["changes"] ?? []
            let message = request.queryValue("message").flatMap { $0.isEmpty ? nil : $0 }
            let platform = request.queryValue("platform")
            let id = try await engine.blocking {
                let fd = open(file, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw BerthError.internalError("cannot read the upload") }
                defer { close(fd) }
                return try engine.importImage(from: fd, reference: reference, changes: changes,
                                              message: message, platform: platform)
            }
            return .jsonLines([["status": id]])
        }
        RegistryRoutes.register(&router, engine: engine)
        router.add(.GET, "/images/json") { request, _ in
            let filters = try parseFilters(request.queryValue("filters"))
            let all = request.queryValue("all") == "1" || request.queryValue("all") == "true"
            var images = try await engine.blocking { try engine.images.list(all: all, filters: filters) }
            if request.speaksBefore(1, 44) {
                for index in images.indices { images[index].VirtualSize = images[index].Size }
            }
            return .json(images)
        }
        router.addNamed(.GET, prefix: "/images/", suffix: "/json") { request, parameters in
            let name = parameters["name"]!
            var image = try await engine.blocking { try engine.images.inspect(name) }
            if request.speaksBefore(1, 44) { image.VirtualSize = image.Size }
            return .json(VersionedImageInspect(image, apiVersion: request.apiVersion ?? SystemInfo.apiVersion))
        }
        router.addNamed(.GET, prefix: "/images/", suffix: "/history") { _, parameters in
            let name = parameters["name"]!
            return .json(try await engine.blocking { try engine.images.history(name) })
        }
        router.add(.POST, "/images/prune") { request, _ in
            let filters = try parseFilters(request.queryValue("filters"))
            for key in filters.keys where !["dangling", "until", "label", "label!"].contains(key) {
                throw BerthError.invalidArgument("invalid filter '\(key)'")
            }
            // The CLI sends dangling=false for `prune -a`.
            let all = filters["dangling"]?.contains("false") == true || filters["dangling"]?.contains("0") == true
            let until = try filters["until"]?.last.map { Int64(try DockerTimestamp.until($0)) }
            let selection = PruneFilters(until: until, labels: filters["label"] ?? [], withoutLabels: filters["label!"] ?? [])
            return .json(try await engine.blocking { try engine.pruneImages(all: all, filters: selection) })
        }
        router.add(.GET, "/system/df") { request, _ in
            // From API 1.42 `type` (repeatable) picks what to count; the rest is null, as dockerd writes it.
            let types = request.speaksBefore(1, 42) ? nil : request.query["type"]
            if let unknown = types?.first(where: { !["container", "image", "volume", "build-cache"].contains($0) }) {
                throw BerthError.invalidArgument("unknown object type: \(unknown)")
            }
            func wanted(_ type: String) -> Bool { types?.contains(type) ?? true }
            var images = wanted("image") ? try await engine.blocking { try engine.images.diskUsage() } : nil
            // Before 1.44 each image also has VirtualSize, the same as Size, as in /images/json.
            if request.speaksBefore(1, 44), var listed = images {
                for index in listed.images.indices { listed.images[index].VirtualSize = listed.images[index].Size }
                images = listed
            }
            let volumes = wanted("volume") ? try await engine.blocking { engine.volumes.usage() } : nil
            // Every container, with its sizes, as `docker ps -a -s` lists them.
            let containers = wanted("container")
                ? try await engine.containers.list(all: true, limit: nil, size: true, filters: ContainerFilters([:])) : nil
            struct DiskUsage: Encodable {
                var LayersSize: Int64
                @NullWhenNil var Images: [ImageSummary]?
                @NullWhenNil var Containers: [ContainerSummary]?
                @NullWhenNil var Volumes: [VolumeView]?
                @NullWhenNil var BuildCache: [String]?
            }
            return .json(DiskUsage(LayersSize: images?.layersSize ?? 0, Images: images?.images, Containers: containers, Volumes: volumes,
                                   BuildCache: wanted("build-cache") ? [] : nil))
        }
        router.addNamed(.POST, prefix: "/images/", suffix: "/tag") { request, parameters in
            let name = parameters["name"]!
            guard let repository = request.queryValue("repo"), !repository.isEmpty else {
                throw BerthError.invalidArgument("repository name must have at least one component")
            }
            let tag = request.queryValue("tag")
            try await engine.blocking { try engine.tagImage(name, repository: repository, tag: tag) }
            return APIResponse(status: .created)
        }
        router.addNamed(.DELETE, prefix: "/images/", suffix: "") { request, parameters in
            let name = parameters["name"]!
            let force = request.queryValue("force") == "1" || request.queryValue("force") == "true"
            return .json(try await engine.blocking { try engine.removeImage(name, force: force) })
        }
    }

    /// `filters` is JSON: {"dangling": ["true"]} (or the old {"dangling": {"true": true}}).
    /// dockerd's filters.FromJSON: the whole object is either the map-of-bool form
    /// (`{"status":{"running":true}}`, where every key counts whatever its bool) or the old
    /// list form (`{"status":["running"]}`); `null` is no filter; anything else, mixed forms
    /// included, is "invalid filter". A null value is the key with no values.
    static func parseFilters(_ text: String?) throws -> [String: [String]] {
        guard let text, !text.isEmpty else { return [:] }
        guard let document = try? AnyJSON.parse(Data(text.utf8)) else { throw BerthError.invalidArgument("invalid filter") }
        if document is AnyJSON.Null { return [:] }
        guard let object = document as? [String: Any] else { throw BerthError.invalidArgument("invalid filter") }
        func values(_ value: Any, asMap: Bool) -> [String]? {
            if value is AnyJSON.Null { return [] }
            if asMap {
                guard let map = value as? [String: Any], map.values.allSatisfy({ $0 is Bool || $0 is AnyJSON.Null }) else { return nil }
                return map.keys.sorted()
            }
            guard let list = value as? [Any] else { return nil }
            return list.compactMap { $0 is AnyJSON.Null ? "" : $0 as? String }.count == list.count
                ? list.map { $0 as? String ?? "" } : nil
        }
        for asMap in [true, false] {
            var filters: [String: [String]] = [:]
            for (key, value) in object {
                guard let list = values(value, asMap: asMap) else { break }
                filters[key] = list
            }
            if filters.count == object.count { return filters }
        }
        throw BerthError.invalidArgument("invalid filter")
    }
}

/// One message of `docker load`'s JSON stream: a progress bar or a line of text.
struct LoadProgress: Encodable, Sendable {
    struct Detail: Encodable, Sendable {
        var current: Int64
        var total: Int64
    }
    var status: String?
    var progressDetail: Detail?
    var progress: String?
    var id: String?
    var stream: String?

    init(stream: String) { self.stream = stream }

    init(status: String, id: String, current: Int64, total: Int64) {
        self.status = status
        self.id = id
        progressDetail = Detail(current: current, total: total)
        progress = Self.bar(current: current, total: total)
    }

    static func layerLoaded(_ layer: (id: String, bytes: Int64)) -> LoadProgress {
        LoadProgress(status: "Loading layer", id: layer.id, current: layer.bytes, total: layer.bytes)
    }

    /// dockerd's bar: 50 columns, `=` done and `>` at the head, then the sizes.
    static func bar(current: Int64, total: Int64) -> String {
        let width = 50
        let done = total > 0 ? Int(Double(width) * Double(current) / Double(total)) : width
        let head = done >= width ? String(repeating: "=", count: width) + ">" : String(repeating: "=", count: done) + ">" + String(repeating: " ", count: width - done - 1)
        return "[\(head)]  \(humanSize(current))/\(humanSize(total))"
    }

    /// Go's units.HumanSize: decimal units, four significant digits.
    static func humanSize(_ bytes: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return formatSignificant(value, digits: 4) + units[unit]
    }
}
