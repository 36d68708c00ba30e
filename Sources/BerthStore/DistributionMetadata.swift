import BerthOCI
import FoundationEssentials

/// What is known of layers on registries (dockerd's v2 metadata by diff ID): the gzip blob a
/// layer was pushed or pulled as, and the repositories known to hold each such blob. A push
/// asks first whether that blob is there already, or mounts it from another repository of
/// the same registry, so a second push uploads nothing. Kept in a small file read when a
/// push or pull needs it; an idle daemon holds none of it.
public final class DistributionMetadata: @unchecked Sendable {
    struct State: Codable {
        /// diff ID → the gzip blob's digest.
        var compressed: [String: String] = [:]
        /// gzip blob digest → repositories ("registry/path") that hold it, the newest last.
        var repositories: [String: [String]] = [:]
    }

    private let path: String
    private let lock = Lock()

    init(path: String) { self.path = path }

    private func load() -> State {
        guard let data = FileManager.default.contents(atPath: path), let state = try? JSONDecoder().decode(State.self, from: data) else {
            return State()
        }
        return state
    }

    /// The gzip blob a layer was last pushed or pulled as.
    public func compressedDigest(diffID: String) -> String? {
        lock.withLock { load().compressed[diffID] }
    }

    /// The repositories known to hold a blob, the newest first.
    public func repositories(holding digest: String) -> [String] {
        lock.withLock { (load().repositories[digest] ?? []).reversed() }
    }

    /// Records that `repository` holds `digest`, the gzip form of the layer `diffID`.
    public func record(diffID: String, digest: String, repository: String) {
        lock.withLock {
            var state = load()
            state.compressed[diffID] = digest
            var holders = state.repositories[digest] ?? []
            holders.removeAll { $0 == repository }
            holders.append(repository)
            // A few holders are enough to mount from.
            state.repositories[digest] = Array(holders.suffix(8))
            try? AtomicFile.write(try JSONEncoder().encode(state), to: path)
        }
    }
}
