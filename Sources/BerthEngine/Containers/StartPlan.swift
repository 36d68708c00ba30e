import BerthNetwork
import BerthOCI
import BerthRuntime
import BerthStore
import FoundationEssentials
import Glibc

/// Everything a start needs done on disk before the shim runs: the root mounted, the
/// generated /etc files, the OCI bundle. Made in the actor, carried out off it.
struct StartPlan: Sendable {
    let record: ContainerRecord
    let hostConfig: HostConfig
    let paths: ContainerPaths
    let settings: ContainerDefaults
    let log: LogSettings
    /// The pid of a running container, for `container:<name>` namespace modes.
    let peerPid: @Sendable (String) throws -> Int32
    /// The network namespace and addresses made by the network service (nil: a fresh
    /// namespace from the runtime, loopback only).
    var sandbox: Sandbox?
    /// Where the container's volumes are (nil: it has none to mount).
    var volumes: VolumeStore?
    /// Legacy `--link` /etc/hosts lines and environment.
    var links: (hosts: [String], env: [String]) = ([], [])
    /// Where /dev/shm comes from (ContainerService.ipcShm).
    var ipcShm = IPCShm.own

    init(record: ContainerRecord, hostConfig: HostConfig, paths: ContainerPaths, settings: ContainerDefaults,
         peerPid: @escaping @Sendable (String) throws -> Int32) throws {
        self.record = record
        self.hostConfig = hostConfig
        self.paths = paths
        self.settings = settings
        self.peerPid = peerPid
        log = try LogSettings(hostConfig.LogConfig, defaults: settings)
    }

    var bundle: String { paths.shimDirectory(record.ID) }

    /// The shim's options. Fails as dockerd's log driver fails to start: a `tag` template it
    /// cannot render, the journald driver without journald (its output would be lost). Makes the
    /// local driver's directory, as dockerd's does when its logger starts.
    func shimOptions() throws(BerthError) -> ShimLauncher.Options {
        let logFile = paths.logFile(record.ID, driver: log.driver)
        if log.driver == "local", mkdir(paths.localLogDirectory(record.ID), 0o700) != 0, errno != EEXIST {
            throw BerthError.internalError("error creating local logs dir: \(goErrorText(errno))")
        }
        var tag: String?
        var fields: [String: String] = [:]
        if log.driver == "journald" {
            let options = LogSettings.merged(hostConfig.LogConfig, defaults: settings).Config ?? [:]
            fields = LogAttributes.journalFields(LogAttributes.make(options: options, labels: record.Config.Labels ?? [:],
                                                                    environment: record.Config.Env ?? []))
            do {
                tag = try LogTag(record: record).render(log.tag)
            } catch {
                throw BerthError.internalError("failed to create task for container: failed to initialize logging driver: \(error.message)")
            }
            guard JournaldSocket.isListening() else {
                throw BerthError.internalError(
                    "failed to create task for container: failed to initialize logging driver: journald is not enabled on this host")
            }
        }
        var remoteArguments: [String] = []
        var cacheRotation: LogSettings?
        if let remote = log.remote {
            let options = LogSettings.merged(hostConfig.LogConfig, defaults: settings).Config ?? [:]
            do {
                let tag = try LogTag(record: record).render(log.tag)
                let attributes = LogAttributes.make(options: options, labels: record.Config.Labels ?? [:],
                                                    environment: record.Config.Env ?? [])
                remoteArguments = try remote.shimArguments(options: options, tag: tag, attributes: attributes, record: record)
                if log.cached { cacheRotation = try LogCache.rotation(options, defaults: settings) }
            } catch {
                let message = error.message
                throw BerthError.internalError(message.hasPrefix(ShimLauncher.logDriverFailure) ? message : ShimLauncher.logDriverFailure + message)
            }
        }
        let tty = record.Config.Tty ?? false
        if let cacheRotation {
            return ShimLauncher.Options(
                id: record.ID, bundle: bundle, tty: tty, stdin: record.Config.OpenStdin ?? false,
                stdinOnce: (record.Config.StdinOnce ?? false) && !tty, logDriver: log.driver, logPath: paths.logCacheFile(record.ID),
                logMaxSize: cacheRotation.maxSize, logMaxFiles: cacheRotation.maxFiles, logCompress: cacheRotation.compress,
                containerName: record.bareName, imageName: record.Config.Image ?? record.Image,
                remoteLogArguments: remoteArguments, logCache: true)
        }
        return ShimLauncher.Options(
            id: record.ID, bundle: bundle, tty: tty, stdin: record.Config.OpenStdin ?? false,
            stdinOnce: (record.Config.StdinOnce ?? false) && !tty, logDriver: log.driver, logPath: logFile ?? "",
            logMaxSize: log.maxSize, logMaxFiles: log.maxFiles, logCompress: log.compress, containerName: record.bareName,
            imageName: record.Config.Image ?? record.Image, logTag: tag, logFields: fields, remoteLogArguments: remoteArguments)
    }

