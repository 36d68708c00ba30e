import BerthNetwork
import BerthOCI
import BerthRuntime
import BerthStore
import FoundationEssentials
import Dispatch
import Glibc
import Logging

/// Every container of this daemon: their records on disk and in memory, names, and the
/// waiters and attachments of each. Process work goes to each container's berth-shim.
public actor ContainerService {
    /// A container and what is waiting on it.
    struct Entry {
        var record: ContainerRecord
        var hostConfig: HostConfig
        /// `docker wait` and the stop/restart paths: resumed at the next exit.
        var exitWaiters = ExitWaiters()
        /// Stops waiting for the exit with a time limit (see killAndWait).
        var exitSignals: [AsyncStream<Bool>.Continuation] = []
        /// `docker wait --condition removed` and `docker run --rm`.
        var removalWaiters = ExitWaiters()
        /// `docker logs -f`: told of the exit before the "die" event, as dockerd closes its log
        /// followers first (compose 1.29's `logs -f` stops reading at that event).
        var logFollowers = ExitWaiters()
        /// Attachments made before the container started (`docker run` attaches first).
        /// Each under its token, so that one whose client left is dropped (see awaitStart).
        var pendingAttaches: [UInt64: CheckedContinuation<PendingAttachGo?, Never>] = [:]
        /// Set while start, stop or remove is at work, so they do not overlap.
        var busy = false
        /// When the last start happened (restart back-off resets after 10 s of running).
        var startedUptime: UInt64 = 0
        var restartDelay: UInt64 = 0
        /// A stop, or a kill with the stop signal, ended the restart policy for this run
        /// (dockerd's ExitOnNext); the user's next start clears it.
        var exitOnNext = false
        var execs: Set<String> = []
        /// The running process's spec pieces every exec starts from (nil after a daemon restart
        /// until the first exec reads them from the bundle).
        var execTemplate: ExecTemplate?
        /// The running process's linux.cgroupsPath (nil after a daemon restart: then it is read
        /// from the runtime's state).
        var cgroupsPath: String?
        /// What is left to clean after an exit (runtime record, cgroup, root mount).
        var cleanup: Task<Void, Never>?
        /// Where the last run's journald log writer ended (journald log driver).
        var journalEnd: JournalLogEnd?
        /// The healthcheck's monitor of this run (see HealthMonitor).
        var healthMonitor: HealthMonitorHandle?
        /// `docker restart` is stopping and starting it: that exit does not end an AutoRemove
        /// container (dockerd's HasBeenManuallyRestarted).
        var manualRestart = false
    }

    public struct ExitResult: Sendable {
        public var statusCode: Int32
        public var error: String?
    }

    let paths: ContainerPaths
    let images: ImageStore
    let launcher: ShimLauncher
    let settings: ContainerDefaults
    let logger: Logger
    let records: ContainerRecordWriter
    /// Namespaces, addresses and ports of containers (nil: every container gets loopback only).
    let network: NetworkService?
    var entries: [String: Entry] = [:]
    /// Name (without the slash) → ID.
    var names: [String: String] = [:]
    /// Names of containers being created (not in `names` until their files are saved) → ID.
    var creatingNames: [String: String] = [:]
    /// By container ID: kills sent to the shim and not answered yet, and the exits waiting for
    /// them to tell of themselves first (see handleExit).
    var killsInFlight: [String: Int] = [:]
    var exitsAfterKills: [String: [CheckedContinuation<Void, Never>]] = [:]
    var execs: [String: ExecRecord] = [:]
    /// By container ID: a pause (true) or unpause (false) the runtime is doing now, so that a
    /// second one at the same moment is answered as dockerd answers it (already / not paused).
    var freezeChanges: [String: Bool] = [:]
    /// Containers being removed now (see removeStopped).
    var removalsInProgress: Set<String> = []
    /// The daemon is stopping its containers to exit (live-restore off): no restart policy acts.
    var shuttingDown = false
    /// Tells the waits for exits and removals apart (see ExitWaiters).
    var nextWaiterToken: UInt64 = 0
    /// Counts every change of any container, so that cached answers know they are stale.
    var stateVersion = 0
    var listCache: (query: String, version: Int, second: Int, body: [UInt8])?
    var background: [Int: Task<Void, Never>] = [:]
    /// What `docker events` reads: every service of the engine publishes here.
    public nonisolated let events = EventBus()
    /// The local volumes, which containers make at create and mount at start.
    public nonisolated let volumes: VolumeStore
    var backgroundCount = 0
    /// Stopped containers whose root is mounted for `docker cp` (see ContainerRootView).
    var stoppedRoots: [String: StoppedRootShare] = [:]

    public init(dataRoot: String, execRoot: String, binDirectory: String, images: ImageStore,
                settings: ContainerDefaults, logger: Logger, network: NetworkService? = nil) throws {
        paths = ContainerPaths(dataRoot: dataRoot, execRoot: execRoot)
        self.network = network
        self.images = images
        self.settings = settings
        self.logger = logger
        records = ContainerRecordWriter(paths: paths) { message in logger.error("\(message)") }
        launcher = ShimLauncher(shimPath: binDirectory + "/berth-shim", runtimePath: binDirectory + "/berth-runtime",
                                runtimeRoot: paths.runtimeRoot)
        for directory in [dataRoot + "/containers", execRoot + "/containers", paths.runtimeRoot] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            TopDirectory.mark(directory)
        }
        CopyView.removeLeftovers(in: execRoot + "/copies")
        volumes = try VolumeStore(root: dataRoot + "/volumes")
        var loaded: [String: Entry] = [:]
        var incomplete: [String] = []
        for id in (try? FileManager.default.contentsOfDirectory(atPath: dataRoot + "/containers")) ?? [] {
            guard let record = try? JSONDecoder().decode(ContainerRecord.self, from: Data(contentsOf: URL(fileURLWithPath: paths.config(id)))),
                  let hostConfig = try? JSONDecoder().decode(HostConfig.self, from: Data(contentsOf: URL(fileURLWithPath: paths.hostConfig(id))))
            else {
                incomplete.append(id)
                continue
            }
            // A note a crash kept after the create was saved: the config says it all now.
            if record.VolumeMounts?.contains(where: \.Anonymous) == true { AnonymousVolumeNote.drop(id, paths: paths) }
            loaded[id] = Entry(record: record, hostConfig: hostConfig)
        }
        entries = loaded
        names = Dictionary(loaded.values.map { ($0.record.bareName, $0.record.ID) }, uniquingKeysWith: { first, _ in first })
        let users = ImageUsersIndex()
        for entry in loaded.values { users.set(entry.record) }
        imageUsers = users
        images.imageUsers = { users.users(of: $0) }
        for entry in loaded.values {
            volumes.use((entry.record.VolumeMounts ?? []).map(\.Name), by: entry.record.ID)
        }
        // A create or a removal cut off by a crash: nothing else refers to it. Its directory
        // goes last, so that a crash meanwhile leaves it to be found again.
        for id in incomplete {
            logger.warning("removing container \(id): its configuration is incomplete")
            // Anonymous volumes made for it or being removed with it (unless another uses them).
            for name in AnonymousVolumeNote.read(id, paths: paths)
            where volumes.users(of: name).isEmpty && ((try? volumes.get(name))?.isAnonymous ?? false) {
                logger.warning("removing anonymous volume \(name): its container is gone")
                try? volumes.remove(name, force: true)
            }
            ContainerRoot.unmount(id, snapshotter: images.snapshotter)
            try? images.snapshotter.remove(key: id)
            try? FileManager.default.removeItem(atPath: paths.directory(id))
        }
        // Roots that no container has any more (a crash in the middle of a removal that took
        // the directory first).
        for key in images.snapshotter.preparedKeys() where loaded[key] == nil && ContainerIdentity.isFullID(key) {
            logger.warning("removing the root of container \(key), which does not exist")
            ContainerRoot.unmount(key, snapshotter: images.snapshotter)
            try? images.snapshotter.remove(key: key)
        }
        volumes.setEventSink { [events] action, name, attributes in
            events.publish(.volume, action, actor: name, attributes: attributes)
        }
    }

    /// Which containers use which image, readable from the image store's lock without the actor.
    let imageUsers: ImageUsersIndex

    // MARK: - lookup

    /// By full ID, name (with or without its slash), or unique ID prefix, as dockerd resolves.
    func resolve(_ nameOrID: String) throws -> String {
        // Reachable from bodies and queries (network connect, commit): dockerd's GetContainer words.
        if nameOrID.isEmpty { throw BerthError.invalidArgument("invalid name or ID supplied: \"\"") }
        if entries[nameOrID] != nil { return nameOrID }
        let name = nameOrID.hasPrefix("/") ? String(nameOrID.dropFirst()) : nameOrID
        if let id = names[name] { return id }
        if !nameOrID.isEmpty {
            let matches = entries.keys.filter { $0.hasPrefix(nameOrID) }
            if matches.count == 1 { return matches[0] }
            // A 400 in dockerd (an invalid parameter), not a 404.
            if matches.count > 1 { throw BerthError.invalidArgument("multiple IDs found with provided prefix: \(nameOrID)") }
        }
        throw BerthError.notFound("No such container: \(nameOrID)")
    }

    func entry(_ nameOrID: String) throws -> Entry { entries[try resolve(nameOrID)]! }

    public func record(_ nameOrID: String) throws -> (ContainerRecord, HostConfig) {
        let entry = try entry(nameOrID)
        return (entry.record, entry.hostConfig)
    }

    public func all() -> [(ContainerRecord, HostConfig)] {
        entries.values.map { ($0.record, $0.hostConfig) }
    }

    public var counts: (running: Int, paused: Int, stopped: Int) {
        var counts = (running: 0, paused: 0, stopped: 0)
        for entry in entries.values {
            if entry.record.State.Paused { counts.paused += 1 } else if entry.record.State.Running { counts.running += 1 } else { counts.stopped += 1 }
        }
        return counts
    }

    // MARK: - persistence

    /// Saves the container's record: written off the actor, in order (see ContainerRecordWriter).
    func persist(_ id: String) {
        stateVersion += 1
        guard let entry = entries[id] else { return }
        do {
            records.write(id, try JSONEncoder().encode(entry.record))
        } catch {
            logger.error("container \(id): cannot save its state: \(error)")
        }
        imageUsers.set(entry.record)
    }

    /// A record's JSON for the writer, for callers off the actor (sorted keys: the same record
    /// always gives the same bytes); nil, logged, when it cannot be encoded.
    nonisolated static func encodedForDisk(_ record: ContainerRecord, logger: Logger) -> Data? {
        do {
            return try ContainerRecord.sortedEncoder.encode(record)
        } catch {
            logger.error("container \(record.ID): cannot save its state: \(error)")
            return nil
        }
    }

    /// What `persist` does besides the write, for a record that is on disk as it is.
    func persisted(_ id: String) {
        stateVersion += 1
        if let record = entries[id]?.record { imageUsers.set(record) }
    }

    func persistHostConfig(_ id: String) throws {
        guard let entry = entries[id] else { return }
        try writeAtomically(JSONEncoder().encode(entry.hostConfig), to: paths.hostConfig(id))
    }

    // MARK: - create

    public struct Created: Sendable {
        public var id: String
        public var warnings: [String]
    }

    public func create(_ request: ContainerCreateRequest, name requestedName: String?, platform: String? = nil) async throws -> Created {
        // dockerd's order: the settings, then the image, then the name. So a bad option is
        // reported before a missing image (whose 404 makes the CLI pull).
        guard let imageName = request.config.Image, !imageName.isEmpty else {
            throw BerthError.invalidArgument("config cannot be empty in order to create a container")
        }
        var host = settings.host
        host.ipv4Forwarding = HostFacts.ipv4ForwardingEnabled()
        var validated = try CreateValidation.validate(config: request.config, hostConfig: request.hostConfig, host: host)
        try checkRuntime(validated.hostConfig)
        validated.hostConfig = try pinnedContainerModes(validated.hostConfig)
        let images = self.images
        let base = try await blocking { try images.containerBase(imageName) }
        try ImagePlatform.check(platform, image: base.config, reference: imageName)
        guard let parent = base.topLayer else {
            throw BerthError.invalidArgument("image \(imageName) has no layers to make a container root from")
        }
        let name: String
        if let requestedName, !requestedName.isEmpty {
            name = String(try CreateValidation.validateName(requestedName).dropFirst())
            await freeNameOfRemovedContainer(name)
            if let holder = names[name] ?? creatingNames[name] {
                throw BerthError.conflict("Conflict. The container name \"/\(name)\" is already in use by container \"\(holder)\". You have to remove (or rename) that container to be able to reuse that name.")
            }
        } else {
            var retry = 0
            var candidate = NameGenerator().generate()
            while names[candidate] != nil || creatingNames[candidate] != nil {
                retry += 1
                candidate = NameGenerator().generate(retry: retry)
            }
            name = candidate
        }
        var id = ""
        repeat { id = ContainerIdentity.newID() } while entries[id] != nil
        // Held from here: the create suspends (files, network) before the container is
        // registered, and another create or a rename must not take the name meanwhile.
        creatingNames[name] = id
        defer { creatingNames[name] = nil }
        // On a user-defined network dockerd keeps no legacy link (it ignores HostConfig.Links
        // there): the links are the endpoint's (NetworkingConfig), see EndpointLink.
        if case .userDefined = NetworkModeKind(validated.hostConfig.NetworkMode) { validated.hostConfig.Links = nil }
        try checkReferences(validated.hostConfig)
        try StorageOptions.check(validated.hostConfig.StorageOpt, dataRoot: paths.dataRoot)
        try DaemonRootBinds.check(validated.hostConfig, daemonRoot: paths.dataRoot)
        var hostConfig = validated.hostConfig.withDaemonDefaults(settings.specDefaults, cgroupV2: settings.host.cgroupV2)
        hostConfig.LogConfig = LogSettings.merged(hostConfig.LogConfig, defaults: settings)
        // What dockerd records at create: no pids limit (0, or any negative value) as null,
        // the masked and read-only paths a container gets (none when privileged).
        if let pids = hostConfig.PidsLimit, pids <= 0 { hostConfig.PidsLimit = nil }
        hostConfig.SecurityOpt = SecurityOptions.recorded(hostConfig)
        // As dockerd records its default runtime's name when none is asked for.
        if (hostConfig.Runtime ?? "").isEmpty { hostConfig.Runtime = SystemInfo.defaultRuntime }
        if hostConfig.Privileged != true {
            if hostConfig.MaskedPaths == nil { hostConfig.MaskedPaths = ContainerDefaults.maskedPaths }
            if hostConfig.ReadonlyPaths == nil { hostConfig.ReadonlyPaths = ContainerDefaults.readonlyPaths }
        }
        _ = try LogSettings(hostConfig.LogConfig, defaults: settings)
        var config = try request.config.merged(withImage: base.config.config)
        let command = config.commandLine
        let (path, args) = (command[0], Array(command.dropFirst()))
        config.Image = imageName

        if config.Hostname?.isEmpty ?? true {
            config.Hostname = validated.hostConfig.NetworkMode == "host" ? SystemInfo.hostname : String(id.prefix(12))
        }
        var record = ContainerRecord(
            ID: id, Created: timestamp(), Path: path, Args: args, Config: config, Image: base.id, Name: "/" + name,
            LogPath: paths.jsonLog(id), HostnamePath: paths.directory(id) + "/hostname",
            HostsPath: paths.directory(id) + "/hosts", ResolvConfPath: paths.directory(id) + "/resolv.conf")
        let inherited = try volumesFrom(hostConfig.VolumesFrom ?? [])
        try ContainerMounts.checkDuplicateTargets(hostConfig)
        let inheritedBinds = InheritedBind.unclaimed(inherited.binds, by: hostConfig, volumes: inherited.volumes)
        record.InheritedBinds = inheritedBinds.isEmpty ? nil : inheritedBinds
        // (No hop to a blocking thread for the creates that mount no image: nearly all.)
        let imageMounts = (hostConfig.Mounts ?? []).contains { $0.Type == "image" }
            ? try await blocking { [images, hostConfig] in try ImageMounts.plan(hostConfig, images: images) } : []
        record.ImageMounts = imageMounts.isEmpty ? nil : imageMounts
        if request.readOnlyNonRecursiveBinds { record.ReadOnlyNonRecursiveBinds = true }
        let volumeMounts = try await makeVolumes(for: id, hostConfig: hostConfig, configVolumes: config.Volumes, inherited: inherited)
        record.VolumeMounts = volumeMounts.isEmpty ? nil : volumeMounts
        let volumes = self.volumes
        let paths = self.paths
        let newID = id
        let createdWorkingDir = config.WorkingDir
        do {
            try await blocking {
                // One mkdir: the containers directory is made at start.
                if mkdir(paths.directory(newID), 0o755) != 0 && errno != EEXIST {
                    try FileManager.default.createDirectory(atPath: paths.directory(newID), withIntermediateDirectories: true)
                }
                let root = try images.snapshotter.prepare(key: newID, parent: parent)
                do {
                    try ContainerWorkingDirectory.prepare(createdWorkingDir, root: root,
                                                          merged: ContainerRoot.mountPoint(newID, snapshotter: images.snapshotter))
                } catch {
                    try? images.snapshotter.remove(key: newID)
                    try? FileManager.default.removeItem(atPath: paths.directory(newID))
                    throw error
                }
            }
        } catch {
            Self.dropVolumes(volumeMounts, of: newID, removeAnonymous: true, store: volumes)
            throw error
        }
        do {
            try await registerNetworks(id, hostConfig: validated.hostConfig, networking: request.networkingConfig,
                                       configMacAddress: request.config.MacAddress)  // network
        } catch {
            try? await blocking { try? images.snapshotter.remove(key: newID); try? FileManager.default.removeItem(atPath: paths.directory(newID)) }
            Self.dropVolumes(volumeMounts, of: newID, removeAnonymous: true, store: volumes)
            throw error
        }
        // Both files are written and flushed at once, off the actor; the container is there
        // for the others once they are on disk.
        do {
            let hostConfigJSON = try JSONEncoder().encode(hostConfig)
            let recordJSON = try JSONEncoder().encode(record)
            async let hostConfigSaved: Void = blocking { try writeAtomically(hostConfigJSON, to: paths.hostConfig(newID)) }
            async let recordSaved: Void = blocking { try writeAtomically(recordJSON, to: paths.config(newID)) }
            _ = try await (hostConfigSaved, recordSaved)
            if volumeMounts.contains(where: \.Anonymous) { AnonymousVolumeNote.drop(newID, paths: paths) }
        } catch {
            _ = try? await blocking {
                try? images.snapshotter.remove(key: newID)
                try? FileManager.default.removeItem(atPath: paths.directory(newID))
            }
            Self.dropVolumes(volumeMounts, of: newID, removeAnonymous: true, store: volumes)
            throw error
        }
        names[name] = id
        entries[id] = Entry(record: record, hostConfig: hostConfig)
        imageUsers.set(record)
        stateVersion += 1
        emit("create", container: id)
        return Created(id: id, warnings: validated.warnings)
    }

    /// The runtime a new container names must be known, checked before the image as dockerd does.
    private func checkRuntime(_ hostConfig: HostConfig) throws {
        if let runtime = hostConfig.Runtime, !runtime.isEmpty, !["berth-runtime", "runc"].contains(runtime) {
            throw BerthError.invalidArgument("Unknown runtime specified \(runtime)")
        }
    }

    /// The containers that --volumes-from and --link name, checked after the name as dockerd does.
    private func checkReferences(_ hostConfig: HostConfig) throws {
        // Not 404: the CLI would take that for a missing image and try to pull it.
        for source in hostConfig.VolumesFrom ?? [] {
            let name = try VolumesFromSpec.parse(source).container
            do { _ = try resolve(name) } catch { throw BerthError.invalidArgument("No such container: \(name)") }
        }
        for link in hostConfig.Links ?? [] {
            let name = String(link.split(separator: ":").first ?? "")
            do { _ = try resolve(name) } catch {
                throw BerthError.invalidArgument("could not get container for \(name): No such container: \(name)")
            }
        }
    }

    /// As dockerd: `container:<name>` modes are kept by the other container's full ID, so that
    /// renaming it breaks nothing; for IPC and PID it must exist at create (stopped will do).
    private func pinnedContainerModes(_ hostConfig: HostConfig) throws -> HostConfig {
        func pin(_ mode: String?, required: Bool) throws -> String? {
            guard let mode, mode.hasPrefix("container:") else { return mode }
            let name = String(mode.dropFirst("container:".count))
            guard let id = try? resolve(name) else {
                // Not 404: the CLI would take that for a missing image and try to pull it.
                if required { throw BerthError.invalidArgument("No such container: \(name)") }
                return mode  // a network peer is looked for at start, as by dockerd
            }
            return "container:" + id
        }
        var pinned = hostConfig
        pinned.IpcMode = try pin(hostConfig.IpcMode, required: true)
        pinned.PidMode = try pin(hostConfig.PidMode, required: true)
        pinned.NetworkMode = try pin(hostConfig.NetworkMode, required: false)
        return pinned
    }

    // MARK: - rename, remove

    public func rename(_ nameOrID: String, to newName: String) async throws {
        let id = try resolve(nameOrID)
        let old = entries[id]!.record.bareName
        // dockerd's order: the same name first, then the name rule, reported with its slash.
        let slashed = newName.hasPrefix("/") ? newName : "/" + newName
        if slashed == "/" + old {
            throw BerthError.invalidArgument("Renaming a container with the same name as its current name")
        }
        let bare: String
        do { bare = String(try CreateValidation.validateName(slashed).dropFirst()) } catch let error as BerthError {
            throw BerthError(error.code, "Error when allocating new name: " + error.message)
        }
        await freeNameOfRemovedContainer(bare)
        // Read again after the wait: the container may have gone or been renamed meanwhile.
        guard let current = entries[id]?.record.bareName else { throw BerthError.notFound("No such container: \(nameOrID)") }
        if let holder = names[bare] ?? creatingNames[bare] {
            throw BerthError.conflict("Error when allocating new name: Conflict. The container name \"/\(bare)\" is already in use by container \"\(holder)\". You have to remove (or rename) that container to be able to reuse that name.")
        }
        names[current] = nil
        names[bare] = id
        entries[id]!.record.Name = "/" + bare
        persist(id)
        emit("rename", container: id, ["oldName": "/" + current])
        // Its names on user networks, while it runs.
        await network?.renameContainer(id, to: bare)
        await records.flushed(id)
    }

    /// A start in progress (the user's, or the restart loop's) owns the container until its
    /// process runs or fails to: a removal, a stop or a kill waits for it, up to 10 s, and then
    /// sees a running container, as dockerd's do behind the container's lock.
    func awaitStartInProgress(_ id: String) async {
        var waited = 0
        while entries[id]?.busy == true && waited < 200 {
            try? await Task.sleep(for: .milliseconds(50))
            waited += 1
        }
    }

    /// The container's state once a start in progress has ended (see awaitStartInProgress);
    /// not found when it was removed meanwhile.
    func stateAfterStartInProgress(_ id: String, _ nameOrID: String) async throws -> ContainerStateRecord {
        await awaitStartInProgress(id)
        guard let state = entries[id]?.record.State else { throw BerthError.notFound("No such container: \(nameOrID)") }
        return state
    }

    /// `removeVolumes` (`docker rm -v`): its anonymous volumes go too.
    public func remove(_ nameOrID: String, force: Bool, removeVolumes: Bool = false) async throws {
        let id = try resolve(nameOrID)
        await awaitStartInProgress(id)
        guard let entry = entries[id] else { return }
        if entry.busy { throw BerthError.conflict("container \(id) is still starting: try again") }
        let state = entry.record.State
        if state.Running || state.Restarting {
            guard force else {
                // dockerd (20.10) names the state, and a paused one needs an unpause first.
                if state.Paused {
                    throw BerthError.conflict("You cannot remove a paused container \(id). Unpause and then stop the container before attempting removal or force remove")
                }
                let what = state.Restarting ? "restarting" : "running"
                throw BerthError.conflict("You cannot remove a \(what) container \(id). Stop the container before attempting removal or force remove")
            }
            markManuallyStopped(id)
            await records.flushed(id)
            if state.Restarting { cancelRestart(id) }
            if entries[id]?.record.State.Running == true {
                try? await killAndWait(id, signal: SIGKILL, timeout: .seconds(10))
            }
        }
        try await removeStopped(id, removeVolumes: removeVolumes)
    }

    /// Deletes a stopped container's files, root and name; wakes `wait --condition removed`.
    func removeStopped(_ id: String, removeVolumes: Bool = false) async throws {
        guard var entry = entries[id] else { return }
        if removalsInProgress.contains(id) {
            // Another removal is at work (an AutoRemove's, during `rm -f`): answered once it is
            // done, so that the caller's next command finds the name free.
            _ = await awaitContainer(id, .removal)
            return
        }
        removalsInProgress.insert(id)
        defer { removalsInProgress.remove(id) }
        stopHealthMonitor(id)
        let previousStatus = entry.record.State.Status
        entry.record.State.Status = "removing"
        entries[id] = entry
        let paths = self.paths
        let images = self.images
        // Without its config the container is gone, also for a daemon that crashes right
        // after; the rest of its files go in the background (a restart sweeps what is left).
        // The config is renamed, not unlinked: freeing its blocks may wait for the disk (a
        // file system mounted with `discard`), and the directory goes in the background anyway.
        // The anonymous volumes that go with it are noted first (see AnonymousVolumeNote).
        let anonymous = removeVolumes ? (entry.record.VolumeMounts ?? []).filter(\.Anonymous).map(\.Name) : []
        let records = self.records
        // Closed with the rename, so that no record still on its way to disk brings the file
        // back; a write in progress is not waited for (see ContainerRecordWriter.close).
        let removeConfig: @Sendable () throws -> Void = {
            try records.close(id) {
                if Glibc.rename(paths.config(id), paths.config(id) + ".removed") != 0 && errno != ENOENT {
                    throw BerthError.internalError("cannot remove container \(id): \(String(cString: strerror(errno)))")
                }
            }
        }
        do {
            if anonymous.isEmpty {
                // A rename that frees nothing, here: a hop to another thread costs more, up to a
                // millisecond when the cores are busy (the exit's clean-up runs meanwhile).
                try removeConfig()
            } else {
                try await blocking {
                    try AnonymousVolumeNote.write(anonymous, for: id, paths: paths)
                    try removeConfig()
                }
            }
        } catch {
            // Still there: its waiters hear why rather than wait on, and a later rm may try again.
            entries[id]?.record.State.Status = previousStatus
            let message = (error as? BerthError)?.message ?? "\(error)"
            entries[id]?.removalWaiters.resumeAll(returning: ExitResult(statusCode: entry.record.State.ExitCode, error: message))
            entries[id]?.removalWaiters = ExitWaiters()
            throw error
        }
        // The volumes go before the directory with their note does.
        if let mounts = entry.record.VolumeMounts, !mounts.isEmpty {
            let volumes = self.volumes
            _ = try? await blocking { Self.dropVolumes(mounts, of: id, removeAnonymous: removeVolumes, store: volumes) }
        }
        let cleanup = entry.cleanup
        // What a start cut short left of the runtime's container goes too (nothing to do, and
        // one stat, after an ordinary run).
        let cgroupsPath = StartPlan.cgroupsPath(id, hostConfig: entry.hostConfig, settings: settings)
        inBackground {
            await cleanup?.value
            // A write that was in progress at the close ends (without its rename) first.
            await records.flushed(id)
            records.forget(id)
            await BlockingWork.run {
                ContainerRoot.deleteRuntimeLeftovers(id, cgroupsPath: cgroupsPath, runtimeRoot: paths.runtimeRoot)
                ContainerRoot.unmount(id, snapshotter: images.snapshotter)
                try? images.snapshotter.remove(key: id)
                try? FileManager.default.removeItem(atPath: paths.shimDirectory(id))
                try? FileManager.default.removeItem(atPath: paths.directory(id))
            }
        }
        await forgetNetwork(id)  // network
        // The entry as it is now: the waits and attachments that came during the awaits above
        // are in it, not in the copy taken at the beginning, and are answered too.
        let removed = entries.removeValue(forKey: id) ?? entry
        stateVersion += 1
        if names[removed.record.bareName] == id { names[removed.record.bareName] = nil }
        for exec in removed.execs { execs[exec] = nil }
        imageUsers.remove(id)
        let result = ExitResult(statusCode: removed.record.State.ExitCode, error: nil)
        removed.logFollowers.resumeAll(returning: result)
        removed.exitWaiters.resumeAll(returning: result)
        removed.removalWaiters.resumeAll(returning: result)
        for signal in removed.exitSignals {
            signal.yield(true)
            signal.finish()
        }
        for attach in removed.pendingAttaches.values { attach.resume(returning: nil) }
        emit("destroy", record: removed.record)
    }

    public struct PruneReport: Sendable {
        public var deleted: [String]
        public var reclaimed: Int64
    }

    /// `docker container prune`: every stopped container matching the filters.
    public func prune(filters: ContainerFilters) async throws -> PruneReport {
        let victims = entries.values.filter { !$0.busy && !$0.record.State.isActive && filters.matchesForPrune($0.record) }.map(\.record.ID)
        var deleted: [String] = []
        var reclaimed: Int64 = 0
        for id in victims.sorted() {
            reclaimed += ContainerRoot.writableSize(id, snapshotter: images.snapshotter)
            try await removeStopped(id)
            deleted.append(id)
        }
        events.publish(.container, "prune", actor: "", attributes: ["reclaimed": String(reclaimed)])
        return PruneReport(deleted: deleted, reclaimed: reclaimed)
    }

    /// Cleanup that nobody waits for (after an exit or a removal), still finished before the
    /// daemon exits (`finishBackgroundWork`).
    @discardableResult
    func inBackground(_ work: @escaping @Sendable () async -> Void) -> Task<Void, Never> {
        let task = Task.detached(operation: work)
        let number = backgroundCount
        backgroundCount += 1
        background[number] = task
        Task {
            await task.value
            self.background[number] = nil
        }
        return task
    }

    /// Waits for the cleanup in progress: a daemon that stops leaves no half-removed container.
    public func finishBackgroundWork() async {
        var done = Set<Int>()
        while true {
            let pending = background.filter { !done.contains($0.key) }
            if pending.isEmpty { break }
            for (number, task) in pending {
                await task.value
                done.insert(number)
            }
        }
        await records.flushAll()
    }

    /// Runs blocking work (mounts, files, spawning) off the actor and the cooperative pool.
    /// It touches no state of the actor, so tasks off it call it without a hop.
    nonisolated func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await BlockingWork.run(work)
    }
}
