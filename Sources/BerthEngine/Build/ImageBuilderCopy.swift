import BerthOCI
import BerthStore
import FoundationEssentials
import Glibc

/// COPY and ADD: files from the context (or another stage's or image's root) into a
/// container's root (or an empty root for an image from scratch), committed as a layer.
extension ImageBuilder {
    /// One source after globbing: its path in the source root and whether it is a directory.
    struct CopySource {
        /// Relative to the source root, a symlink named as the source already followed.
        var path: String
        var isDirectory: Bool
        /// The last element as written: the name the copy gets in a target directory.
        var name: String
        var pathName: String { String(path.split(separator: "/").last ?? "") }
        /// A source from elsewhere than the instruction's root (a download): its directory.
        var root: String?
        var scoped: ScopedRoot?
        /// ADD unpacks a local archive, never a downloaded one.
        var unpack = true
    }

    func copyFiles(_ copy: DockerfileInstruction.FileCopy, add: Bool, state: inout BuildStageState, words: DockerfileWords) async throws {
        let name = add ? "ADD" : "COPY"
        if copy.chmod != nil {
            throw BuildFailure("the --chmod option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled")
        }
        let sources = try copy.sources.map { try words.word($0) }
        let destination = try words.word(copy.destination)
        let chown = try copy.chown.map { try words.word($0) }
        // Where the sources come from: the context, or a stage's or an image's root (a
        // container made from it, never started, removed at the end).
        guard let from = try copy.from.map({ try words.word($0) }) else {
            try await copyFiles(sources: sources, destination: destination, chown: chown, name: name, add: add,
                                sourceRoot: context.directory, scoped: context.root, fromContext: true, state: &state)
            return
        }
        let image: (id: String?, hasLayers: Bool)
        if let stage = stageImages[from.lowercased()] {
            image = stage
        } else if let index = Int(from), index >= 0 {
            guard index < stageImagesByIndex.count else {
                throw BuildFailure("invalid from flag value \(from): "
                    + (index == stageImagesByIndex.count ? "refers to current build stage" : "index out of bounds"))
            }
            image = stageImagesByIndex[index]
        } else {
            // An image not here is pulled, as for FROM (`--pull` does not apply to it).
            let id = try await resolveImage(from, forcePull: false)
            image = (id, try images.hasLayers(id))
        }
        guard let id = image.id, image.hasLayers else {
            throw BuildFailure("\(name) failed: no source files were specified")
        }
        var config = ContainerConfig()
        config.Image = id
        config.Cmd = ["/bin/sh"]
        let container = try await createContainer(config)
        do {
            let view = try await containers.rootView(container, withMounts: false)
            defer { view.close() }
            try await copyFiles(sources: sources, destination: destination, chown: chown, name: name, add: add,
                                sourceRoot: view.path, scoped: view.root, fromContext: false, state: &state)
        } catch {
            await discard(container)
            throw error
        }
        await discard(container)
    }

