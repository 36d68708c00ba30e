import BerthOCI
import BerthRuntime
import Dispatch

/// What the daemon's start learns of one running container before it acts: the shim's answer
/// to "state" (nil: the shim could not be asked) and, when it runs, whether its cgroup is frozen.
struct RecoveryProbe: Sendable {
    var state: String?
    var frozen: Bool
}

extension ContainerService {
    /// How many containers are probed at once.
    static let recoveryProbeWidth = 32

    /// Probes the containers `ids`, many at once. One after the other, a restart with hundreds
    /// of live containers waited a shim round trip and a runtime record read per container
    /// before it listened; the answers are acted on in order afterwards (a container that
    /// exits meanwhile is still seen by its monitor's wait).
    func probeForRecovery(_ ids: [String]) async -> [String: RecoveryProbe] {
        let paths = self.paths
        return await withTaskGroup(of: (String, RecoveryProbe).self) { group in
            var pending = ids.makeIterator()
            func startNext() {
                guard let id = pending.next() else { return }
                group.addTask { (id, await Self.probe(id, paths: paths)) }
            }
            for _ in 0..<Self.recoveryProbeWidth { startNext() }
            var probes: [String: RecoveryProbe] = [:]
            while let (id, probe) = await group.next() {
                probes[id] = probe
                startNext()
            }
            return probes
        }
    }

    private static func probe(_ id: String, paths: ContainerPaths) async -> RecoveryProbe {
        guard let state = try? await ShimClient(socketPath: paths.shimSocket(id)).call("state") else {
            return RecoveryProbe(state: nil, frozen: false)
        }
        guard state.hasPrefix("running") else { return RecoveryProbe(state: state, frozen: false) }
        let runtimeRoot = paths.runtimeRoot
        let frozen = await BlockingWork.run { isFrozen(id, runtimeRoot: runtimeRoot) }
        return RecoveryProbe(state: state, frozen: frozen)
    }

    /// Whether the container's cgroup is frozen (a pause); false when that cannot be read.
    static func isFrozen(_ id: String, runtimeRoot: String) -> Bool {
        guard let cgroupPaths = try? ContainerStore(root: runtimeRoot).loadCgroupPaths(id),
              let cgroup = try? openCgroupManager(paths: cgroupPaths) else { return false }
        return cgroup.isFrozen()
    }
}
