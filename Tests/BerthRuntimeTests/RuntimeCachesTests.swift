import FoundationEssentials
import Glibc
import Testing
@testable import BerthRuntime

struct RuntimeCachesTests {
    /// berthd makes a Runtime on many threads at once (pause, top, removal): making one must
    /// not assign the process-wide cache settings, which raced and crashed berthd.
    @Test func makingARuntimeLeavesTheProcessSettingsAlone() throws {
        let root = FileManager.default.temporaryDirectory.path + "/runtime-caches-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try Runtime(root: root)
        // (Other tests set the seccomp one to their own directories meanwhile.)
        #expect(SeccompFilter.cacheDirectory != root && CgroupHost.cacheDirectory != root)
    }

    @Test func cgroupMountLinesAreKeptForThisBootOnly() throws {
        let root = FileManager.default.temporaryDirectory.path + "/cgroup-mounts-\(getpid())"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = CgroupMountCache(directory: root)
        #expect(cache.lookup() == nil)
        let lines = ["35 26 0:30 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory",
                     "36 26 0:31 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw"]
        cache.store(lines)
        #expect(cache.lookup() == lines)
        let host = try CgroupHost(cgroupLines: try #require(cache.lookup()))
        #expect(host.layout == .legacy(controllers: ["memory": "/sys/fs/cgroup/memory", "": "/sys/fs/cgroup/unified"]))
        // Written in another boot: read again.
        let text = try #require(FileSystem.readFile(cache.path))
        let otherBoot = text.split(separator: "\n", maxSplits: 1).map(String.init)
        #expect(FileSystem.replace(cache.path, with: Array(("berth-cgroup-mounts-1 0000\n" + otherBoot[1]).utf8)))
        #expect(cache.lookup() == nil)
    }
}
