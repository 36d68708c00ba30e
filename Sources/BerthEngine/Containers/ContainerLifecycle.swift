import BerthOCI
import BerthRuntime
import FoundationEssentials
import Dispatch
import Glibc

/// When the phases of a start ended, for the debug log.
final class PhaseTimes: @unchecked Sendable {
    var prepared = ContinuousClock.now
    var created = ContinuousClock.now
}

/// What an attachment made before start gets when the container starts: the shim to talk
/// to, and the signal that it is connected (start waits for it, so no output is lost).
struct PendingAttachGo: Sendable {
    let socketPath: String
    let connected: AsyncStream<Void>.Continuation
}

/// The attachments waiting for a start, let go to the shim as soon as it listens: they
/// connect while the runtime creates the container, not after it.
final class AttachmentsToConnect: @unchecked Sendable {
    private let waiting: [CheckedContinuation<PendingAttachGo?, Never>]
    private let socketPath: String
    /// One per attachment: finished once it is connected, or has given up.
    let connected: [AsyncStream<Void>]
    private let signals: [AsyncStream<Void>.Continuation]
    /// Set on the launching thread, read after the launch's answer came back.
    private(set) var released = false

    init(_ waiting: [CheckedContinuation<PendingAttachGo?, Never>], socketPath: String) {
        self.waiting = waiting
        self.socketPath = socketPath
        let streams = waiting.map { _ in AsyncStream<Void>.makeStream() }
        connected = streams.map(\.stream)
        signals = streams.map(\.continuation)
    }

    /// The shim listens: each attachment connects now.
    func release() {
        guard !released else { return }
        released = true
        for (waiter, signal) in zip(waiting, signals) {
            waiter.resume(returning: PendingAttachGo(socketPath: socketPath, connected: signal))
        }
    }

    /// The start failed before the shim listened: the attachments end without output.
    func dismissUnreleased() {
        guard !released else { return }
        released = true
        for waiter in waiting { waiter.resume(returning: nil) }
    }

    /// Until every attachment is connected, or 5 s have passed.
    static func awaitConnected(_ streams: [AsyncStream<Void>]) async {
        await withTaskGroup(of: Void.self) { group in
            for connected in streams {
                group.addTask {
                    await withTaskGroup(of: Void.self) { race in
                        race.addTask { for await _ in connected { break } }
                        race.addTask { try? await Task.sleep(for: .seconds(5)) }
                        await race.next()
                        race.cancelAll()
                    }
                }
            }
        }
    }
}

extension ContainerService {
    // MARK: - start

    public enum StartResult: Sendable { case started, alreadyRunning }

    public func start(_ nameOrID: String) async throws -> StartResult {
        let id = try resolve(nameOrID)
        // A second start waits for the first, then finds it running, as dockerd's waits behind
        // the container's lock.
        let state = try await stateAfterStartInProgress(id, nameOrID)
        // Paused is checked first: a paused container is running too.
        if state.Paused { throw BerthError.conflict("cannot start a paused container, try unpause instead") }
        // dockerd counts a container in its restart back-off as running: the loop goes on.
        if state.Running || state.Restarting { return .alreadyRunning }
        if entries[id]!.busy { throw BerthError.conflict("container \(id) is busy: another operation is in progress") }
        resetRestartPolicy(id)
        try await startProcess(id)
        return .started
    }

    /// The user's start or restart begins the policy afresh, as dockerd's new restart manager:
    /// no count, no back-off, no stop pending.
    func resetRestartPolicy(_ id: String) {
        entries[id]!.record.HasBeenManuallyStopped = false
        entries[id]!.record.RestartCount = 0
        entries[id]!.restartDelay = 0
        entries[id]!.exitOnNext = false
    }