    /// Mounts the root with what dockerd's init layer holds and the working directory; on
    /// failure leaves nothing mounted. Needs nothing of the network: it is done meanwhile.
    func mountRoot(images: ImageStore) throws -> String {
        // A start cut short before (its shim or runtime killed) may have left the runtime's
        // container, which would refuse this one's create.
        ContainerRoot.deleteRuntimeLeftovers(record.ID, cgroupsPath: cgroupsPath, runtimeRoot: paths.runtimeRoot)
        guard let parent = try images.topLayer(record.Image) else {
            throw BerthError.internalError("the image of container \(record.ID) has no layers")
        }
        let rootfs = try ContainerRoot.mount(record.ID, parent: parent, snapshotter: images.snapshotter)
        do {
            try prepareRoot(rootfs)
        } catch {
            ContainerRoot.unmount(record.ID, snapshotter: images.snapshotter)
            throw error
        }
        return rootfs
    }

    /// Writes the generated /etc files and the bundle for the mounted root; on failure leaves
    /// nothing mounted. Returns what execs into this run start from.
    func writeBundle(rootfs: String, images: ImageStore) throws -> ExecTemplate {
        do {
            try writeEtcFiles()
            let imageBinds = try ImageMounts.mount(record.ImageMounts ?? [], of: record.ID, images: images)
            let spec = try makeSpec(rootfs: rootfs, shmPath: try shmPath(images: images), imageBinds: imageBinds)
            // A fresh directory; what a previous run left in it goes first.
            if mkdir(bundle, 0o700) != 0 {
                try? FileManager.default.removeItem(atPath: bundle)
                try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            }
            try writeAtomically(BundleConfig.encode(spec), to: bundle + "/config.json", durable: false)
            return try ExecTemplate(spec)
        } catch {
            ContainerRoot.unmount(record.ID, snapshotter: images.snapshotter)
            throw error
        }
    }

    /// After a launch that failed: the root, and what a shim or runtime that died mid-create
    /// left of the runtime's container.
    func undo(images: ImageStore) {
        ContainerRoot.deleteRuntimeLeftovers(record.ID, cgroupsPath: cgroupsPath, runtimeRoot: paths.runtimeRoot)
        ContainerRoot.unmount(record.ID, snapshotter: images.snapshotter)
    }

