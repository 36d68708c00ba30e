import BerthOCI

/// Image configs and top layers by image ID, for container create and start. An image ID is
/// the digest of its config, so an entry never goes stale; a few dozen images are kept.
final class ContainerBaseCache: @unchecked Sendable {
    struct Base {
        var config: ImageConfig
        var topLayer: String?
    }

    private let lock = Lock()
    private var bases: [String: Base] = [:]
    private let capacity = 32

    func get(_ imageID: String, decode: () throws -> ImageConfig) throws -> Base {
        if let base = lock.withLock({ bases[imageID] }) { return base }
        let config = try decode()
        let base = Base(config: config, topLayer: Snapshotter.chainIDs(config.rootfs.diff_ids).last)
        lock.withLock {
            if bases.count >= capacity { bases.removeAll(keepingCapacity: true) }
            bases[imageID] = base
        }
        return base
    }

    func forget(_ imageID: String) {
        lock.withLock { bases[imageID] = nil }
    }
}