    /// Mounts the root, writes the bundle, launches the shim, connects the waiting
    /// attachments, and lets the process run.
    func startProcess(_ id: String) async throws {
        entries[id]!.busy = true
        defer { entries[id]?.busy = false }
        await entries[id]?.cleanup?.value
        adoptNetworkPeerFiles(id)
        // Removed while the last exit's cleanup finished (a `docker rm -f` during a restart).
        guard let entry = entries[id] else { throw BerthError.notFound("No such container: \(id)") }
        var plan = try StartPlan(record: entry.record, hostConfig: entry.hostConfig, paths: paths, settings: settings,
                                 peerPid: Self.peerPid(in: namespacePeers(of: entry.hostConfig)))
        plan.volumes = volumes
        let images = self.images
        // The root is mounted while the network is made: neither needs the other. A network
        // failure is still the one reported, as when they came one after the other.
        let rootPlan = plan
        let mounting = Task.detached { try await self.blocking { try rootPlan.mountRoot(images: images) } }
        // network: the namespace, interfaces and ports, made before the runtime joins them.
        let clock = ContinuousClock()
        let networkBegan = clock.now
        do {
            plan.ipcShm = try ipcShm(entry.hostConfig)
            try checkLegacyLinks(id)
            plan.sandbox = try await prepareNetwork(id)
            if !(entry.hostConfig.Links ?? []).isEmpty { plan.links = await linkFiles(id) }
            await refreshLinkingHosts(of: id)
        } catch {
            if (try? await mounting.value) != nil {
                _ = try? await blocking { ContainerRoot.unmount(id, snapshotter: images.snapshotter) }
            }
            let message = (error as? BerthError)?.message ?? "\(error)"
            await recordStartFailure(id, message: message)
            throw error
        }
        let launcher = self.launcher
        let prepared = plan
        let pid: Int32
        let execTemplate: ExecTemplate
        let startedAt: String
        let saved: (record: ContainerRecord, json: Data)?
        // The record of this run is encoded on the launch's thread once the runtime's create is
        // done (a thread of its own would cost a switch there and back, up to a millisecond on
        // busy cores), and queued for the disk before the process goes, so that its fsync
        // overlaps the start. After a crash before it is on disk, the shim answers "created",
        // and recovery kills the container and records it as exited.
        let snapshot = entries[id]!.record
        let networkDisabled = plan.sandbox?.networkDisabled == true  // network
        let logger = self.logger
        let began = clock.now
        let timings = PhaseTimes()
        let socket = paths.shimSocket(id)
        // Attachments made before start (`docker run`) connect while the runtime creates.
        let early = AttachmentsToConnect(Array(entries[id]!.pendingAttaches.values), socketPath: socket)
        entries[id]!.pendingAttaches = [:]
        do {
            let rootfs = try await mounting.value
            (pid, execTemplate, startedAt, saved) = try await blocking {
                let shimOptions: ShimLauncher.Options
                do {
                    shimOptions = try prepared.shimOptions()
                } catch {
                    ContainerRoot.unmount(prepared.record.ID, snapshotter: images.snapshotter)
                    throw error
                }
                let execTemplate = try prepared.writeBundle(rootfs: rootfs, images: images)
                timings.prepared = clock.now
                do {
                    let pid = try launcher.launch(shimOptions, whenListening: early.release)
                    timings.created = clock.now
                    let startedAt = timestamp()
                    let record = Self.running(snapshot, pid: pid, startedAt: startedAt, networkDisabled: networkDisabled)
                    return (pid, execTemplate, startedAt, Self.encodedForDisk(record, logger: logger).map { (record, $0) })
                } catch {
                    prepared.undo(images: images)
                    throw error
                }
            }
        } catch {
            // Released ones meet a shim that has gone and end without output.
            early.dismissUnreleased()
            network?.refillReserve()
            await releaseNetwork(id)  // network
            // The runtime's errors come wrapped as dockerd wraps runc's; ours (user, working
            // directory, devices) in our own words.
            let message = error is ShimRefused ? Self.startFailure(error) : ((error as? BerthError)?.message ?? "\(error)")
            await recordStartFailure(id, message: message)
            throw Self.startError(message)
        }
        // The runtime's create is done: the next start's namespace is made from now on.
        let created = clock.now
        network?.refillReserve()
        // Every attachment made before start is connected to the shim before the process
        // runs: those released while the runtime created, and any made since.
        early.release()
        let late = AttachmentsToConnect(Array(entries[id]!.pendingAttaches.values), socketPath: socket)
        entries[id]!.pendingAttaches = [:]
        late.release()
        let connecting = early.connected + late.connected
        if !connecting.isEmpty { await AttachmentsToConnect.awaitConnected(connecting) }
        if let saved { records.write(id, saved.json) }
        let launched = clock.now
        do {
            try await ShimClient(socketPath: socket).quickCall("start")
            logger.debug("start \(id.prefix(12)): network \(began - networkBegan), root (the rest of it) and bundle \(timings.prepared - began), shim and runtime create \(timings.created - timings.prepared), back to the service \(created - timings.created), attachments \(launched - created), start \(clock.now - launched)")
        } catch {
            // The shim and its created container go: the runtime's delete kills the init.
            _ = try? await blocking { prepared.undo(images: images) }
            await releaseNetwork(id)  // network
            await recordStartFailure(id, message: "cannot start container \(id): \(error)")
            throw BerthError.internalError("cannot start container \(id): \(error)")
        }
        // From the record as it is now: a rename, say, may have changed it meanwhile.
        let record = Self.running(entries[id]!.record, pid: pid, startedAt: startedAt, networkDisabled: networkDisabled)
        entries[id]!.record = record
        entries[id]!.startedUptime = DispatchTime.now().uptimeNanoseconds
        entries[id]!.execTemplate = execTemplate
        entries[id]!.cgroupsPath = plan.cgroupsPath
        // Saved as it is unless it changed meanwhile (compared as values: no second encoding).
        if let saved, saved.record == record {
            persisted(id)
        } else {
            persist(id)
        }
        emitVolumeEvents(id, mounted: true)
        emit("start", container: id)
        startHealthMonitor(id)
        // The exit may be reported from here on, without waiting for the record's fsync: the
        // exit's record (or a removal's close) is queued after this run's, and the events of
        // the start are out.
        monitor(id, socket: socket)
        await records.flushed(id)
    }

