import BerthOCI
import CSystemShims
import FoundationEssentials
import Glibc

/// The OCI runtime commands on a `--root` state directory. Each call runs in a single-threaded
/// process (berth-runtime's synchronous main), because clone and setns need that.
public struct Runtime {
    public let store: ContainerStore

    public init(root: String) throws {
        store = ContainerStore(root: root)
        try FileSystem.makeDirectories(root, mode: 0o700)
    }

    /// Keeps compiled seccomp programs and the host's cgroup mounts in `root` for the next
    /// runs. For the berth-runtime executable, once before anything else runs: these are
    /// process-wide, and berthd, which makes a Runtime on many threads at once, must not
    /// set them (two threads assigning one String raced and freed it twice).
    public static func keepCaches(in root: String) {
        SeccompFilter.cacheDirectory = root
        CgroupHost.cacheDirectory = root
    }

    public struct CreateOptions {
        public var bundle: String
        public var pidFile: String?
        public var consoleSocket: String?
        /// Descriptors 3..<3+preserveFds are passed on to the container process.
        public var preserveFds: Int32
        public init(bundle: String, pidFile: String? = nil, consoleSocket: String? = nil, preserveFds: Int32 = 0) {
            self.bundle = bundle
            self.pidFile = pidFile
            self.consoleSocket = consoleSocket
            self.preserveFds = preserveFds
        }
    }

    // MARK: - create / start / run