    private func copyFiles(sources: [String], destination: String, chown: String?, name: String, add: Bool,
                           sourceRoot: String, scoped: ScopedRoot, fromContext: Bool, state: inout BuildStageState) async throws {
        var resolved: [CopySource] = []
        var downloads: [String] = []
        defer { for directory in downloads { BuildContext.removeTree(directory) } }
        for source in sources {
            if GitRemote.isURL(source) {
                guard add else { throw BuildFailure("\(name) failed: source can't be a URL for COPY") }
                resolved.append(try await downloadSource(source, destination: destination, downloads: &downloads))
                continue
            }
            resolved += try resolveSources(source, root: scoped, fromContext: fromContext, instruction: name)
        }
        if resolved.count > 1 && !destination.hasSuffix("/") {
            throw BuildFailure("When using \(name) with more than one source file, the destination must be a directory and end with a /")
        }
        let hash = try await engine.blocking { [resolved, sourceRoot] in try Self.checksum(resolved, root: sourceRoot) }
        // dockerd writes the --chown flag right before the checksum, without a blank.
        let chownComment = chown.map { "--chown=" + $0 } ?? ""
        let probe = probeConfig(state, cmd: state.shell + ["#(nop) \(name) \(chownComment)\(hash) in \(destination) "])
        if try await useCache(probe, state: &state) { return }
        let target = ImageChanges.workingDirectory(destination, from: state.config.WorkingDir ?? "")
            + (destination.hasSuffix("/") || destination == "." ? "/" : "")
        // The root written to: a container's, or an empty directory for an image with no files.
        var containerID = ""
        let root: ScopedRoot
        var rootPath: String
        var view: ContainerRootView?
        if state.hasLayers {
            containerID = try await createContainer(probe)
            do {
                view = try await containers.rootView(containerID, withMounts: false)
            } catch {
                await discard(containerID)
                throw error
            }
            root = view!.root
            rootPath = view!.path
        } else {
            rootPath = context.workDirectory + "/root-" + UUID().uuidString
            guard mkdir(rootPath, 0o755) == 0 else { throw BuildFailure("cannot make a root for \(name): \(String(cString: strerror(errno)))") }
            root = try ScopedRoot(path: rootPath)
        }
        do {
            // The context's files become root's; another stage's or image's keep their owners.
            let chownTo = try chown.map { try Self.owner($0, rootPath: rootPath) }
            let scratch = context.workDirectory
            try await engine.blocking { [resolved, scoped, root] in
                for source in resolved {
                    try Self.place(source, from: source.scoped ?? scoped, into: root, target: target,
                                   owner: chownTo ?? (fromContext ? (0, 0) : nil), chown: chownTo != nil,
                                   extractArchives: add && source.unpack, scratch: scratch)
                }
            }
            view?.close()
            if containerID.isEmpty {
                try await commit(state: &state, probe: probe, containerID: "", upper: (rootPath, nil))
                BuildContext.removeTree(rootPath)
            } else {
                try await commitContainer(containerID, probe: probe, state: &state)
                await discard(containerID)
            }
        } catch {
            view?.close()
            if containerID.isEmpty { BuildContext.removeTree(rootPath) } else { await discard(containerID) }
            throw error
        }
    }