    /// The record of a run that has started.
    static func running(_ record: ContainerRecord, pid: Int32, startedAt: String, networkDisabled: Bool) -> ContainerRecord {
        var record = record
        let previousHealth = record.State.Health
        // The last run's end stays on record, as dockerd keeps FinishedAt across a start.
        let previousFinish = record.State.FinishedAt
        record.State = ContainerStateRecord()
        record.State.FinishedAt = previousFinish
        record.State.Health = ContainerHealth.forNewRun(previous: previousHealth, config: record.Config)
        record.State.Status = "running"
        record.State.Running = true
        record.State.Pid = pid
        record.State.StartedAt = startedAt
        record.HasBeenStartedBefore = true
        // As dockerd records a start on a default bridge that `"bridge": "none"` took away.
        if networkDisabled { record.Config.NetworkDisabled = true }  // network
        return record
    }

    /// A start that failed: the error and code go into the state (as dockerd records them),
    /// whoever waits is told, and an AutoRemove container goes.
    func recordStartFailure(_ id: String, message: String) async {
        releaseVolumeMounts(id)
        guard var entry = entries[id] else { return }
        entry.record.State.Error = message
        entry.record.State.ExitCode = Self.exitCode(forStartFailure: message)
        entry.record.State.Running = false
        entry.record.State.Pid = 0
        if entry.record.HasBeenStartedBefore {
            entry.record.State.Status = "exited"
            entry.record.State.FinishedAt = timestamp()
        }
        let waiters = entry.exitWaiters
        entry.exitWaiters = ExitWaiters()
        let pending = entry.pendingAttaches
        entry.pendingAttaches = [:]
        entries[id] = entry
        persist(id)
        // The start's own answer carries the error; the wait answer only the code, as dockerd's.
        let result = ExitResult(statusCode: entry.record.State.ExitCode, error: nil)
        waiters.resumeAll(returning: result)
        for attach in pending.values { attach.resume(returning: nil) }
        if entry.hostConfig.AutoRemove == true { try? await removeStopped(id, removeVolumes: true) }
    }

