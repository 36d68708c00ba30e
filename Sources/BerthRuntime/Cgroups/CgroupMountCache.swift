import Glibc

/// The host's cgroup mount lines from mountinfo, kept in `<root>/@cgroup-mounts` for the
/// runtime's next runs: mountinfo grows by a few lines with every container, and the kernel
/// formats all of it (overlay options and all) at every read, for every container create.
/// Cgroup hierarchies are mounted at boot; the file names the boot it was read in, and a
/// file from another boot is read again.
struct CgroupMountCache {
    let path: String

    init(directory: String) {
        path = directory + "/@cgroup-mounts"  // "@" is in no container ID
    }

    static let formatVersion = "berth-cgroup-mounts-1"

    /// What the first line must say.
    private static var header: String? {
        guard let bootID = FileSystem.readFile("/proc/sys/kernel/random/boot_id") else { return nil }
        return formatVersion + " " + bootID.trimmingSuffix("\n")
    }

    func lookup() -> [String]? {
        guard let header = Self.header, let text = FileSystem.readFile(path) else { return nil }
        let lines = text.split(separator: "\n").map(String.init)
        guard lines.first == header, lines.count > 1 else { return nil }
        return Array(lines.dropFirst())
    }

    /// Best effort: a cache that cannot be written means reading mountinfo next time.
    func store(_ lines: [String]) {
        guard let header = Self.header, !lines.isEmpty else { return }
        _ = FileSystem.replace(path, with: Array(([header] + lines).joined(separator: "\n").utf8) + [0x0A])
    }
}

private extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
