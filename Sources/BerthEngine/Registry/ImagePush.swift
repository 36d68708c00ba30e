import BerthOCI
import BerthStore
import FoundationEssentials
import Glibc

/// `docker push` (POST /images/{name}/push?tag=…): each layer sent as gzip data unless the
/// registry holds it ("Layer already exists") or can mount it from another repository of the
/// same registry ("Mounted from …"), then the config, then a docker schema2 manifest under
/// the tag — as dockerd's push, with its progress messages. A layer stored as gzip (pulled
/// that way) goes as it is; others are compressed first, and the gzip blob's digest is kept
/// for the next push. The manifest is always schema2 (dockerd's choice too), also for an
/// image pulled as OCI: its config, and so its ID, stay the same.
extension Engine {
    static let schema2Manifest = "application/vnd.docker.distribution.manifest.v2+json"
    static let schema2Config = "application/vnd.docker.container.image.v1+json"
    static let schema2Layer = "application/vnd.docker.image.rootfs.diff.tar.gzip"

    /// `name` is the repository (with a tag or not); `tag` from the query wins; no tag at
    /// all pushes every tag of the repository. At the first message the push has begun.
    public func pushImage(_ name: String, tag: String?, registryAuth: String?, cancellation: TransferCancellation = TransferCancellation(),
                          emit: @escaping @Sendable (PullMessage) -> Void) throws {
        var reference = try ImageReference.parse(name, defaultTag: false)
        if let tag, !tag.isEmpty {
            reference = try ImageReference.parse(reference.repository + ":" + tag, defaultTag: false)
        }
        guard reference.digest == nil else { throw BerthError.invalidArgument("cannot push a digest reference") }
        emit(.line("The push refers to repository [\(reference.repository)]"))
        let tags = images.tags(ofRepository: reference.repository)
        guard !tags.isEmpty else {
            throw BerthError.notFound("An image does not exist locally with the tag: \(reference.familiarRepository)")
        }
        var chosen = tags
        if let tag = reference.tag {
            chosen = tags.filter { $0.tag == tag }
            guard !chosen.isEmpty else { throw BerthError.notFound("tag does not exist: \(reference.familiar)") }
        }
        let client = RegistryClient(reference: reference, credentials: RegistryCredentials.decode(registryAuth),
                                    insecureRegistries: settings.insecureRegistries, actions: "push,pull")
        try client.ping()
        let known = RemoteLayers()
        for (tag, id) in chosen {
            try cancellation.check()
            var tagged = reference
            tagged.tag = tag
            try pushTag(tagged, id: id, client: client, known: known, cancellation: cancellation, emit: emit)
        }
        emitImage("push", id: reference.familiar, name: reference.familiar)
    }

    private func pushTag(_ reference: ImageReference, id: String, client: RegistryClient, known: RemoteLayers,
                         cancellation: TransferCancellation, emit: @escaping @Sendable (PullMessage) -> Void) throws {
        let source = try images.pushSource(id)
        // Top layer first, as dockerd lists them; a layer twice in an image goes once.
        let topFirst = Array(source.layers.reversed())
        var unique: [PushLayer] = []
        for layer in topFirst {
            emit(.layer("Preparing", id: layer.shortID))
            if !unique.contains(where: { $0.diffID == layer.diffID }) { unique.append(layer) }
        }
        let limit = settings.maxConcurrentUploads
        for layer in unique.dropFirst(limit) { emit(.layer("Waiting", id: layer.shortID)) }
        try ParallelTransfers.run(unique.count, limit: limit) { index in
            try cancellation.check()
            let descriptor = try self.pushLayer(unique[index], reference: reference, client: client, known: known,
                                                cancellation: cancellation, emit: emit)
            known.set(unique[index].diffID, descriptor)
        }
        try client.putBlob(source.config, digest: source.id)
        var layers: [String] = []
        for layer in source.layers {
            guard let descriptor = known.get(layer.diffID) else { throw BerthError.internalError("layer \(layer.diffID) was not pushed") }
            layers.append("""
                      {
                         "mediaType": "\(Self.schema2Layer)",
                         "size": \(descriptor.size),
                         "digest": "\(descriptor.digest)"
                      }
                """)
        }
        // dockerd's schema2 manifest: Go's json.MarshalIndent with three spaces.
        let manifest = Data("""
            {
               "schemaVersion": 2,
               "mediaType": "\(Self.schema2Manifest)",
               "config": {
                  "mediaType": "\(Self.schema2Config)",
                  "size": \(source.config.count),
                  "digest": "\(source.id)"
               },
               "layers": [
            \(layers.joined(separator: ",\n"))
               ]
            }
            """.utf8)
        try client.putManifest(manifest, mediaType: Self.schema2Manifest, tag: reference.tag ?? "latest")
        let hasher = SHA256Hasher()
        manifest.withUnsafeBytes { hasher.update($0) }
        let digest = hasher.finish()
        let tag = reference.tag ?? "latest"
        emit(.line("\(tag): digest: \(digest) size: \(manifest.count)"))
        try images.recordPushedDigest(repository: reference.repository, digest: digest, id: id)
        let quotedTag = String(decoding: (try? JSONEncoder().encode(tag)) ?? Data(), as: UTF8.self)
        emit(PullMessage(progressDetail: PullMessage.Detail(), aux: "{\"Tag\":\(quotedTag),\"Digest\":\"\(digest)\",\"Size\":\(manifest.count)}"))
    }

