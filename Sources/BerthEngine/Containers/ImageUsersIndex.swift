import BerthOCI
import BerthStore

/// Container IDs by image, for the image store's conflict checks (which run under its own
/// lock, not on the container actor). Kept up to date one container at a time: rebuilding it
/// from every record at each state change cost a pass over all containers per start, stop
/// and health result.
final class ImageUsersIndex: @unchecked Sendable {
    /// What the index knows of one container.
    struct Use: Equatable {
        var images: Set<String>
        var running: Bool
    }

    private let lock = Lock()
    private var byContainer: [String: Use] = [:]
    /// Image ID → the IDs of the containers using it, and whether each is running.
    private var byImage: [String: [String: Bool]] = [:]

    /// The images a container holds (its own and those it mounts), and whether it counts as running.
    static func use(of record: ContainerRecord) -> Use {
        Use(images: Set([record.Image] + (record.ImageMounts ?? []).map(\.ImageID)),
            running: record.State.Running || record.State.Restarting)
    }

    /// Records (or refreshes) one container.
    func set(_ record: ContainerRecord) { set(record.ID, Self.use(of: record)) }

    func set(_ id: String, _ use: Use) {
        lock.withLock {
            guard byContainer[id] != use else { return }
            forget(id)
            byContainer[id] = use
            for image in use.images { byImage[image, default: [:]][id] = use.running }
        }
    }

    /// A removed container.
    func remove(_ id: String) {
        lock.withLock { forget(id) }
    }

    /// Called with the lock held.
    private func forget(_ id: String) {
        guard let old = byContainer.removeValue(forKey: id) else { return }
        for image in old.images {
            byImage[image]?[id] = nil
            if byImage[image]?.isEmpty == true { byImage[image] = nil }
        }
    }

    /// The containers using `image`, running and stopped, each list in ID order.
    func users(of image: String) -> ImageUsers {
        let containers = lock.withLock { byImage[image] ?? [:] }
        var users = ImageUsers()
        for (id, running) in containers.sorted(by: { $0.key < $1.key }) {
            if running { users.running.append(id) } else { users.stopped.append(id) }
        }
        return users
    }
}