    /// A source as written: cleaned, kept inside the root, globbed.
    func resolveSources(_ source: String, root: ScopedRoot, fromContext: Bool, instruction: String) throws -> [CopySource] {
        var parts: [String] = []
        for part in source.split(separator: "/") where part != "." {
            if part == ".." {
                guard !parts.isEmpty else {
                    if fromContext { throw BuildFailure("\(instruction) failed: forbidden path outside the build context: \(source) ()") }
                    continue
                }
                parts.removeLast()
            } else {
                parts.append(String(part))
            }
        }
        // Each element may be a pattern; the matches are followed element by element.
        var candidates = [""]
        for part in parts {
            var next: [String] = []
            for base in candidates {
                if part.contains(where: { "*?[".contains($0) }) {
                    let fd = try? root.open(base.isEmpty ? "/" : "/" + base, flags: O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                    guard let fd else { continue }
                    defer { close(fd) }
                    for name in (try? TreeArchiver.names(in: fd)) ?? [] where DockerIgnore.fnmatch(part, name) {
                        next.append(base.isEmpty ? name : base + "/" + name)
                    }
                } else {
                    next.append(base.isEmpty ? part : base + "/" + part)
                }
            }
            candidates = next
        }
        let named = candidates.count == 1 && !source.contains(where: { "*?[".contains($0) })
        let notFound = BuildFailure(fromContext
            ? "\(instruction) failed: file not found in build context or excluded by .dockerignore: stat \(source): file does not exist"
            : "\(instruction) failed: stat \(source): file does not exist")
        var found: [CopySource] = []
        for candidate in candidates {
            guard let info = try? root.lstat("/" + candidate) else {
                if named { throw notFound }
                continue
            }
            // A symlink named as the source is followed (inside the root), as dockerd does;
            // one whose target is not there is not found, as with dockerd.
            var path = candidate
            var isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
            if (info.st_mode & S_IFMT) == S_IFLNK {
                let target = String(root.canonical("/" + candidate).dropFirst())
                if let followed = try? root.lstat("/" + target) {
                    path = target
                    isDirectory = (followed.st_mode & S_IFMT) == S_IFDIR
                } else if named {
                    throw notFound
                }
            }
            found.append(CopySource(path: path, isDirectory: isDirectory, name: String(candidate.split(separator: "/").last ?? "")))
        }
        if found.isEmpty { throw BuildFailure("\(instruction) failed: no source files were specified") }
        return found
    }

    /// --chown=user[:group] as dockerd reads it: numbers as they are, names from the target's
    /// /etc/passwd and /etc/group; a lone user names the group too.
    static func owner(_ spec: String, rootPath: String) throws -> (UInt32, UInt32) {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2 else { throw BuildFailure("invalid chown string format: \(spec)") }
        let (user, group) = parts.count == 1 ? (parts[0], parts[0]) : (parts[0], parts[1])
        func fail(_ message: String) -> BuildFailure {
            BuildFailure("unable to convert uid/gid chown string to host mapping: " + message)
        }
        let uid: UInt32
        if let number = UInt32(user) {
            uid = number
        } else {
            let entries = ContainerUser.readFile(ScopedPath.resolve("/etc/passwd", inRoot: rootPath)).map(ContainerUser.parsePasswd) ?? []
            guard let entry = entries.first(where: { $0.name == user }) else { throw fail("can't find uid for user \(user): no such user: \(user)") }
            uid = UInt32(entry.uid)
        }
        let gid: UInt32
        if let number = UInt32(group) {
            gid = number
        } else {
            let entries = ContainerUser.readFile(ScopedPath.resolve("/etc/group", inRoot: rootPath)).map(ContainerUser.parseGroup) ?? []
            guard let entry = entries.first(where: { $0.name == group }) else { throw fail("can't find gid for group \(group): no such group: \(group)") }
            gid = UInt32(entry.gid)
        }
        return (uid, gid)
    }

    /// Puts one source in the target root: a directory's contents into the target directory;
    /// a file into it (target ending in "/" or an existing directory) or as it; ADD unpacks a
    /// local archive into the target directory. `owner`: every entry's, nil to keep the
    /// source's. With `chown` (dockerd's --chown identity) the directories a file's copy makes
    /// take that owner too, and so does a directory's target when the copy made it.
    static func place(_ source: CopySource, from sourceRoot: ScopedRoot, into root: ScopedRoot, target: String,
                      owner: (UInt32, UInt32)?, chown: Bool, extractArchives: Bool, scratch: String) throws {
        // The target is followed inside the root, a symlink at its end too (even one whose
        // target is missing: the copy makes that), as dockerd resolves it.
        let named = target.hasSuffix("/") ? String(target.dropLast()) : target
        let directoryTarget = named.isEmpty ? "" : root.canonical(named)
        let targetIsDirectory = (try? root.lstat(root.canonical(directoryTarget.isEmpty ? "/" : directoryTarget)))
            .map { ($0.st_mode & S_IFMT) == S_IFDIR } ?? false
        @discardableResult
        func makeDirectory(_ path: String) throws -> [String] {
            do { return try root.makePath(path.isEmpty ? "/" : path, directory: true) } catch {
                throw copyFailure(error, operation: "mkdir ")
            }
        }
        if !source.isDirectory && extractArchives, let archive = try openArchive(source.path, in: sourceRoot) {
            defer { close(archive) }
            try makeDirectory(directoryTarget)
            // An archive's entries keep their owners, --chown or not, as with dockerd 20.10.
            try TreeExtractor(root: root, destination: root.canonical(directoryTarget.isEmpty ? "/" : directoryTarget), options: .init())
                .extract(from: archive)
            return
        }
        let tarPath = scratch + "/copy-" + UUID().uuidString + ".tar"
        defer { unlink(tarPath) }
        let out = open(tarPath, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o600)
        guard out >= 0 else { throw BuildFailure("cannot write \(tarPath): \(String(cString: strerror(errno)))") }
        let destinationDirectory: String
        do {
            defer { close(out) }
            let archiver = try TreeArchiver(output: out)
            if source.isDirectory {
                let fd = try openDirectory(source.path, in: sourceRoot)
                defer { close(fd) }
                try archiver.add(dirFD: fd, name: ".", as: "")
                destinationDirectory = directoryTarget
            } else {
                let parent = String(source.path.split(separator: "/").dropLast().joined(separator: "/"))
                let fd = try openDirectory(parent, in: sourceRoot)
                defer { close(fd) }
                if target.hasSuffix("/") || targetIsDirectory {
                    try archiver.add(dirFD: fd, name: source.pathName, as: source.name)
                    destinationDirectory = directoryTarget
                } else {
                    let targetName = String(directoryTarget.split(separator: "/").last ?? "")
                    try archiver.add(dirFD: fd, name: source.pathName, as: targetName)
                    destinationDirectory = String(directoryTarget.split(separator: "/").dropLast().joined(separator: "/"))
                }
            }
            try archiver.finish()
        }
        let absolute = "/" + destinationDirectory.split(separator: "/").joined(separator: "/")
        let made = try makeDirectory(absolute)
        // makePath leaves what is there: a file where the directory should be is refused here.
        if let info = try? root.lstat(root.canonical(absolute)), (info.st_mode & S_IFMT) != S_IFDIR {
            throw BuildFailure("failed to copy files: mkdir \(absolute): not a directory")
        }
        let input = open(tarPath, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw BuildFailure("cannot read \(tarPath)") }
        defer { close(input) }
        do {
            try TreeExtractor(root: root, destination: root.canonical(absolute), options: .init(owner: owner.map { ($0.0, $0.1) }))
                .extract(from: input)
        } catch let error as ScopedPathError {
            throw copyFailure(error, operation: "")
        }
        if chown, let owner {
            for directory in source.isDirectory ? made.filter({ $0 == absolute }) : made {
                try? root.changeOwner(directory, uid: owner.0, gid: owner.1)
            }
        } else if owner == nil, source.isDirectory, made.contains(absolute),
                  let info = try? sourceRoot.lstat(sourceRoot.canonical(source.path)) {
            // A directory copied to a new target keeps its owner there too, as its contents do.
            try? root.changeOwner(absolute, uid: info.st_uid, gid: info.st_gid)
        }
    }

    /// dockerd's words for a copy that failed on a path of the target.
    static func copyFailure(_ error: ScopedPathError, operation: String) -> BuildFailure {
        BuildFailure("failed to copy files: \(operation)\(error.path): \(goErrorText(error.errno))")
    }

    static func openDirectory(_ path: String, in root: ScopedRoot) throws -> Int32 {
        do {
            return try root.open(path.isEmpty ? "/" : "/" + path, flags: O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        } catch {
            throw BuildFailure("cannot open \(path): \(error)")
        }
    }

    /// The file opened when it is a tar archive (plain, gzip, bzip2 or xz); nil otherwise.
    static func openArchive(_ path: String, in root: ScopedRoot) throws -> Int32? {
        guard let fd = try? root.open("/" + path, flags: O_RDONLY | O_CLOEXEC) else { return nil }
        var header = [UInt8](repeating: 0, count: 512)
        let count = header.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 512, 0) }
        let compressed = count >= 6 && (header[0...1] == [0x1F, 0x8B] || header[0...2] == [0x42, 0x5A, 0x68]
            || header[0...5] == [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00])
        let tar = count >= 262 && Array(header[257..<262]) == Array("ustar".utf8)
        if compressed || tar { return fd }
        close(fd)
        return nil
    }