    /// Creates the container: namespaces, cgroup, rootfs, identity, all but the final execve,
    /// which waits for `start`. Returns the init's pid; on failure leaves nothing behind.
    @discardableResult
    public func create(id: String, options: CreateOptions) throws -> Int32 {
        try ContainerStore.validate(id: id)
        guard !store.exists(id) else { throw ConfigError("container \"\(id)\" already exists") }
        let bundle = try absolutePath(options.bundle)
        let (spec, specBytes, seccompText) = try loadSpec(bundle: bundle)
        guard let process = spec.process else { throw ConfigError("config.json has no process") }
        guard let rootPath = spec.root?.path else { throw ConfigError("config.json has no root.path") }
        let rootfs = rootPath.hasPrefix("/") ? rootPath : bundle + "/" + rootPath
        guard FileSystem.isDirectory(rootfs) else { throw ConfigError("rootfs \(rootfs) is not a directory") }
        if process.terminal == true && options.consoleSocket == nil {
            throw ConfigError("cannot allocate tty if runc will detach without setting console socket")
        }
        if process.terminal != true && options.consoleSocket != nil {
            throw ConfigError("cannot use console socket if runc will not detach or allocate tty")
        }
        let namespaces = try NamespacePlan(spec.linux?.namespaces ?? [])
        guard namespaces.newMountNamespace else { throw ConfigError("the container needs a mount namespace of its own") }
        let seccomp = try seccompText.map { try SeccompFilter(profileText: $0) } ?? spec.linux?.seccomp.map { try SeccompFilter($0) }
        let setup = try ProcessSetup(process: process, seccompFilter: seccomp)

        try check("mkdir \(store.directory(id))", mkdir(store.directory(id), 0o711))
        var cleanup = Cleanup()
        cleanup.add { store.remove(id) }
        defer { cleanup.run() }

        try check("mkfifo exec.fifo", mkfifo(store.execFifo(id), 0o622))
        let fifo = open(store.execFifo(id), O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        if fifo < 0 { throw SystemError("open exec fifo") }
        defer { close(fifo) }
        // The init polls the fifo: blocking reads there make it wait until `start` writes.
        _ = fcntl(fifo, F_SETFL, 0)

        let cgroup = try makeCgroupManager(cgroupsPath: spec.linux?.cgroupsPath, containerID: id)
        try cgroup.create()
        cleanup.add { try? cgroup.destroy() }
        if let resources = DeviceRules.effective(spec.linux?.resources) {
            try cgroup.apply(resources)
        }

        let builder = RootfsBuilder(spec: spec, rootfs: rootfs, cgroupBinds: try CgroupHost.probe().binds(for: cgroup.paths),
                                    inUserNamespace: namespaces.newUserNamespace || namespaces.joins["user"] != nil,
                                    newNetworkNamespace: namespaces.newNetworkNamespace,
                                    inCgroupNamespace: namespaces.createsCgroupNamespace || namespaces.joins["cgroup"] != nil)
        var pidFileWritten = false
        let pid: Int32
        do {
            // The state and the pid file are written while the init builds its root (on
            // another core), not after: a failed create still removes them.
            pid = try launch(InitPlan(kind: .container(rootfs: builder, execFifo: fifo), setup: setup,
                                      namespaces: namespaces, joins: [], consoleSocket: nil, preserveFds: options.preserveFds,
                                      sync: try SyncChannel.make()),
                             consoleSocketPath: options.consoleSocket, cgroup: cgroup, cleanup: &cleanup,
                             whileChildPrepares: { pid in
                                 try saveState(id: id, pid: pid, bundle: bundle, rootfs: rootfs, cgroup: cgroup, seccompFilter: setup.seccomp,
                                               config: specBytes)
                                 if let pidFile = options.pidFile {
                                     try writePidFile(pidFile, pid)
                                     pidFileWritten = true
                                 }
                             })
        } catch {
            if pidFileWritten, let pidFile = options.pidFile { unlink(pidFile) }
            throw error
        }
        cleanup.cancel()
        return pid
    }

    /// The runtime's record of a container being created (see SavedContainer).
    private func saveState(id: String, pid: Int32, bundle: String, rootfs: String, cgroup: CgroupManager,
                           seccompFilter: SeccompFilter?, config: [UInt8]) throws {
        guard let info = HostProcess.stat(pid: pid) else { throw ConfigError("container init exited during create") }
        // The config as read (later changes to the bundle do not count), and the program
        // linked from the cache when it is there: neither is encoded again.
        var seccomp = SavedContainer.SeccompSource.unconfined
        if let filter = seccompFilter {
            seccomp = .config
            if let program = filter.compiledProgram {
                try store.saveSeccompProgram(program, linkingFrom: filter.cachedProgramPath, id: id)
                seccomp = .program
            }
        }
        try store.save(SavedContainer(id: id, bundle: bundle, rootfs: rootfs, pid: pid, pidStartTime: info.startTime,
                                      created: rfc3339Now(), owner: "", cgroupPaths: cgroup.paths, seccomp: seccomp),
                       config: config)
    }

    /// Lets a created container exec its process.
    public func start(id: String) throws {
        try ContainerStore.validate(id: id)
        // Only the waiting init reads the fifo: when it opens for writing, that init is there
        // and waiting, and nothing needs reading from the state (a JSON decode of the whole
        // config, on the way to every container's first instruction). A missing fifo or one
        // without its reader is told apart from the state below.
        let waiting = open(store.execFifo(id), O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        if waiting >= 0 {
            try release(fifo: waiting, id: id)
            return
        }
        let container = try store.load(id)
        let status = store.status(of: container, cgroup: try? openCgroupManager(paths: container.cgroupPaths))
        guard status == .created else {
            throw ConfigError(status == .stopped ? "container \"\(id)\" is not running" : "cannot start a container that has already started")
        }
        let fifo = open(store.execFifo(id), O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        if fifo < 0 { throw SystemError("open exec fifo (the container's init is gone)") }
        try release(fifo: fifo, id: id)
    }

    /// The byte the init waits for; the fifo goes, which marks the container started.
    private func release(fifo: Int32, id: String) throws {
        var byte: UInt8 = 0
        let written = write(fifo, &byte, 1)
        close(fifo)
        guard written == 1 else { throw SystemError("write exec fifo") }
        unlink(store.execFifo(id))
    }

    /// create + start + wait, then delete; returns the exit status as a shell would (128+signal).
    public func run(id: String, options: CreateOptions, detach: Bool, keep: Bool = false) throws -> Int32 {
        let pid = try create(id: id, options: options)
        do { try start(id: id) } catch {
            try? delete(id: id, force: true)
            throw error
        }
        if detach { return 0 }
        let status = SignalForwarder.wait(for: pid)
        if !keep { try? delete(id: id, force: true) }
        return status
    }

    // MARK: - exec

    public struct ExecOptions {
        public var process: Spec.Process
        public var detach: Bool
        public var pidFile: String?
        public var consoleSocket: String?
        public var preserveFds: Int32
        public init(process: Spec.Process, detach: Bool, pidFile: String? = nil, consoleSocket: String? = nil,
                    preserveFds: Int32 = 0) {
            self.process = process
            self.detach = detach
            self.pidFile = pidFile
            self.consoleSocket = consoleSocket
            self.preserveFds = preserveFds
        }
    }

    /// The container's process template, for `exec` given only args.
    public func processTemplate(id: String) throws -> Spec.Process {
        guard let process = try store.loadConfig(id).process else { throw ConfigError("container \(id) has no process") }
        return process
    }

    /// Runs a new process in every namespace and the cgroup of a running container.
    /// Returns its exit status, or 0 at once with `detach`.
    public func exec(id: String, options: ExecOptions) throws -> Int32 {
        let container = try store.load(id)
        let cgroup = try openCgroupManager(paths: container.cgroupPaths)
        let status = store.status(of: container, cgroup: cgroup)
        guard status == .running || status == .created else {
            throw ConfigError(status == .paused ? "cannot exec in a paused container" : "cannot exec in a stopped container")
        }
        if options.process.terminal == true && options.consoleSocket == nil {
            throw ConfigError("cannot allocate tty if runc will detach without setting console socket")
        }
        let setup = try ProcessSetup(process: options.process, seccompFilter: try seccompFilter(of: container))
        // Join every namespace of the init that differs from ours.
        var joinSpecs: [Spec.Namespace] = []
        for (type, file) in NamespacePlan.procNames.sorted(by: { $0.key < $1.key }) {
            let theirs = "/proc/\(container.pid)/ns/\(file)"
            guard let their = namespaceInode(theirs), their != namespaceInode("/proc/self/ns/\(file)") else { continue }
            joinSpecs.append(.init(type: type, path: theirs))
        }
        let namespaces = try NamespacePlan(joinSpecs)
        let joins = try namespaces.openJoins()
        defer { joins.forEach { close($0.fd) } }
        // The pid namespace applies to our children: join it here, before the clone.
        for (type, fd) in joins where type == "pid" {
            try check("setns pid", berth_setns(fd, Int32(BERTH_CLONE_NEWPID)))
        }
        var cleanup = Cleanup()
        defer { cleanup.run() }
        let pid = try launch(InitPlan(kind: .exec, setup: setup, namespaces: namespaces,
                                      joins: joins, consoleSocket: nil, preserveFds: options.preserveFds,
                                      sync: try SyncChannel.make()),
                             consoleSocketPath: options.consoleSocket, cgroup: cgroup, cleanup: &cleanup)
        if let pidFile = options.pidFile { try writePidFile(pidFile, pid) }
        cleanup.cancel()
        if options.detach { return 0 }
        return SignalForwarder.wait(for: pid)
    }

    /// The filter of the container's own process, which every exec gets too.
    private func seccompFilter(of container: SavedContainer) throws -> SeccompFilter? {
        switch container.seccomp {
        case .unconfined?: return nil
        case .program?: return SeccompFilter(program: try store.loadSeccompProgram(container.id))
        case .config?, nil: return try store.loadConfig(container.id).linux?.seccomp.map { try SeccompFilter($0) }
        }
    }

    // MARK: - the clone and handshake shared by create and exec

    /// `whileChildPrepares`: the parent's own work, done once the child is told to go on and
    /// before its "ready" is awaited.
    private func launch(_ plan: InitPlan, consoleSocketPath: String?, cgroup: CgroupManager,
                        cleanup: inout Cleanup, whileChildPrepares: (Int32) throws -> Void = { _ in }) throws -> Int32 {
        var plan = plan
        defer { close(plan.sync.parentEnd) }
        if let path = consoleSocketPath {
            plan.consoleSocket = try Console.connect(socketPath: path)
        }
        defer { if let fd = plan.consoleSocket { close(fd) } }
        if case .container = plan.kind {
            plan.joins = try plan.namespaces.openJoins()
            for (type, fd) in plan.joins where type == "pid" {
                try check("setns pid", berth_setns(fd, Int32(BERTH_CLONE_NEWPID)))
            }
        }
        defer { if case .container = plan.kind { plan.joins.forEach { close($0.fd) } } }
        // Without a user namespace (whose root cannot write the host's cgroup files until it
        // is mapped), the child moves itself into the v1 hierarchies: much cheaper than a
        // move by pid. It is born in its cgroup2 cgroup.
        if !plan.namespaces.newUserNamespace { plan.cgroupSelfJoin = cgroup.selfJoinFiles }
        let cgroup2 = cgroup.cgroup2Directory.map { open($0, Int32(BERTH_O_PATH) | O_DIRECTORY | O_CLOEXEC) } ?? -1
        defer { if cgroup2 >= 0 { close(cgroup2) } }
        var bornInCgroup2 = false
        fflush(nil)
        let pid = berth_clone(UInt64(UInt32(bitPattern: plan.namespaces.createFlags)), cgroup2, &bornInCgroup2)
        if pid < 0 {
            close(plan.sync.childEnd)
            throw SystemError("clone")
        }
        if pid == 0 { plan.runChild() }
        close(plan.sync.childEnd)
        cleanup.add {
            Glibc.kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        // Only a container's init makes a user namespace (an exec joins it).
        if case .container(let rootfs, _) = plan.kind, plan.namespaces.newUserNamespace {
            try writeIDMaps(pid: pid, spec: rootfs.spec)
        }
        do {
            if plan.cgroupSelfJoin.isEmpty {
                try cgroup.addProcess(pid, exceptCgroup2: bornInCgroup2)
            } else if !bornInCgroup2, let directory = cgroup.cgroup2Directory {
                try CgroupFile.write(directory, "cgroup.procs", String(pid))
            }
        } catch {
            // The child may have failed while building its root (and gone): its reason is
            // the one to tell.
            if let reply = SyncChannel.receive(plan.sync.parentEnd, wait: false), reply.hasPrefix("error ") {
                throw ConfigError(String(reply.dropFirst(6)))
            }
            throw error
        }
        SyncChannel.send(plan.sync.parentEnd, "go")
        do {
            try whileChildPrepares(pid)
        } catch {
            // A child that failed meanwhile has the reason to tell.
            if let reply = SyncChannel.receive(plan.sync.parentEnd, wait: false), reply.hasPrefix("error ") {
                throw ConfigError(String(reply.dropFirst(6)))
            }
            throw error
        }
        guard let reply = SyncChannel.receive(plan.sync.parentEnd) else {
            throw ConfigError("container init exited before it was ready")
        }
        if reply.hasPrefix("error ") { throw ConfigError(String(reply.dropFirst(6))) }
        guard reply == "ready" else { throw ConfigError("unexpected message from container init: \(reply)") }
        return pid
    }

    private func writeIDMaps(pid: Int32, spec: Spec) throws {
        func render(_ maps: [Spec.IDMapping]?) -> String {
            (maps ?? []).map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined()
        }
        guard let uids = spec.linux?.uidMappings, !uids.isEmpty, let gids = spec.linux?.gidMappings, !gids.isEmpty else {
            throw ConfigError("a user namespace needs uidMappings and gidMappings")
        }
        try FileSystem.writeFile("/proc/\(pid)/uid_map", render(uids))
        try FileSystem.writeFile("/proc/\(pid)/gid_map", render(gids))
    }

    // MARK: - state, kill, delete, pause, resume, update, ps, list

    public func state(id: String) throws -> ContainerState {
        let container = try store.load(id)
        let status = store.status(of: container, cgroup: try? openCgroupManager(paths: container.cgroupPaths))
        let config = try store.loadConfig(id)
        return ContainerState(ociVersion: config.ociVersion, id: id,
                              pid: status == .stopped ? 0 : container.pid, status: status.rawValue,
                              bundle: container.bundle, rootfs: container.rootfs, created: container.created,
                              owner: container.owner, annotations: config.annotations)
    }

    public func list() -> [ContainerState] {
        store.list().compactMap { try? state(id: $0) }
    }

    public func kill(id: String, signal: Int32, all: Bool) throws {
        let container = try store.load(id)
        let cgroup = try? openCgroupManager(paths: container.cgroupPaths)
        let status = store.status(of: container, cgroup: cgroup)
        guard status != .stopped else { throw ConfigError("container not running") }
        if all, let cgroup {
            try cgroup.killAll(signal: signal)
            if status == .paused, signal == SIGKILL { try? cgroup.thaw() }
        } else {
            try check("kill \(container.pid)", Glibc.kill(container.pid, signal))
        }
    }

    public func delete(id: String, force: Bool) throws {
        let container: SavedContainer
        do { container = try store.load(id) } catch {
            // A half-created container (crash during create) has no state file: remove what is there.
            if store.exists(id) && force {
                store.remove(id)
                return
            }
            throw error
        }
        let cgroup = try? openCgroupManager(paths: container.cgroupPaths)
        let status = store.status(of: container, cgroup: cgroup)
        if status != .stopped {
            guard force else {
                throw ConfigError("cannot delete container \(id) that is not stopped: \(status.rawValue)")
            }
            if let cgroup {
                try? cgroup.killAll(signal: SIGKILL)
                try? cgroup.thaw()
            }
            _ = Glibc.kill(container.pid, SIGKILL)
            try waitUntilGone(container, cgroup: cgroup)
        } else if let cgroup, let leftovers = try? cgroup.processes(), !leftovers.isEmpty {
            // The init has exited, but with a host pid namespace its children may live on.
            try? cgroup.killAll(signal: SIGKILL)
            try waitUntilGone(container, cgroup: cgroup)
        }
        try cgroup?.destroy()
        store.remove(id)
    }

    private func waitUntilGone(_ container: SavedContainer, cgroup: CgroupManager?) throws {
        for _ in 0..<2000 {
            let initGone = !HostProcess.isAlive(pid: container.pid, startTime: container.pidStartTime)
            let cgroupEmpty = (try? cgroup?.processes().isEmpty) ?? true
            if initGone && cgroupEmpty != false { return }
            usleep(5000)
        }
        throw ConfigError("container \(container.id) did not exit after SIGKILL")
    }

    public func pause(id: String) throws {
        let (container, cgroup) = try loadWithCgroup(id)
        let status = store.status(of: container, cgroup: cgroup)
        guard status == .running || status == .created else { throw ConfigError("container not running") }
        try cgroup.freeze()
    }

    public func resume(id: String) throws {
        let (container, cgroup) = try loadWithCgroup(id)
        guard store.status(of: container, cgroup: cgroup) == .paused else { throw ConfigError("container not paused") }
        try cgroup.thaw()
    }

    public func update(id: String, resources: Spec.Resources) throws {
        let (container, cgroup) = try loadWithCgroup(id)
        guard store.status(of: container, cgroup: cgroup) != .stopped else { throw ConfigError("container not running") }
        try cgroup.apply(resources)
        var config = try store.loadConfig(id)
        var linux = config.linux ?? Spec.Linux()
        linux.resources = ResourcesUpdate.merge(resources, into: linux.resources)
        config.linux = linux
        try store.save(container, config: Array(JSONEncoder().encode(config)))
    }

    public func processes(id: String) throws -> [Int32] {
        let (_, cgroup) = try loadWithCgroup(id)
        return try cgroup.processes().sorted()
    }

    private func loadWithCgroup(_ id: String) throws -> (SavedContainer, CgroupManager) {
        let container = try store.load(id)
        return (container, try openCgroupManager(paths: container.cgroupPaths))
    }

    // MARK: - helpers

    /// The config, its bytes, and the text of its seccomp profile: the profile is left out of
    /// the decode when it can be found in the text (see JSONMemberScan).
    private func loadSpec(bundle: String) throws -> (Spec, [UInt8], seccompText: [UInt8]?) {
        guard let bytes = FileSystem.readBytes(bundle + "/config.json") else {
            throw SystemError("open \(bundle)/config.json")
        }
        var decoded = bytes
        var seccompText: [UInt8]?
        if let range = JSONMemberScan.valueRange(at: ["linux", "seccomp"], in: bytes) {
            let null = Array("null".utf8)
            if !bytes[range].elementsEqual(null) { seccompText = Array(bytes[range]) }
            decoded.replaceSubrange(range, with: null)
        }
        do {
            return (try Spec(json: JSONValue.parse(decoded)), bytes, seccompText)
        } catch {
            throw ConfigError("config.json: \(error)")
        }
    }

    private func absolutePath(_ path: String) throws -> String {
        if path.hasPrefix("/") { return path }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        guard getcwd(&buffer, buffer.count) != nil else { throw SystemError("getcwd") }
        let cwd = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return path == "." || path.isEmpty ? cwd : cwd + "/" + path
    }

    private func writePidFile(_ path: String, _ pid: Int32) throws {
        let temp = path + ".tmp"
        try FileSystem.writeFile(temp, String(pid), flags: O_WRONLY | O_CREAT | O_TRUNC)
        try check("rename \(temp)", rename(temp, path))
    }
}

/// Undo steps run in reverse unless cancelled: what a failed create must not leave behind.
struct Cleanup {
    private var steps: [() -> Void] = []
    mutating func add(_ step: @escaping () -> Void) { steps.append(step) }
    mutating func cancel() { steps.removeAll() }
    mutating func run() {
        for step in steps.reversed() { step() }
        steps.removeAll()
    }
}