    /// Waits (in the background) for the shim to report the exit.
    func monitor(_ id: String, socket: String) {
        let shimDirectory = paths.shimDirectory(id)
        Task {
            let exit: ShimExit
            do {
                let reply = try await ShimClient(socketPath: socket).call("wait")
                exit = ShimExit.parse(reply) ?? ShimExit(status: 255, finished: timestamp())
            } catch {
                // The shim is gone: it wrote the exit file before it left, or it died.
                exit = ShimExit.read(directory: shimDirectory) ?? ShimExit(status: Self.deadShimStatus, finished: timestamp())
            }
            await self.handleExit(id, status: exit.status, finished: exit.finished, journalEnd: exit.journalEnd)
        }
    }

    /// The process has exited: clean the runtime's container and the root mount, record the
    /// status, wake the waiters, then remove or restart as the container asks.
    /// `journalEnd`: where its journald log writer ended, for the log readers.
    /// `announce`: false for an exit that happened while berthd was down, which dockerd's
    /// restore records without an `oom` or `die` event.
    func handleExit(_ id: String, status: Int32, finished: String, journalEnd: JournalLogEnd? = nil, announce: Bool = true) async {
        guard entries[id]?.record.State.Running == true else { return }
        let clock = ContinuousClock()
        let entered = clock.now
        stopHealthMonitor(id)  // the health turns unhealthy, as dockerd's
        let paths = self.paths
        let images = self.images
        let cgroupsPath = entries[id]?.cgroupsPath
        let oomKilled: Bool
        if let cgroupsPath {
            // A read of the cgroup's OOM count, here: a hop to another thread costs more (up to
            // a millisecond when the cores are busy), and the exit's report waits for it.
            oomKilled = ContainerRoot.oomKilled(id, cgroupsPath: cgroupsPath, runtimeRoot: paths.runtimeRoot)
        } else {
            // Found by recovery: the cgroup's path is in the runtime's record, on disk.
            oomKilled = (try? await blocking {
                ContainerRoot.oomKilled(id, cgroupsPath: nil, runtimeRoot: paths.runtimeRoot)
            }) ?? false
        }
        let oomChecked = clock.now
        // The runtime's record, the cgroup and the root mount go while the exit is reported;
        // the next start or the removal waits for them.
        entries[id]?.cleanup = inBackground {
            await BlockingWork.run {
                ContainerRoot.deleteRuntimeContainer(id, runtimeRoot: paths.runtimeRoot)
                ContainerRoot.unmount(id, snapshotter: images.snapshotter)
            }
        }
        // Whether the restart policy starts it again is decided with the exit, as dockerd does:
        // the container goes from running to restarting at once, so a `docker start` in
        // between (this handling awaits below) cannot start it a second time.
        let restartAfter = entries[id]?.hostConfig.AutoRemove == true ? nil : restartDelay(id, status: status)
        guard var entry = entries[id] else { return }
        entry.record.State.Running = false
        entry.record.State.Paused = false
        entry.record.State.Pid = 0
        entry.record.State.ExitCode = status
        entry.record.State.FinishedAt = finished
        entry.record.State.OOMKilled = oomKilled
        entry.record.State.Status = "exited"
        if restartAfter != nil {
            entry.record.State.Restarting = true
            entry.record.State.Status = "restarting"
        }
        entry.journalEnd = journalEnd
        let waiters = entry.exitWaiters
        let signals = entry.exitSignals
        let logFollowers = entry.logFollowers
        entry.exitWaiters = ExitWaiters()
        entry.exitSignals = []
        entry.logFollowers = ExitWaiters()
        entries[id] = entry
        // A container that is removed next need not be saved as exited: after a crash in
        // between, recovery finds it without its shim and removes it all the same.
        if entry.hostConfig.AutoRemove == true { stateVersion += 1 } else { persist(id) }
        // A kill whose answer is on its way tells of itself first, as the signal came first.
        if killsInFlight[id] != nil {
            await withCheckedContinuation { exitsAfterKills[id, default: []].append($0) }
        }
        logFollowers.resumeAll(returning: ExitResult(statusCode: status, error: nil))
        if announce {
            if oomKilled { emit("oom", container: id) }
            emit("die", container: id, ["exitCode": String(status)])
        }
        // dockerd's order after `die`: the networks' disconnect, then the volumes' unmount.
        emitNetwork("disconnect", container: id, networks: attachedNetworks(id))
        releaseVolumeMounts(id)
        emitVolumeEvents(id, mounted: false)
        waiters.resumeAll(returning: ExitResult(statusCode: status, error: nil))
        for signal in signals {
            signal.yield(true)
            signal.finish()
        }
        let reported = clock.now
        await network?.releaseSandbox(id)  // after the waiters, before a restart needs the ports again
        let released = clock.now

        if entry.hostConfig.AutoRemove == true {
            guard let now = entries[id], !now.manualRestart else { return }
            // Removed at once when the user ended it (stop, kill, rm -f: a script's next
            // command may reuse the name) or someone waits for the removal (`docker run --rm`).
            if now.removalWaiters.isEmpty && !now.record.HasBeenManuallyStopped {
                removeAfterGrace(id, finished: finished)
                return
            }
            try? await removeStopped(id, removeVolumes: true)  // as dockerd's --rm, its anonymous volumes too
            logger.debug("exit \(id.prefix(12)): OOM checked \(oomChecked - entered), reported \(reported - oomChecked), network released \(released - reported), removed \(clock.now - released)")
            return
        }
        // Unless a stop or a kill ended the loop meanwhile.
        if let delay = restartAfter, entries[id]?.record.State.Restarting == true {
            scheduleRestart(id, after: delay)
        }
    }

