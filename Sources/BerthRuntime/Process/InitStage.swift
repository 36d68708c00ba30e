import BerthOCI
import CSystemShims
import Glibc

/// What a cloned child needs to become the container's process. Built in the parent, before
/// clone, so every input error is reported before anything runs; the child inherits it in its
/// copy of memory.
struct InitPlan {
    enum Kind {
        /// The container's first process: new namespaces, rootfs, then wait for `start`.
        case container(rootfs: RootfsBuilder, execFifo: Int32)
        /// A process joining a running container.
        case exec
    }

    var kind: Kind
    var setup: ProcessSetup
    var namespaces: NamespacePlan
    var joins: [(type: String, fd: Int32)]
    var consoleSocket: Int32?
    var preserveFds: Int32
    var sync: SyncChannel
    /// Set by the parent before the clone: the cgroup files the child moves itself in with
    /// (see CgroupManager.selfJoinFiles); empty when the parent moves it.
    var cgroupSelfJoin: [String] = []

    /// The child side: runs in the cloned process and never returns.
    func runChild() -> Never {
        close(sync.parentEnd)
        // Keep only what the init needs: the caller's other descriptors (pipes it waits on
        // for EOF, among them) must not stay open while the container waits for `start`.
        var keep = [sync.childEnd] + joins.map(\.fd) + Array(3..<(3 + preserveFds))
        if let consoleSocket { keep.append(consoleSocket) }
        if case .container(_, let fifo) = kind { keep.append(fifo) }
        _ = berth_close_fds_except(3, keep, Int32(keep.count))
        // The container starts with default signal handling, whatever its caller had ignored
        // or blocked (both survive execve).
        berth_reset_signals()
        var heardGo = false
        do {
            // Until the parent has seen us ready, we die with it; nobody can ptrace or read our
            // memory through /proc (the host's runtime binary is still mapped here).
            try check("prctl(PR_SET_PDEATHSIG)", berth_set_pdeathsig(SIGKILL))
            try check("prctl(PR_SET_DUMPABLE)", berth_set_dumpable(0))
            for file in cgroupSelfJoin { try FileSystem.writeFile(file, "0", flags: O_WRONLY) }
            // The root is built while the parent, where it must move us itself, places us in
            // our cgroups (a move by pid waits out an RCU grace period, 5-15 ms) — unless a user
            // namespace must be mapped first, or a cgroup namespace rooted at our own cgroup.
            var rootBuilt = false
            if case .container(let rootfs, _) = kind, !namespaces.newUserNamespace, !namespaces.createsCgroupNamespace {
                try NamespacePlan.join(joins)
                try buildRoot(rootfs)
                rootBuilt = true
            }
            guard SyncChannel.receive(sync.childEnd) == "go" else { _exit(1) }
            heardGo = true
            if !rootBuilt { try NamespacePlan.join(joins) }
            switch kind {
            case .container(let rootfs, let fifo):
                if !rootBuilt { try buildRoot(rootfs) }
                try finishInit()
                let path = try setup.resolveExecutable()
                try reportReady()
                try waitForStart(fifo)
                try setup.exec(path: path, keepingFdsBelow: 3 + preserveFds)
            case .exec:
                try becomeExecProcess()
                let path = try setup.resolveExecutable()
                try reportReady()
                try setup.exec(path: path, keepingFdsBelow: 3 + preserveFds)
            }
        } catch {
            // A "go" left unread when we exit would reset the parent's end, and the parent
            // would then read the reset instead of our reason: take it first.
            if !heardGo { _ = SyncChannel.receive(sync.childEnd) }
            SyncChannel.send(sync.childEnd, "error \(error)")
            _exit(1)
        }
    }

    /// Tells the parent we are set up. The parent may exit as soon as it hears it, so dying
    /// with it stops first; a parent already gone makes the send fail, and we end then.
    private func reportReady() throws {
        _ = berth_set_pdeathsig(0)
        guard SyncChannel.send(sync.childEnd, "ready") else {
            throw ConfigError("the runtime went away before the container was ready")
        }
        close(sync.childEnd)
    }

    /// Everything of the container's init up to its identity: namespaces entered, root
    /// mounted and pivoted into, console, sysctls, names.
    private func buildRoot(_ rootfs: RootfsBuilder) throws {
        if namespaces.newUserNamespace {
            try check("setresgid 0", berth_setresgid(0, 0, 0))
            try check("setresuid 0", berth_setresuid(0, 0, 0))
        }
        // Unshared only now, so that the namespace's root is the container's own cgroup.
        if namespaces.createsCgroupNamespace {
            try check("unshare cgroup namespace", berth_unshare(Int32(BERTH_CLONE_NEWCGROUP)))
        }
        _ = setsid()
        // A network namespace of its own starts with loopback down; Docker's containers,
        // `--network none` ones too, have it up.
        if namespaces.newNetworkNamespace { try check("bring loopback up", berth_loopback_up()) }
        try rootfs.prepare()
        try rootfs.pivot()
        if let consoleSocket {
            try Console.setUp(consoleSocket: consoleSocket, size: rootfs.spec.process?.consoleSize, bindConsole: true)
            close(consoleSocket)
        }
        try setSysctls(rootfs.spec)
        try rootfs.finish()
        try setNames(rootfs.spec)
    }

    /// The rest, once the parent has placed us in our cgroups.
    private func finishInit() throws {
        try setup.rlimits.apply()
        try setOOMScore()
        try setup.applyIdentity()
    }

    private func becomeExecProcess() throws {
        if let consoleSocket {
            _ = setsid()
            try Console.setUp(consoleSocket: consoleSocket, size: setup.process.consoleSize, bindConsole: false)
            close(consoleSocket)
        }
        try setup.rlimits.apply()
        try setup.applyIdentity()
    }

    private func setNames(_ spec: Spec) throws {
        let ownsUTS = namespaces.creates.contains("uts")
        if let hostname = spec.hostname, !hostname.isEmpty {
            guard ownsUTS else { throw ConfigError("unable to set hostname without a private UTS namespace") }
            try check("sethostname", berth_sethostname(hostname))
        }
        if let domainname = spec.domainname, !domainname.isEmpty {
            guard ownsUTS else { throw ConfigError("unable to set domainname without a private UTS namespace") }
            try check("setdomainname", berth_setdomainname(domainname))
        }
    }

    private func setSysctls(_ spec: Spec) throws {
        for (key, value) in (spec.linux?.sysctl ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard !key.isEmpty, !key.contains("/") else { throw ConfigError("invalid sysctl \(key)") }
            let path = "/proc/sys/" + key.replacing(".", with: "/")
            try FileSystem.writeFile(path, value)
        }
    }

    private func setOOMScore() throws {
        guard let score = setup.process.oomScoreAdj else { return }
        try FileSystem.writeFile("/proc/self/oom_score_adj", String(score))
    }

    /// Blocks until `start` writes to the exec fifo (poll sees no hang-up before a writer came).
    private func waitForStart(_ fifo: Int32) throws {
        var pollfd = Glibc.pollfd(fd: fifo, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&pollfd, 1, -1)
            if ready < 0 && errno == EINTR { continue }
            if ready < 0 { throw SystemError("wait for start") }
            break
        }
        var byte: UInt8 = 0
        guard read(fifo, &byte, 1) == 1 else { throw SystemError("read exec fifo") }
        close(fifo)
    }
}
