import FoundationEssentials
import Glibc

/// The anonymous volumes a container's directory names as its own while the container is half
/// made or half removed, so that a crash in between does not leave them behind unowned. A
/// create writes the note before it makes them and drops it once the container is saved; a
/// removal that takes them along (`rm -v`, `--rm`) writes it before the container's config
/// goes. The next start finds a directory without a config, and removes the volumes the note
/// names that no container uses.
enum AnonymousVolumeNote {
    static func path(_ id: String, paths: ContainerPaths) -> String { paths.directory(id) + "/anonymous-volumes" }

    /// One name a line, flushed: the volumes must not be made (or the config removed) first.
    static func write(_ names: [String], for id: String, paths: ContainerPaths) throws {
        if mkdir(paths.directory(id), 0o755) != 0 && errno != EEXIST {
            try FileManager.default.createDirectory(atPath: paths.directory(id), withIntermediateDirectories: true)
        }
        try writeAtomically(Data(names.map { $0 + "\n" }.joined().utf8), to: path(id, paths: paths))
    }

    static func read(_ id: String, paths: ContainerPaths) -> [String] {
        guard let text = try? String(contentsOfFile: path(id, paths: paths), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map(String.init).filter(ContainerIdentity.isFullID)
    }

    /// The container is saved: its volumes are its config's from now on.
    static func drop(_ id: String, paths: ContainerPaths) {
        unlink(path(id, paths: paths))
    }
}