    // MARK: - restart policies

    /// dockerd's back-off: 100 ms doubling to a minute, back to 100 ms after 10 s of running.
    /// A kill with another signal than the stop signal leaves `always` and `on-failure` going,
    /// but marks the container stopped by its user, which ends `unless-stopped`.
    func restartDelay(_ id: String, status: Int32) -> UInt64? {
        guard let entry = entries[id], !entry.exitOnNext, !shuttingDown else { return nil }
        let policy = entry.hostConfig.RestartPolicy
        switch policy?.Name ?? "" {
        case "always":
            break
        case "unless-stopped":
            guard !entry.record.HasBeenManuallyStopped else { return nil }
        case "on-failure":
            guard status != 0 else { return nil }
            let maximum = policy?.MaximumRetryCount ?? 0
            if maximum > 0 && entry.record.RestartCount >= maximum { return nil }
        default:
            return nil
        }
        let ranFor = DispatchTime.now().uptimeNanoseconds - entry.startedUptime
        var delay = entry.restartDelay == 0 || ranFor >= 10_000_000_000 ? 100_000_000 : entry.restartDelay * 2
        delay = min(delay, 60_000_000_000)
        entries[id]!.restartDelay = delay
        return delay
    }

    func scheduleRestart(_ id: String, after delay: UInt64) {
        entries[id]!.record.State.Restarting = true
        entries[id]!.record.State.Status = "restarting"
        persist(id)
        Task {
            try? await Task.sleep(nanoseconds: delay)
            await self.restartNow(id)
        }
    }

    private func restartNow(_ id: String) async {
        // A restart due while the daemon shuts down waits for its next start (see recover()).
        guard let entry = entries[id], entry.record.State.Restarting, !shuttingDown else { return }
        entries[id]!.record.RestartCount += 1
        // Restarting until the start is done (which makes the state running): a `docker start`
        // meanwhile leaves the loop alone, as during the back-off.
        do {
            try await startProcess(id)
        } catch {
            logger.error("container \(id): restart failed: \(error)")
            if entries[id] != nil {
                entries[id]!.record.State.Restarting = false
                entries[id]!.record.State.Status = "exited"
                persist(id)
                if let delay = restartDelay(id, status: entries[id]!.record.State.ExitCode) { scheduleRestart(id, after: delay) }
            }
        }
    }

    func cancelRestart(_ id: String) {
        guard entries[id]?.record.State.Restarting == true else { return }
        entries[id]!.record.State.Restarting = false
        entries[id]!.record.State.Status = "exited"
        persist(id)
    }

    // MARK: - stop, kill, restart, wait

    public enum StopResult: Sendable { case stopped, notRunning }

