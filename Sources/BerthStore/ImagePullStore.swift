import BerthOCI
import FoundationEssentials
import Glibc

/// What a registry pull needs of the image store: blobs written as they arrive (their digest
/// checked before they are kept), and the pulled image recorded with its tag and the
/// repository digest that `docker images --digests` shows.
extension ImageStore {
    /// Whether a blob (a config, or a layer as the registry serves it) is stored already.
    public func hasBlob(_ digest: String) -> Bool {
        content.exists(digest)
    }

    /// Whether an image with this ID (its config's digest) is here.
    public func hasImage(_ id: String) -> Bool {
        lock.withLock { state.images[id] != nil }
    }

    /// Whether some image already has this layer blob unpacked, under the same chain.
    public func hasLayer(blob: String, chainID: String) -> Bool {
        content.exists(blob) && snapshotter.hasLayer(chainID)
    }

    /// Stores a blob from what `produce` yields; a blob whose sha256 is not `digest` is
    /// refused ("digest mismatch") and nothing is kept.
    public func writeBlob(_ digest: String, _ produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        _ = try content.write(expected: digest, produce)
    }

    /// The bytes of a stored blob (a pulled config).
    public func readBlob(_ digest: String) throws -> Data {
        try content.read(digest)
    }

    /// Unpacks the pulled layers not unpacked yet (checking each against its diff ID), reports
    /// before and after each (one already unpacked under another blob is told too), then records the image: `reference` (a tag, or a digest reference)
    /// and `repoDigest` ("repository@sha256:…") name it. Answers whether the reference is new
    /// or moved (dockerd's "Downloaded newer image" rather than "Image is up to date").
    public func commitPull(configDigest: String, layers: [String], reference: ImageReference, repoDigest: String,
                           progress: (_ layer: Int, _ done: Bool) -> Void) throws -> Bool {
        try creatingImage {
            let config = try decodeConfig(configDigest)
            guard config.rootfs.diff_ids.count == layers.count else {
                throw BerthError.invalidArgument("invalid image: \(layers.count) layers for \(config.rootfs.diff_ids.count) diff IDs")
            }
            let chain = Snapshotter.chainIDs(config.rootfs.diff_ids)
            for (index, (chainID, blob)) in zip(chain, layers).enumerated() {
                if snapshotter.hasLayer(chainID) {
                    progress(index, false)
                    progress(index, true)
                    continue
                }
                try verifyLayer(blob, diffID: config.rootfs.diff_ids[index])
                guard let path = content.path(blob) else { continue }
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw BerthError.internalError("open layer \(blob): \(String(cString: strerror(errno)))") }
                defer { close(fd) }
                progress(index, false)
                try snapshotter.addLayer(chainID, parent: index > 0 ? chain[index - 1] : nil, layerFD: fd)
                progress(index, true)
            }
            return try lock.withLock {
                if state.images[configDigest] == nil { state.images[configDigest] = Record(id: configDigest, layers: layers) }
                var changed: Bool
                if let digest = reference.digest {
                    changed = state.digests?[reference.repository + "@" + digest] != configDigest
                } else {
                    let key = reference.repository + ":" + (reference.tag ?? "latest")
                    changed = state.references[key] != configDigest
                    state.references[key] = configDigest
                }
                if state.digests == nil { state.digests = [:] }
                state.digests?[repoDigest] = configDigest
                try persist()
                return changed
            }
        }
    }

    /// Keeps a pull's blobs from being swept while it runs.
    public func pinBlobs(_ digests: [String]) {
        lock.withLock { for digest in digests { pinnedBlobs[digest, default: 0] += 1 } }
    }

    /// Ends a pull's hold on its blobs; after a failed pull, those no image uses are removed.
    public func unpinBlobs(_ digests: [String], removingUnused: Bool) {
        lock.withLock {
            for digest in digests {
                let count = (pinnedBlobs[digest] ?? 1) - 1
                pinnedBlobs[digest] = count > 0 ? count : nil
            }
            guard removingUnused else { return }
            let used = Set(state.images.values.flatMap { $0.layers + [$0.id] })
            for digest in digests where !used.contains(digest) && pinnedBlobs[digest] == nil { content.remove(digest) }
        }
    }

    /// "repository@sha256:…" names of an image, as the API lists them (familiar form).
    func repoDigests(of id: String) -> [String] {
        (state.digests ?? [:]).filter { $0.value == id }.keys.compactMap { try? ImageReference.parse($0).familiar }.sorted()
    }

    /// Forgets an image's digest names; answers them as untagged.
    func untagDigestsLocked(of id: String) -> [DeleteResponseItem] {
        let names = (state.digests ?? [:]).filter { $0.value == id }.keys.sorted()
        for name in names { state.digests?[name] = nil }
        return names.map { .init(Untagged: (try? ImageReference.parse($0).familiar) ?? $0) }
    }
}
