import BerthOCI
import BerthStore
import FoundationEssentials
import Glibc

/// `docker pull` (POST /images/create?fromImage=…): the manifest (a list resolved to the
/// platform), the config and the layers not here yet fetched and their digests checked, the
/// layers unpacked, the image tagged and its repository digest recorded; each step told as
/// dockerd's progress messages. Errors before "Pulling from" are thrown (an HTTP error, as
/// dockerd answers them); later ones are thrown too and the caller writes them in the stream.
extension Engine {
    /// The pull's reference from the API's `fromImage` and `tag` (a tag or a digest), as dockerd
    /// reads them. An empty tag on a name without one asks for every tag.
    public static func pullReference(fromImage: String, tag: String?) throws -> (reference: ImageReference, allTags: Bool) {
        var reference = try ImageReference.parse(fromImage, defaultTag: false)
        if let tag, !tag.isEmpty {
            if tag.hasPrefix("sha256:") {
                reference = try ImageReference.parse(reference.repository + "@" + tag, defaultTag: false)
            } else {
                reference = try ImageReference.parse(reference.repository + ":" + tag, defaultTag: false)
            }
        }
        return (reference, reference.tag == nil && reference.digest == nil)
    }

    /// At the first message the pull has begun ("Pulling from"); errors after it belong in the stream.
    public func pullImage(_ reference: ImageReference, platform: String?, registryAuth: String?,
                          cancellation: TransferCancellation = TransferCancellation(),
                          emit: @escaping @Sendable (PullMessage) -> Void) throws {
        guard let wanted = PlatformMatch.parse(platform, hostArchitecture: SystemInfo.goArchitecture) else {
            throw BerthError.invalidArgument("\"\(platform ?? "")\": unknown operating system or architecture: invalid argument")
        }
        let client = RegistryClient(reference: reference, credentials: RegistryCredentials.decode(registryAuth),
                                    insecureRegistries: settings.insecureRegistries)
        try client.ping()
        if reference.tag != nil || reference.digest != nil {
            let changed = try pullOne(reference, client: client, platform: wanted, cancellation: cancellation, emit: emit)
            emit(.line((changed ? "Status: Downloaded newer image for " : "Status: Image is up to date for ") + reference.familiar))
            emitImage("pull", id: reference.familiar, name: reference.familiarRepository)
            return
        }
        // --all-tags: every tag the registry lists, one after another, then one status line
        // and one event for the repository.
        var changed = false
        for tag in try client.tags() {
            var tagged = reference
            tagged.tag = tag
            if try pullOne(tagged, client: client, platform: wanted, cancellation: cancellation, emit: emit) { changed = true }
        }
        emit(.line((changed ? "Status: Downloaded newer image for " : "Status: Image is up to date for ") + reference.familiar))
        emitImage("pull", id: reference.familiar, name: reference.familiarRepository)
    }