    /// `docker stop`: the stop signal, then SIGKILL after the timeout. `manual`: a user's stop
    /// (not the daemon's shutdown), which restart policies then respect.
    public func stop(_ nameOrID: String, timeout: Int?, signal: String?, manual: Bool = true) async throws -> StopResult {
        let id = try resolve(nameOrID)
        if manual {
            markManuallyStopped(id)
            await records.flushed(id)
        }
        await awaitStartInProgress(id)
        // Read after the waits: a restart may have begun meanwhile, or a removal ended it.
        guard let entry = entries[id] else { throw BerthError.notFound("No such container: \(nameOrID)") }
        if entry.record.State.Restarting {
            cancelRestart(id)
            persist(id)
            emit("stop", container: id)
            return .stopped
        }
        guard entry.record.State.Running else {
            persist(id)
            return .notRunning
        }
        let stopSignal = try DockerSignal.parse(signal ?? entry.record.Config.StopSignal ?? "SIGTERM")
        let seconds = timeout ?? entry.record.Config.StopTimeout ?? 10
        if entry.record.State.Paused { try? await unpause(id) }
        func forceKill() async throws {
            do {
                try await killAndWait(id, signal: SIGKILL, timeout: .seconds(30))
            } catch is StopTimedOut {
                // A process SIGKILL does not end (stuck in the kernel): dockerd's words.
                throw BerthError.internalError("tried to kill container, but did not receive an exit event")
            }
        }
        do {
            try await killAndWait(id, signal: stopSignal, timeout: seconds < 0 ? nil : .seconds(seconds))
        } catch is StopTimedOut {
            try await forceKill()
        } catch is ShimRefused {
            // A stop signal that cannot be sent (`--stop-signal 99`): as dockerd, 2 s for an
            // exit all the same, then SIGKILL.
            do { try await killAndWait(id, signal: nil, timeout: .seconds(2)) } catch is StopTimedOut { try await forceKill() }
        }
        emit("stop", container: id)
        if manual { await awaitAutoRemoval(id) }
        return .stopped
    }

    struct StopTimedOut: Error {}

    /// Saved before the signal goes, as dockerd does (the callers wait for `records.flushed`):
    /// after a crash between the signal and the exit's record, the restart policy still knows
    /// that the user stopped the container (else an unless-stopped one would come back). Only
    /// a container with a policy, for which it matters, pays for the write.
    func markManuallyStopped(_ id: String, exitOnNext: Bool = true) {
        if exitOnNext { entries[id]?.exitOnNext = true }
        guard let entry = entries[id], !entry.record.HasBeenManuallyStopped else { return }
        entries[id]!.record.HasBeenManuallyStopped = true
        if !["", "no"].contains(entry.hostConfig.RestartPolicy?.Name ?? "") { persist(id) }
    }

    /// Signals the process (unless `signal` is nil) and waits for its exit (or throws
    /// StopTimedOut).
    func killAndWait(_ id: String, signal: Int32?, timeout: Duration?) async throws {
        guard entries[id]?.record.State.Running == true else { return }
        // Registered before the signal goes, so the exit cannot slip by unseen.
        let (exited, exitSignal) = AsyncStream<Bool>.makeStream(bufferingPolicy: .bufferingOldest(1))
        entries[id]!.exitSignals.append(exitSignal)
        do {
            if let signal { try await signalThroughShim(id, signal) }
            if entries[id]?.record.State.Paused == true { try? await unpause(id) }
        } catch is ShimGone {
            // Exited meanwhile: the monitor records it.
        } catch let refused as ShimRefused where refused.message.contains("not running") {
            // Exited, and the shim has not reported it yet (a restart loop's quick exits).
        }
        let timer = timeout.map { timeout in
            Task {
                try? await Task.sleep(for: timeout)
                exitSignal.yield(false)
                exitSignal.finish()
            }
        }
        defer { timer?.cancel() }
        for await done in exited {
            if !done { throw StopTimedOut() }
            return
        }
    }