    /// dockerd's form of the sources' checksum in the step: file:, dir: or multi: and a
    /// SHA-256 of names, modes, link targets and contents (not times: a touched file that
    /// did not change keeps the cache).
    static func checksum(_ sources: [CopySource], root: String) throws -> String {
        let hashes = try sources.map { source -> Substring in
            let hasher = SHA256Hasher()
            try hashTree((source.root ?? root) + "/" + source.path, relative: "", into: hasher)
            return hasher.finish().dropFirst(7)
        }
        if hashes.count == 1 { return (sources[0].isDirectory ? "dir:" : "file:") + hashes[0] }
        let hasher = SHA256Hasher()
        hasher.update(Data(hashes.joined(separator: ",").utf8))
        return "multi:" + hasher.finish().dropFirst(7)
    }

    private static func hashTree(_ path: String, relative: String, into hasher: SHA256Hasher) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        hasher.update(Data("\(relative)\u{0}\(info.st_mode)\u{0}".utf8))
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() {
                try hashTree(path + "/" + name, relative: relative + "/" + name, into: hasher)
            }
        case S_IFLNK:
            if let target = SymbolicLink.targetBytes(path), !target.isEmpty { hasher.update(Data(target)) }
        case S_IFREG:
            let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { return }
            defer { close(fd) }
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count <= 0 { break }
                hasher.update(Data(buffer[0..<count]))
            }
        default:
            break
        }
    }
}

extension SHA256Hasher {
    func update(_ data: Data) { data.withUnsafeBytes { update($0) } }
}
