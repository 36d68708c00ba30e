import BerthOCI
import BerthRuntime
import FoundationEssentials
import Glibc

/// What berthd does with containers when it starts and stops: containers outlive the daemon
/// through their shims, so at start it reconnects to every live shim, records the exits that
/// happened meanwhile, and cleans what dead ones left.
extension ContainerService {
    /// `liveRestore` off: containers found running are stopped first, as dockerd does when it
    /// starts after a crash, and then started again only as their restart policy says.
    public func recover(liveRestore: Bool = true) async {
        let probes = await probeForRecovery(entries.keys.sorted().filter {
            entries[$0]!.record.State.Running && entries[$0]!.record.State.Status != "removing"
        })
        var toStop: [String] = []
        for id in entries.keys.sorted() {
            guard let entry = entries[id] else { continue }
            if entry.record.State.Status == "removing" {
                try? await removeStopped(id)
                continue
            }
            guard entry.record.State.Running else { continue }
            let socket = paths.shimSocket(id)
            do {
                guard let reply = probes[id]?.state else { throw ShimUnreachable() }
                let fields = reply.split(separator: " ")
                switch fields.first {
                case "running" where !liveRestore:
                    monitor(id, socket: socket)
                    logger.info("container \(id): live-restore is off; stopping it")
                    entries[id]!.exitOnNext = true
                    toStop.append(id)
                case "running":
                    monitor(id, socket: socket)
                    // The probes go on where they were; a container from before has its health begin.
                    if entries[id]!.record.State.Health == nil {
                        entries[id]!.record.State.Health = ContainerHealth.forNewRun(previous: nil, config: entry.record.Config)
                    }
                    if !reconcilePause(id, frozen: probes[id]?.frozen ?? false) { startHealthMonitor(id) }
                case "exited" where fields.count == 3:
                    let exit = ShimExit.parse("exit \(fields[1]) \(fields[2])") ?? ShimExit(status: 255, finished: timestamp())
                    await handleExit(id, status: exit.status, finished: exit.finished, announce: false)
                default:
                    // Created but never started: berthd died between create and start.
                    monitor(id, socket: socket)
                    _ = try? await ShimClient(socketPath: socket).call("kill 9")
                }
            } catch {
                if let exit = ShimExit.read(directory: paths.shimDirectory(id)) {
                    await handleExit(id, status: exit.status, finished: exit.finished, announce: false)
                } else {
                    // The shim died without a word: whatever is left of the container is killed.
                    logger.warning("container \(id): its shim is gone; marking it exited")
                    entries[id]!.record.State.Error = "the container's shim exited unexpectedly"
                    await handleExit(id, status: Self.deadShimStatus, finished: timestamp(), announce: false)
                }
            }
        }
        await stopAll(toStop)
        await cleanLeftovers()
        reconcileVolumeMounts()
        for id in entries.keys.sorted() {
            guard let entry = entries[id], !entry.record.State.Running else { continue }
            let policy = entry.hostConfig.RestartPolicy?.Name ?? ""
            // As dockerd's restart policies decide at its start: `always` even after a user's
            // stop (Docker's documented exception), `unless-stopped` unless the user stopped it,
            // `on-failure` after a non-zero exit (a stop's 137 too) while retries are left.
            let retries = entry.hostConfig.RestartPolicy?.MaximumRetryCount ?? 0
            let failed = policy == "on-failure" && entry.record.State.ExitCode != 0
                && (retries == 0 || entry.record.RestartCount < retries)
            let wanted = entry.record.State.Restarting || (entry.record.HasBeenStartedBefore
                && (policy == "always" || (policy == "unless-stopped" && !entry.record.HasBeenManuallyStopped) || failed))
            guard wanted else {
                // As dockerd at its start: an --rm container that is not running goes, with its
                // anonymous volumes (a run cut short between create and start, or one whose
                // removal a crash interrupted).
                if entry.hostConfig.AutoRemove == true { try? await removeStopped(id, removeVolumes: true) }
                continue
            }
            entries[id]!.record.State.Restarting = false
            // A fresh start of the policy: its count and back-off begin again, as dockerd's.
            resetRestartPolicy(id)
            do {
                try await startProcess(id)
            } catch {
                logger.error("container \(id): cannot start it again: \(error)")
            }
        }
    }

    /// A crash between a freeze (or a thaw) and its record leaves the two apart, and a stop
    /// would then signal a frozen process and wait in vain: the cgroup says whether the
    /// container is paused. Answers whether it is.
    private func reconcilePause(_ id: String, frozen: Bool) -> Bool {
        guard let state = entries[id]?.record.State, state.Paused != frozen else { return frozen }
        logger.warning("container \(id): its cgroup is \(frozen ? "frozen" : "thawed"); recording it as \(frozen ? "paused" : "running")")
        entries[id]!.record.State.Paused = frozen
        entries[id]!.record.State.Status = frozen ? "paused" : "running"
        persist(id)
        return frozen
    }

    /// What a container whose shim died shows: killed, as containerd reports a task whose
    /// shim is gone (128 + SIGKILL).
    static let deadShimStatus: Int32 = 137

    /// A running container's shim that did not answer the start's probe.
    private struct ShimUnreachable: Error {}

    /// Shim directories, runtime records and root mounts of containers that are not running.
    private func cleanLeftovers() async {
        let running = Set(entries.values.filter(\.record.State.Running).map(\.record.ID))
        let known = Set(entries.keys)
        let settings = self.settings
        let cgroupsPaths = entries.mapValues { StartPlan.cgroupsPath($0.record.ID, hostConfig: $0.hostConfig, settings: settings) }
        let paths = self.paths
        let images = self.images
        let logger = self.logger
        _ = try? await blocking {
            let shimRoot = paths.execRoot + "/containers"
            for id in (try? FileManager.default.contentsOfDirectory(atPath: shimRoot)) ?? [] where !running.contains(id) {
                if !known.contains(id) { logger.warning("removing the leftovers of unknown container \(id)") }
                try? FileManager.default.removeItem(atPath: shimRoot + "/" + id)
            }
            // Every directory, not only the recorded containers: a runtime killed mid-create
            // leaves one without its state, and a cgroup found only by its path.
            for id in (try? FileManager.default.contentsOfDirectory(atPath: paths.runtimeRoot)) ?? []
            where !running.contains(id) && ContainerIdentity.isFullID(id) {
                ContainerRoot.deleteRuntimeLeftovers(id, cgroupsPath: cgroupsPaths[id] ?? StartPlan.cgroupsPath(id, hostConfig: nil, settings: settings),
                                                     runtimeRoot: paths.runtimeRoot)
            }
            for id in known where !running.contains(id) {
                ContainerRoot.unmount(id, snapshotter: images.snapshotter)
            }
        }
    }

    /// With live-restore off, berthd stops its containers before it exits, as dockerd does.
    public func stopAllForShutdown() async {
        shuttingDown = true
        await stopAll(entries.keys.filter { entries[$0]!.record.State.Running })
    }

    /// Stops the containers together, each with its own stop timeout.
    private func stopAll(_ ids: [String]) async {
        await withTaskGroup(of: Void.self) { group in
            for id in ids {
                group.addTask {
                    _ = try? await self.stopKeepingPolicy(id)
                }
            }
        }
    }

    /// A stop for daemon shutdown: not a user's stop, so restart policies apply at the next start.
    private func stopKeepingPolicy(_ id: String) async throws {
        _ = try await stop(id, timeout: nil, signal: nil, manual: false)
        persist(id)
    }
}
