import Foundation
import Testing
@testable import BerthRuntime

/// The daemon's start asks every live container's state file for its cgroup paths alone;
/// they must be the record's, whatever the config beside them holds.
struct CgroupPathsReadingTests {
    @Test func theRecordsCgroupPathsAloneAreRead() throws {
        let root = FileManager.default.temporaryDirectory.path + "/cgroup-paths-\(getpid())"
        try FileManager.default.createDirectory(atPath: root + "/c1", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = ContainerStore(root: root)
        let paths = ["": "/sys/fs/cgroup/berth/c1", "cpu": "/sys/fs/cgroup/cpu/berth \"q\"/c1", "memory": "/m\\n"]
        let record = SavedContainer(id: "c1", bundle: "/b", rootfs: "/r", pid: 7, pidStartTime: 1,
                                    created: "2026-11-30T08:00:00Z", owner: "", cgroupPaths: paths, seccomp: nil)
        // A config with a member of the same name deeper down: only the record's counts.
        let config = Array(#"{"ociVersion":"1.0.2","cgroupPaths":{"decoy":"/no"},"linux":{"cgroupPaths":{"x":"/y"}}}"#.utf8)
        try store.save(record, config: config)
        #expect(try store.loadCgroupPaths("c1") == paths)
        #expect(try store.loadCgroupPaths("c1") == store.load("c1").cgroupPaths)

        // None recorded: empty, as load says.
        try FileManager.default.createDirectory(atPath: root + "/c2", withIntermediateDirectories: true)
        var bare = record
        bare.id = "c2"
        bare.cgroupPaths = [:]
        try store.save(bare, config: Array("{}".utf8))
        #expect(try store.loadCgroupPaths("c2") == [:])
        #expect(throws: (any Error).self) { try store.loadCgroupPaths("missing") }
    }
}
