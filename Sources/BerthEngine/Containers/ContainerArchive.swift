import BerthOCI
import BerthStore
import FoundationEssentials
import Glibc

extension ContainerService {
    /// The path in the container, resolved (the last element followed only after "/"), and
    /// its stat (`HEAD /containers/{id}/archive`).
    struct ResolvedPath {
        /// dockerd's resolvedPath: the directory resolved in the root, plus the base.
        let resolved: String
        let stat: PathStat
    }

    static func resolve(_ path: ArchivePath, in root: ScopedRoot, notFound: @autoclosure () -> BerthError) throws -> ResolvedPath {
        let directory = root.canonical(path.directory)
        var info = stat()
        do {
            if path.base.isEmpty || path.base == "." {
                let fd = try root.open(directory, flags: O_PATH_ | O_DIRECTORY)
                defer { close(fd) }
                fstat(fd, &info)
            } else {
                info = try root.lstat(directory + "/" + path.base)
            }
        } catch {
            // Only a missing file is "not found" (Go's os.IsNotExist); a file where a directory
            // should be is the lstat's own error, as dockerd words it (500).
            if error.errno == ENOENT { throw notFound() }
            throw BerthError.internalError("lstat \(path.absolute): \(goErrorText(error.errno))")
        }
        let resolved = path.base.isEmpty ? directory : (directory == "/" ? "/" : directory + "/") + path.base
        let isLink = (info.st_mode & S_IFMT) == S_IFLNK
        // A link is followed to its end for linkTarget; one that loops fails the stat (500), as in dockerd.
        var linkTarget = ""
        if isLink {
            do { linkTarget = try root.canonicalTarget(path.absolute) } catch { throw BerthError.internalError(error.description) }
        }
        let stat = PathStat(name: path.name, size: Int64(info.st_size), mode: PathStat.goFileMode(UInt32(info.st_mode)),
                            mtime: (Int64(info.st_mtim.tv_sec), Int64(info.st_mtim.tv_nsec)), linkTarget: linkTarget)
        return ResolvedPath(resolved: resolved, stat: stat)
    }

    static func checkArchivePath(_ path: String?) throws -> ArchivePath {
        // Current dockerd's words (20.10's read "pathcannot").
        // dockerd's words, its missing space too.
        guard let path, !path.isEmpty else { throw BerthError.invalidArgument("bad parameter: pathcannot be empty") }
        return ArchivePath(path)
    }

    static func missingFile(_ path: String, _ container: String) -> BerthError {
        .notFound("Could not find the file \(path) in container \(container)")
    }

    /// The container's file system for one copy. dockerd mounts the container's volumes for
    /// each copy request (HEAD, GET, PUT), running or not, with their `mount` events.
    private func openCopyView(_ id: String) async throws -> ContainerRootView {
        let view = try await rootView(id, withMounts: true)
        emitVolumeEvents(id, mounted: true)
        return view
    }

    /// Gives the view back, with the volumes' `unmount` events.
    private func closeCopyView(_ id: String, _ view: ContainerRootView) {
        view.close()
        emitVolumeEvents(id, mounted: false)
    }

    // MARK: - HEAD and GET /containers/{id}/archive

    /// The stat of a path in the container (`docker cp` asks it first).
    public func statPath(_ nameOrID: String, path rawPath: String?) async throws -> PathStat {
        let path = try Self.checkArchivePath(rawPath)
        let id = try resolve(nameOrID)
        let view = try await openCopyView(id)
        defer { closeCopyView(id, view) }
        return try Self.resolve(path, in: view.root, notFound: Self.missingFile(rawPath!, nameOrID)).stat
    }

    /// A tar of a path in the container, named by the path's last element, and its stat.
    public func archive(_ nameOrID: String, path rawPath: String?) async throws -> (PathStat, TarStream) {
        let path = try Self.checkArchivePath(rawPath)
        let id = try resolve(nameOrID)
        let view = try await openCopyView(id)
        do {
            let target = try Self.resolve(path, in: view.root, notFound: Self.missingFile(rawPath!, nameOrID))
            // dockerd's SplitPathDirEntry: the entry is the last element of the resolved path.
            let source = ArchivePath(target.resolved)
            let sourceName = source.absolute == "/" ? "." : (source.base.isEmpty ? "." : source.base)
            let sourceDirectory = source.absolute == "/" ? "/" : source.directory
            let archiveName = path.name
            let volumeMounts = entries[id]?.record.VolumeMounts ?? []
            let stream = try TarStream(write: { output in
                let dirFD = try view.root.open(sourceDirectory, flags: O_PATH_ | O_DIRECTORY)
                defer { close(dirFD) }
                let archiver = try TreeArchiver(output: output)
                try archiver.add(dirFD: dirFD, name: sourceName, as: archiveName)
                try archiver.finish()
            }, onEnd: { [events] in
                view.close()
                Self.publishVolumeEvents(events, container: id, mounts: volumeMounts, mounted: false)
            })
            emit("archive-path", container: id)
            return (target.stat, stream)
        } catch {
            closeCopyView(id, view)
            throw error
        }
    }