    /// What dockerd's init layer holds (InitLayerFiles: /.dockerenv, /etc/mtab, mount points)
    /// and the working directory, created if the image lacks them.
    private func prepareRoot(_ rootfs: String) throws {
        InitLayerFiles.make(inRoot: rootfs)
        if let workingDir = record.Config.WorkingDir, !workingDir.isEmpty, workingDir != "/" {
            let target = ScopedPath.resolve(workingDir, inRoot: rootfs)
            var isDirectory = false
            if FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory), !isDirectory {
                throw BerthError.invalidArgument("Cannot mkdir: \(workingDir) is not a directory")
            }
            if !FileManager.default.fileExists(atPath: target) {
                try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o755])
            }
        }
    }

    private func writeEtcFiles() throws {
        // The peer's files, which it keeps up to date (see adoptNetworkPeerFiles).
        if hostConfig.NetworkMode?.hasPrefix("container:") == true { return }
        let hostNetwork = hostConfig.NetworkMode == "host"
        let hostname = hostNetwork ? SystemInfo.hostname : (record.Config.Hostname ?? record.shortID)
        let hosts = hostNetwork
            ? try ContainerFiles.hostsForHostNetwork(hostFile: (try? String(contentsOfFile: "/etc/hosts", encoding: .utf8)) ?? "",
                                                     extraHosts: hostConfig.ExtraHosts, hostGateway: sandbox?.hostGateway)
            : try ContainerFiles.hosts(hostname: hostname, domainname: record.Config.Domainname,
                                       extraHosts: hostConfig.ExtraHosts, hostGateway: sandbox?.hostGateway,
                                       containerAddresses: sandbox?.addresses ?? [], linkLines: links.hosts)
        let resolvConf = Self.resolvConf(hostConfig, nameserver: sandbox?.nameserver)
        try writeAtomically(Data(ContainerFiles.hostname(hostname).utf8), to: record.HostnamePath, durable: false)
        try writeAtomically(Data(hosts.utf8), to: record.HostsPath, durable: false)
        try writeAtomically(Data(resolvConf.utf8), to: record.ResolvConfPath, durable: false)
        for path in [record.HostnamePath, record.HostsPath, record.ResolvConfPath] { chmod(path, 0o644) }
    }

    /// The container's /etc/resolv.conf, from the host's: on a user network its embedded DNS
    /// server answers, and forwards other names (to the --dns servers when given).
    static func resolvConf(_ hostConfig: HostConfig, nameserver: String?) -> String {
        let etcResolvConf = (try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? ""
        let source = ContainerFiles.resolvConfSource(etcResolvConf: etcResolvConf)
        let hostFile = source == "/etc/resolv.conf" ? etcResolvConf : ((try? String(contentsOfFile: source, encoding: .utf8)) ?? "")
        if let nameserver {
            // As dockerd's file for its embedded server: ndots:0 unless an ndots is asked for.
            var options = hostConfig.DnsOptions ?? []
            if options.isEmpty { options = ContainerFiles.lastFields(of: "options", in: hostFile) }
            if !options.contains(where: { $0.hasPrefix("ndots:") }) { options.append("ndots:0") }
            return ContainerFiles.resolvConf(hostFile: hostFile, dns: [nameserver], dnsSearch: hostConfig.DnsSearch,
                                             dnsOptions: options)
        }
        return ContainerFiles.resolvConf(hostFile: hostFile, dns: hostConfig.Dns, dnsSearch: hostConfig.DnsSearch,
                                         dnsOptions: hostConfig.DnsOptions, hostNetwork: hostConfig.NetworkMode == "host")
    }

    /// linux.cgroupsPath of the run.
    var cgroupsPath: String { Self.cgroupsPath(record.ID, hostConfig: hostConfig, settings: settings) }

    /// `--cgroup-parent` of the container, else the daemon's, and the ID.
    static func cgroupsPath(_ id: String, hostConfig: HostConfig?, settings: ContainerDefaults) -> String {
        guard let parent = hostConfig?.CgroupParent, !parent.isEmpty else { return settings.cgroupParent + "/" + id }
        return (parent.hasPrefix("/") ? parent : "/" + parent) + "/" + id
    }

    /// The host directory bound at /dev/shm, mounting a shareable container's tmpfs first.
    private func shmPath(images: ImageStore) throws -> String? {
        switch ipcShm {
        case .own: return nil
        case .host: return "/dev/shm"
        case .peer(let path): return path
        case .shareable:
            let size = (hostConfig.ShmSize ?? 0) > 0 ? hostConfig.ShmSize! : 64 << 20
            return try ContainerRoot.mountShm(record.ID, size: size, snapshotter: images.snapshotter)
        }
    }

    private func makeSpec(rootfs: String, shmPath: String?, imageBinds: [Spec.Mount]) throws -> Spec {
        var config = record.Config
        if !links.env.isEmpty { config.Env = links.env + (config.Env ?? []) }
        var input = SpecBuildInput(
            containerID: record.ID, config: config, hostConfig: hostConfig, rootfsPath: rootfs,
            hostnamePath: record.HostnamePath, hostsPath: record.HostsPath, resolvConfPath: record.ResolvConfPath,
            initPath: settings.initPath, cgroupV2: settings.host.cgroupV2,
            cgroupsPath: cgroupsPath, defaults: settings.specDefaults,
            containerPID: peerPid)
        input.networkNamespacePath = sandbox?.namespacePath
        input.shmPath = shmPath
        input.daemonRoot = paths.dataRoot
        input.readOnlyNonRecursiveBinds = record.ReadOnlyNonRecursiveBinds == true
        if let volumes, let mounts = record.VolumeMounts {
            input.volumeMounts = try ContainerService.volumeSpecMounts(mounts, of: record.ID, store: volumes, rootfs: rootfs)
        }
        input.volumeMounts += (record.InheritedBinds ?? []).map(\.specMount) + imageBinds
        let built = try SpecBuilder.build(input)
        // `-v /missing:/x` makes the host directory, as dockerd does for binds.
        for directory in built.hostDirectoriesToCreate {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        return built.spec
    }
}