    /// Current dockerd's texts: every error is "cannot kill container: <name>: <why>", and the
    /// signal is checked before the container is looked up.
    public func kill(_ nameOrID: String, signal: String?) async throws {
        func failure(_ error: BerthError) -> BerthError {
            BerthError(error.code, "cannot kill container: \(nameOrID): \(error.message)")
        }
        let number: Int32
        do {
            number = try DockerSignal.parse(signal ?? "SIGKILL")
        } catch let error as BerthError { throw failure(error) }
        guard DockerSignal.existsOnLinux(number) else {
            throw failure(.invalidArgument("the linux daemon does not support signal \(number)"))
        }
        let id: String
        do { id = try resolve(nameOrID) } catch let error as BerthError { throw failure(error) }
        await awaitStartInProgress(id)
        guard entries[id] != nil else { throw failure(.notFound("No such container: \(nameOrID)")) }
        // As dockerd: every kill marks the container stopped by its user; SIGKILL, the stop
        // signal, or any signal when none is configured also ends the restart policy.
        let configured = entries[id]!.record.Config.StopSignal ?? ""
        let endsPolicy = number == SIGKILL || configured.isEmpty || number == (try? DockerSignal.parse(configured))
        let restarting = entries[id]!.record.State.Restarting
        if restarting || entries[id]!.record.State.Running {
            markManuallyStopped(id, exitOnNext: endsPolicy)
            await records.flushed(id)
        }
        if restarting {
            // No process to signal: the back-off ends instead, and the kill succeeds.
            if endsPolicy { cancelRestart(id) }
            return
        }
        guard entries[id]?.record.State.Running == true else {
            throw failure(.conflict("container \(id) is not running"))
        }
        do {
            if number == SIGKILL {
                // As dockerd: a SIGKILL returns once the container has exited, so what the
                // client asks next (inspect, rm, start) finds it stopped, or gone with --rm.
                try await killAndWait(id, signal: number, timeout: .seconds(10))
                await awaitAutoRemoval(id)
            } else {
                try await signalThroughShim(id, number)
                // A frozen process gets its signal only once thawed; dockerd unpauses it too.
                if entries[id]?.record.State.Paused == true { try? await unpause(id) }
            }
        } catch let refused as ShimRefused {
            throw failure(.internalError(refused.message))
        } catch is ShimGone {
            throw failure(.conflict("container \(id) is not running"))
        } catch is StopTimedOut {
            throw failure(.internalError("tried to kill container, but did not receive an exit event"))
        }
    }

    /// Sends a signal through the shim and tells of it ("kill"). An exit the shim reports
    /// meanwhile tells of itself ("die") only after: see handleExit.
    private func signalThroughShim(_ id: String, _ signal: Int32) async throws {
        killsInFlight[id, default: 0] += 1
        defer {
            let left = (killsInFlight[id] ?? 1) - 1
            killsInFlight[id] = left > 0 ? left : nil
            if left <= 0 {
                for waiter in exitsAfterKills.removeValue(forKey: id) ?? [] { waiter.resume() }
            }
        }
        try await ShimClient(socketPath: paths.shimSocket(id)).quickCall("kill \(signal)")
        emit("kill", container: id, ["signal": String(signal)])
    }

    public func restart(_ nameOrID: String, timeout: Int?, signal: String?) async throws {
        let id = try resolve(nameOrID)
        // One restart at a time: a second waits for the first to end and then restarts the
        // container again, as dockerd's wait behind the container's lock (two at once collided
        // in the start, and both failed).
        while entries[id]?.manualRestart == true { try? await Task.sleep(for: .milliseconds(50)) }
        await awaitStartInProgress(id)
        guard entries[id] != nil else { throw BerthError.notFound("No such container: \(nameOrID)") }
        entries[id]?.manualRestart = true
        defer { entries[id]?.manualRestart = false }
        do {
            _ = try await stop(id, timeout: timeout, signal: signal)
            resetRestartPolicy(id)
            try await startProcess(id)
        } catch {
            // dockerd's words around why (a plain error there: 500).
            let message = (error as? BerthError)?.message ?? "\(error)"
            throw BerthError.internalError("Cannot restart container \(nameOrID): \(message)")
        }
        emit("restart", container: id)
    }

    public enum WaitCondition: String, Sendable { case notRunning = "not-running", nextExit = "next-exit", removed }

    /// `docker wait`: checked at once (a missing container is an error), then waited for.
    public func waitRegistration(_ nameOrID: String, condition: WaitCondition) throws -> String {
        try resolve(nameOrID)
    }