    /// One tag or digest: answers whether its reference is new or moved.
    private func pullOne(_ reference: ImageReference, client: RegistryClient, platform wanted: PlatformMatch,
                         cancellation: TransferCancellation, emit: @escaping @Sendable (PullMessage) -> Void) throws -> Bool {
        let tagOrDigest = reference.digest ?? reference.tag ?? "latest"
        var (data, mediaType, digest) = try client.manifest(tagOrDigest)
        let pulledDigest = digest
        emit(.header("Pulling from " + reference.path, id: reference.digest != nil ? reference.familiar : tagOrDigest))
        var manifest = try RegistryManifest.decode(data, mediaType: mediaType)
        if let entries = manifest.entries {
            guard let entry = entries.first(where: { wanted.matches(os: $0.platform?.os, architecture: $0.platform?.architecture, variant: $0.platform?.variant) }) else {
                throw BerthError.notFound("no matching manifest for \(wanted.description) in the manifest list entries")
            }
            (data, mediaType, digest) = try client.manifest(entry.digest)
            manifest = try RegistryManifest.decode(data, mediaType: entry.mediaType ?? mediaType)
        }
        guard let config = manifest.config, let layers = manifest.layers, manifest.entries == nil else {
            throw BerthError.invalidArgument("unsupported manifest format: \(mediaType)")
        }
        let repoDigest = reference.repository + "@" + pulledDigest
        let blobs = [config.digest] + layers.map(\.digest)
        images.pinBlobs(blobs)
        var pulled = false
        defer { images.unpinBlobs(blobs, removingUnused: !pulled) }
        var fetched: Set<Int> = []
        if !images.hasImage(config.digest) {
            fetched = try fetchImage(client: client, config: config, layers: layers, cancellation: cancellation, emit: emit)
        }
        let changed = try images.commitPull(configDigest: config.digest, layers: layers.map(\.digest),
                                            reference: reference, repoDigest: repoDigest) { index, done in
            let layer = layers[index]
            guard fetched.contains(index) else { return }
            if done {
                emit(.layer("Pull complete", id: layer.shortID))
            } else {
                emit(.progress("Extracting", id: layer.shortID, current: layer.size, total: layer.size))
            }
        }
        pulled = true
        images.recordPulledLayers(configDigest: config.digest, layers: layers.map { ($0.digest, $0.mediaType) },
                                  repository: reference.repository)
        emit(.line("Digest: " + pulledDigest))
        return changed
    }

    /// The config and the layers whose blobs are not here, each checked against its digest.
    /// Answers the indexes of the layers fetched (to be told extracted).
    private func fetchImage(client: RegistryClient, config: RegistryManifest.Descriptor, layers: [RegistryManifest.Descriptor],
                            cancellation: TransferCancellation, emit: @escaping @Sendable (PullMessage) -> Void) throws -> Set<Int> {
        var missing: [RegistryManifest.Descriptor] = []
        for layer in layers {
            if images.hasBlob(layer.digest) {
                emit(.layer("Already exists", id: layer.shortID))
            } else if !missing.contains(where: { $0.digest == layer.digest }) {
                emit(.layer("Pulling fs layer", id: layer.shortID))
                missing.append(layer)
            }
        }
        // dockerd fetches three layers at once (max-concurrent-downloads) and shows the others waiting.
        let limit = settings.maxConcurrentDownloads
        for layer in missing.dropFirst(limit) { emit(.layer("Waiting", id: layer.shortID)) }
        if !images.hasBlob(config.digest) {
            do {
                try images.writeBlob(config.digest) { sink in try client.blob(config.digest, sink: sink) }
            } catch let error as BerthError where error.message.hasPrefix("digest mismatch") {
                throw BerthError.invalidArgument("image config verification failed for digest \(config.digest)")
            }
        }
        try ParallelTransfers.run(missing.count, limit: limit) { index in
            let layer = missing[index]
            try cancellation.check()
            var received: Int64 = 0
            var reported: Int64 = 0
            var lastReport = timespec()
            clock_gettime(CLOCK_MONOTONIC, &lastReport)
            do {
                try self.images.writeBlob(layer.digest) { sink in
                    try client.blob(layer.digest) { chunk in
                        try cancellation.check()
                        try sink(chunk)
                        received += Int64(chunk.count)
                        // A bar at most every 100 ms, as dockerd's progress reader paces them.
                        var now = timespec()
                        clock_gettime(CLOCK_MONOTONIC, &now)
                        let elapsed = (now.tv_sec - lastReport.tv_sec) * 1000 + (now.tv_nsec - lastReport.tv_nsec) / 1_000_000
                        if reported == 0 || elapsed >= 100 || received == layer.size {
                            emit(.progress("Downloading", id: layer.shortID, current: received, total: max(layer.size, received)))
                            reported = received
                            lastReport = now
                        }
                    }
                }
            } catch let error as BerthError where error.message.hasPrefix("digest mismatch") {
                throw BerthError.invalidArgument("filesystem layer verification failed for digest \(layer.digest)")
            }
            emit(.layer("Verifying Checksum", id: layer.shortID))
            emit(.layer("Download complete", id: layer.shortID))
        }
        return Set(layers.indices.filter { index in missing.contains { $0.digest == layers[index].digest } })
    }
}