    // MARK: - PUT /containers/{id}/archive

    public struct ExtractOptions: Sendable {
        public var noOverwriteDirNonDir: Bool
        public var copyUIDGID: Bool

        public init(noOverwriteDirNonDir: Bool, copyUIDGID: Bool) {
            self.noOverwriteDirNonDir = noOverwriteDirNonDir
            self.copyUIDGID = copyUIDGID
        }
    }

    /// Unpacks the tar in the file `archiveFile` into the directory `path` of the container.
    public func extract(_ nameOrID: String, path rawPath: String?, archiveFile: String?, options: ExtractOptions) async throws {
        let path = try Self.checkArchivePath(rawPath)
        let id = try resolve(nameOrID)
        let (record, hostConfig) = (entries[id]!.record, entries[id]!.hostConfig)
        let view = try await openCopyView(id)
        defer { closeCopyView(id, view) }
        // Unlike a stat, the last element is followed too: one can copy into a symlink to a directory.
        let destination = view.root.canonical(path.absolute)
        var info = stat()
        do {
            let fd = try view.root.open(destination, flags: O_PATH_)
            defer { close(fd) }
            fstat(fd, &info)
        } catch {
            if error.errno == ENOENT { throw Self.missingFile(rawPath!, nameOrID) }
            // dockerd's EvalSymlinks fails on the lstat of the path (a file where a directory should be).
            throw BerthError.internalError("lstat \(MountValidation.clean(path.absolute)): \(goErrorText(error.errno))")
        }
        // Current dockerd answers these three with 400 (20.10 with 500; the CLI prints the same).
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw BerthError.invalidArgument("extraction point is not a directory") }
        // An image mount is a read-only mount point, as dockerd records it.
        let imageMounts = (record.ImageMounts ?? []).map {
            Spec.Mount(destination: $0.Destination, type: "bind", source: "", options: ["rbind", "ro"])
        }
        switch Self.mountCovering(destination, hostConfig: hostConfig, volumes: Self.storedBinds(record, store: volumes) + imageMounts) {
        case .some(true): throw BerthError.invalidArgument("mounted volume is marked read-only")
        case .some(false): break
        case .none where hostConfig.ReadonlyRootfs == true: throw BerthError.invalidArgument("container rootfs is marked read-only")
        case .none: break
        }
        var owner: (uid: UInt32, gid: UInt32)?
        if options.copyUIDGID, let user = record.Config.User, !user.isEmpty {
            owner = try ContainerUser.copyOwner(user: user, rootfs: view.path)
        }
        let extractor = TreeExtractor(root: view.root, destination: destination,
                                      options: .init(noOverwriteDirNonDir: options.noOverwriteDirNonDir, owner: owner))
        try await blocking {
            guard let archiveFile else { return }  // no body: nothing to unpack
            let fd = open(archiveFile, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw BerthError.internalError("cannot read the upload") }
            defer { close(fd) }
            try extractor.extract(from: fd)
        }
        emit("extract-to-dir", container: id)
    }

    /// Whether the user's mount holding `path` (the deepest one) is read-only; nil when `path`
    /// is on the root file system. dockerd lets `docker cp` write into a writable mount of a
    /// read-only root, and refuses a read-only mount. Its mount points are the volumes, binds
    /// and `--mount type=tmpfs`, not `--tmpfs` (HostConfig.Tmpfs), which counts as the root.
    static func mountCovering(_ path: String, hostConfig: HostConfig, volumes: [Spec.Mount] = []) -> Bool? {
        var mounts: [(destination: String, readOnly: Bool)] = []
        let tmpfs = Set((hostConfig.Tmpfs ?? [:]).keys.map(MountValidation.clean))
        if let user = try? ContainerMounts.userMounts(hostConfig: hostConfig, networkFiles: [], volumes: volumes,
                                                      pathExists: { _ in true }).mounts {
            for mount in user where !tmpfs.contains(mount.destination) {
                mounts.append((mount.destination, (mount.options ?? []).contains { $0 == "ro" || $0 == "rro" }))
            }
        }
        let covering = mounts.filter { mount in
            let prefix = mount.destination.hasSuffix("/") ? mount.destination : mount.destination + "/"
            return path == mount.destination || path.hasPrefix(prefix)
        }
        return covering.max { $0.destination.count < $1.destination.count }?.readOnly
    }
}