    /// nil when the client left before the answer.
    public func wait(id: String, condition: WaitCondition) async -> ExitResult? {
        guard let entry = entries[id] else { return ExitResult(statusCode: 0, error: nil) }
        switch condition {
        case .notRunning:
            if !entry.record.State.Running && !entry.record.State.Restarting {
                return ExitResult(statusCode: entry.record.State.ExitCode, error: nil)
            }
            return await awaitContainer(id, .exit)
        case .nextExit:
            return await awaitContainer(id, .exit)
        case .removed:
            return await awaitContainer(id, .removal)
        }
    }

    // MARK: - pause

    public func pause(_ nameOrID: String) async throws {
        let id = try resolve(nameOrID)
        let state = try await stateAfterStartInProgress(id, nameOrID)
        if state.Restarting { throw BerthError.containerRestarting(id) }
        guard state.Running else { throw BerthError.conflict("Container \(id) is not running") }
        guard !state.Paused, freezeChanges[id] == nil else { throw BerthError.conflict("Container \(id) is already paused") }
        let root = paths.runtimeRoot
        stopHealthMonitor(id)  // a frozen container is not probed
        freezeChanges[id] = true
        defer { freezeChanges[id] = nil }
        try await blocking { try Runtime(root: root).pause(id: id) }
        entries[id]!.record.State.Paused = true
        entries[id]!.record.State.Status = "paused"
        persist(id)
        emit("pause", container: id)
        await records.flushed(id)
    }

    public func unpause(_ nameOrID: String) async throws {
        let id = try resolve(nameOrID)
        guard entries[id]!.record.State.Paused, freezeChanges[id] == nil else {
            // dockerd's error here has no errdefs type: a 500, where "already paused" is a 409.
            throw BerthError.internalError("Container \(id) is not paused")
        }
        let root = paths.runtimeRoot
        freezeChanges[id] = false
        defer { freezeChanges[id] = nil }
        try await blocking { try Runtime(root: root).resume(id: id) }
        entries[id]!.record.State.Paused = false
        entries[id]!.record.State.Status = "running"
        persist(id)
        emit("unpause", container: id)
        startHealthMonitor(id)
        await records.flushed(id)
    }

    // MARK: - start failures

    /// Docker's wording around the runtime's message, so the CLI picks 126/127 from it.
    static func startFailure(_ error: Error) -> String {
        let message = (error as? ShimRefused)?.message ?? (error as? BerthError)?.message ?? "\(error)"
        return RuntimeFailureText.start(message)
    }

    static func exitCode(forStartFailure message: String) -> Int32 {
        let lower = message.lowercased()
        if lower.contains("executable file not found") || lower.contains("no such file or directory") { return 127 }
        if lower.contains("permission denied") { return 126 }
        return 128
    }

    static func startError(_ message: String) -> BerthError {
        exitCode(forStartFailure: message) == 128 ? .internalError(message) : .invalidArgument(message)
    }
}

/// The shim's exit records: "exit STATUS NANOS" answers (followed, for the journald log
/// driver, by "journal EPOCH ORDINAL": where its log writer ended) and the `exit` file.
struct ShimExit {
    var status: Int32
    var finished: String
    var journalEnd: JournalLogEnd?

    static func parse(_ reply: String) -> ShimExit? {
        let fields = reply.split(separator: " ")
        guard fields.count == 3 || fields.count == 6, fields[0] == "exit", let status = Int32(fields[1]),
              let nanos = Int64(fields[2]) else { return nil }
        var exit = ShimExit(status: status, finished: timestamp(seconds: nanos / 1_000_000_000, nanoseconds: nanos % 1_000_000_000))
        if fields.count == 6, fields[3] == "journal", let ordinal = UInt64(fields[5]) {
            exit.journalEnd = JournalLogEnd(epoch: String(fields[4]), ordinal: ordinal)
        }
        return exit
    }

    static func read(directory: String) -> ShimExit? {
        guard let text = readTextFile(directory + "/exit") else { return nil }
        return parse("exit " + text.trimmed())
    }
}