    /// One layer: already there, mounted, or uploaded. Answers the gzip blob the manifest names.
    private func pushLayer(_ layer: PushLayer, reference: ImageReference, client: RegistryClient, known: RemoteLayers,
                           cancellation: TransferCancellation, emit: @escaping @Sendable (PullMessage) -> Void) throws -> RemoteLayers.Descriptor {
        if let descriptor = known.get(layer.diffID) {
            emit(.layer("Layer already exists", id: layer.shortID))
            return descriptor
        }
        let metadata = images.distribution
        let candidate = layer.isGzip ? layer.blob : metadata.compressedDigest(diffID: layer.diffID)
        var location: String?
        if let candidate {
            if let size = try client.blobSize(candidate) {
                emit(.layer("Layer already exists", id: layer.shortID))
                metadata.record(diffID: layer.diffID, digest: candidate, repository: reference.repository)
                return .init(digest: candidate, size: size)
            }
            // Another repository of this registry known to hold the blob: mount it from there.
            let prefix = reference.domain + "/"
            if let from = metadata.repositories(holding: candidate).first(where: { $0.hasPrefix(prefix) && $0 != reference.repository }) {
                let fromPath = String(from.dropFirst(prefix.count))
                switch try client.startUpload(mount: candidate, from: fromPath) {
                case .mounted:
                    emit(.layer("Mounted from \(fromPath)", id: layer.shortID))
                    metadata.record(diffID: layer.diffID, digest: candidate, repository: reference.repository)
                    let size = layer.isGzip ? layer.size : (try client.blobSize(candidate) ?? 0)
                    return .init(digest: candidate, size: size)
                case .location(let url):
                    location = url
                }
            }
        }
        var path: String
        var digest = layer.blob
        var size = layer.size
        var temporary = false
        if layer.isGzip {
            guard let blobPath = images.blobPath(layer.blob) else { throw BerthError.internalError("layer \(layer.blob) is missing") }
            path = blobPath
        } else {
            (path, digest, size) = try images.gzipLayer(layer.blob)
            temporary = true
        }
        defer { if temporary { unlink(path) } }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BerthError.internalError("open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        if location == nil {
            guard case .location(let url) = try client.startUpload() else { throw BerthError.internalError("the registry mounted a blob not asked for") }
            location = url
        }
        var sent: Int64 = 0
        var lastReport = timespec()
        let total = size
        try client.upload(to: location!, fd: fd, length: size, digest: digest) { count in
            try cancellation.check()
            sent += Int64(count)
            // A bar at most every 100 ms, as dockerd's progress reader paces them.
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let elapsed = (now.tv_sec - lastReport.tv_sec) * 1000 + (now.tv_nsec - lastReport.tv_nsec) / 1_000_000
            if elapsed >= 100 || sent == total {
                emit(.progress("Pushing", id: layer.shortID, current: sent, total: total))
                lastReport = now
            }
        }
        emit(.layer("Pushed", id: layer.shortID))
        metadata.record(diffID: layer.diffID, digest: digest, repository: reference.repository)
        return .init(digest: digest, size: size)
    }
}

/// The layers a push knows the registry holds (by diff ID), shared by its tags and threads.
final class RemoteLayers: @unchecked Sendable {
    struct Descriptor {
        var digest: String
        var size: Int64
    }
    private let lock = Lock()
    private var layers: [String: Descriptor] = [:]

    func get(_ diffID: String) -> Descriptor? { lock.withLock { layers[diffID] } }
    func set(_ diffID: String, _ descriptor: Descriptor) { lock.withLock { layers[diffID] = descriptor } }
}
