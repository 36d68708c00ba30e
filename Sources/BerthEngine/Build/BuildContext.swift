import BerthOCI
import BerthStore
import FoundationEssentials
import Glibc

/// The build context unpacked into a private directory: the Dockerfile read from it, and the
/// files `.dockerignore` leaves out removed (the CLI filters too, but raw API clients do
/// not, and the CLI adds an outside Dockerfile under a name its .dockerignore excludes).
final class BuildContext: @unchecked Sendable {
    /// The private directory holding the context and the build's scratch space.
    let workDirectory: String
    let directory: String
    let root: ScopedRoot

    init(tarFile request: String?, workDirectory: String) throws {
        self.workDirectory = workDirectory
        directory = workDirectory + "/context"
        guard Self.makeWorkDirectory(workDirectory), mkdir(directory, 0o755) == 0 else {
            throw BerthError.internalError("cannot make the build directory \(workDirectory): \(String(cString: strerror(errno)))")
        }
        do {
            root = try ScopedRoot(path: directory)
        } catch {
            Self.removeTree(workDirectory)
            throw BerthError.internalError("cannot open the build context: \(error)")
        }
        guard var tarFile = request else { return }
        if CompressedUpload.isCompressed(tarFile) {
            // Unpacked first, so that an unpadded end can be completed as for a plain one.
            let plain = workDirectory + "/context.tar"
            do {
                try CompressedUpload.decompress(tarFile, to: plain)
            } catch {
                remove()
                throw BerthError.invalidArgument("failed to read the build context: \(error)")
            }
            tarFile = plain
        }
        Self.completeTar(tarFile)
        defer { if tarFile != request { unlink(tarFile) } }
        let fd = open(tarFile, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            remove()
            throw BerthError.internalError("cannot read the build context upload")
        }
        defer { close(fd) }
        do {
            try TreeExtractor(root: root, destination: "/", options: .init()).extract(from: fd)
        } catch {
            remove()
            throw BerthError.invalidArgument("failed to read the build context: \(error)")
        }
    }

    /// A context that is a directory made in the work directory already (a git checkout):
    /// moved into place, as it is.
    init(directory source: String, workDirectory: String) throws {
        self.workDirectory = workDirectory
        directory = workDirectory + "/context"
        guard rename(source, directory) == 0 else {
            throw BerthError.internalError("cannot move the build context into place: \(String(cString: strerror(errno)))")
        }
        do {
            root = try ScopedRoot(path: directory)
        } catch {
            throw BerthError.internalError("cannot open the build context: \(error)")
        }
    }

    /// The build's private directory, which a remote context's fetch may have made already.
    static func makeWorkDirectory(_ path: String) -> Bool {
        if mkdir(path, 0o700) == 0 { return true }
        var info = stat()
        return errno == EEXIST && lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The CLI sends a context with a Dockerfile from outside it as a tar whose last entry is
    /// not padded and has no end blocks (Go's reader takes that, libarchive does not): the
    /// (uncompressed) tar gets its padding and end blocks, which a complete tar ignores.
    static func completeTar(_ path: String) {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let size = lseek(fd, 0, SEEK_END)
        guard size >= 0 else { return }
        let padding = Int((512 - size % 512) % 512) + 1024
        let zeros = [UInt8](repeating: 0, count: padding)
        _ = zeros.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// The Dockerfile's text; dockerd's errors for a missing or empty one.
    func readDockerfile(_ name: String) throws -> String {
        let cleaned = DockerIgnore.clean(name)
        var candidates = [cleaned]
        // dockerd falls back to the lower-case name for the default.
        if cleaned == "Dockerfile" { candidates.append("dockerfile") }
        for candidate in candidates {
            guard let data = readFile(candidate) else { continue }
            guard !data.isEmpty else { throw BerthError.invalidArgument("the Dockerfile (\(name)) cannot be empty") }
            return String(decoding: data, as: UTF8.self)
        }
        throw BerthError.invalidArgument("Cannot locate specified Dockerfile: \(name)")
    }

    /// A regular file of the context, read through the scoped root; nil when there is none.
    func readFile(_ relative: String) -> Data? {
        guard !relative.isEmpty, let fd = try? root.open("/" + relative, flags: O_RDONLY | O_CLOEXEC) else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Data(DescriptorIO.readToEnd(fd))
    }

    /// Removes what `.dockerignore` excludes.
    func applyDockerIgnore() {
        guard let data = readFile(".dockerignore") else { return }
        let ignore = DockerIgnore(String(decoding: data, as: UTF8.self))
        guard !ignore.isEmpty else { return }
        prune(relative: "", ignore: ignore)
    }

    private func prune(relative: String, ignore: DockerIgnore) {
        let path = relative.isEmpty ? directory : directory + "/" + relative
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
            let child = relative.isEmpty ? name : relative + "/" + name
            var info = stat()
            guard lstat(directory + "/" + child, &info) == 0 else { continue }
            let excluded = ignore.excludes(child)
            if (info.st_mode & S_IFMT) == S_IFDIR {
                // A directory's entries may be let back in by a later "!" pattern.
                prune(relative: child, ignore: ignore)
                if excluded { rmdir(directory + "/" + child) }
            } else if excluded {
                unlink(directory + "/" + child)
            }
        }
    }

    func remove() {
        Self.removeTree(workDirectory)
        BuildWorkDirectories.shared.end(workDirectory)
    }

    /// Removes a directory tree without following symlinks.
    static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
                removeTree(path + "/" + name)
            }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}
