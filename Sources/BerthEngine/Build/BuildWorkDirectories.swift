import BerthOCI
import FoundationEssentials

/// The builds' private directories in the data root (`build-<uuid>`): those of running builds
/// are known; any other one is what a build cut short by a crash left, removed at the next build.
final class BuildWorkDirectories: @unchecked Sendable {
    static let shared = BuildWorkDirectories()
    private let lock = Lock()
    private var active = Set<String>()

    /// A new directory name for a build, after removing the leftovers of earlier runs.
    func begin(dataRoot: String) -> String {
        let path = dataRoot + "/build-" + UUID().uuidString
        let running = lock.withLock {
            active.insert(path)
            return active
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dataRoot)) ?? [] where name.hasPrefix("build-") {
            let candidate = dataRoot + "/" + name
            if !running.contains(candidate) { BuildContext.removeTree(candidate) }
        }
        return path
    }

    func end(_ path: String) {
        _ = lock.withLock { active.remove(path) }
    }
}
