import BerthOCI
import Foundation
import Glibc
import Testing

/// One line of /proc/<pid>/mountinfo.
struct MountLine {
    let root: String
    let mountPoint: String
    let options: String
    let type: String
    let source: String
    let superOptions: [String]

    init?(_ line: Substring) {
        let fields = line.split(separator: " ").map(String.init)
        guard let dash = fields.firstIndex(of: "-"), dash >= 6, fields.count > dash + 3 else { return nil }
        root = fields[3]
        mountPoint = fields[4]
        options = fields[5]
        type = fields[dash + 1]
        source = fields[dash + 2]
        superOptions = fields[dash + 3].split(separator: ",").map(String.init)
    }

    static func parse(_ text: String) -> [MountLine] { text.split(separator: "\n").compactMap(MountLine.init) }
}

/// This host's cgroup mounts, for tests that only make sense on a v1 / hybrid host.
enum HostCgroups {
    static let hostCgroupMounts = MountLine.parse(readProcFile("/proc/self/mountinfo") ?? "")
        .filter { ($0.type == "cgroup" || $0.type == "cgroup2") && $0.mountPoint.hasPrefix("/sys/fs/cgroup") }
    /// The host's v1 hierarchies, in its mount order.
    static let v1Mounts = hostCgroupMounts.filter { $0.type == "cgroup" }
    static let unifiedMount = hostCgroupMounts.first { $0.type == "cgroup2" && $0.mountPoint == "/sys/fs/cgroup/unified" }
    static let hostIsHybrid = !hostCgroupMounts.contains { $0.type == "cgroup2" && $0.mountPoint == "/sys/fs/cgroup" }
        && unifiedMount != nil && v1Mounts.contains { $0.superOptions.contains("name=systemd") }

    /// Where the hierarchies show in a container: /sys/fs/cgroup/<last component of the host's mount point>.
    static var bindNames: [String] { v1Mounts.map { String($0.mountPoint.split(separator: "/").last!) } }

    /// The container's directory in every hierarchy on the host (v1 ones and cgroup2).
    static func hostDirectories(_ cgroup: String) -> [String] {
        (v1Mounts + [unifiedMount!]).map { $0.mountPoint + cgroup }
    }
}

/// A container's cgroups on a cgroup v1 host with the hybrid layout (v1 controllers, the named
/// `name=systemd` hierarchy, cgroup2 at /sys/fs/cgroup/unified), as dockerd with runc 1.1 gives
/// them: the container sits in a cgroup of every hierarchy, its /sys/fs/cgroup is a writable
/// tmpfs holding a read-only bind of its own cgroup per v1 hierarchy in the host's mount order,
/// and nothing of it is left in any hierarchy after `rm`.
@Suite(.enabled(if: Harness.isRoot, "containers need root"),
       .enabled(if: HostCgroups.hostIsHybrid,
                "needs a hybrid cgroup host (v1 controllers, name=systemd, cgroup2 at /sys/fs/cgroup/unified): on a unified (v2) host there are no v1 hierarchies to join or bind, the container mounts cgroup2 in a cgroup namespace of its own"),
       .serialized)
struct CgroupV1ViewTests {
    static func id(_ daemon: TestDaemon, _ name: String) -> String {
        ContainerBehaviourTests.inspect(daemon, "{{.Id}}", name).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The /sys/fs/cgroup mounts of a container's mountinfo, the tmpfs first.
    static func cgroupMounts(_ mountinfo: String) -> [MountLine] {
        MountLine.parse(mountinfo).filter { $0.mountPoint == "/sys/fs/cgroup" || $0.mountPoint.hasPrefix("/sys/fs/cgroup/") }
    }

    @Test func theContainerIsInACgroupOfEveryHierarchyAndRmLeavesNone() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let run = daemon.docker(["run", "-d", "--name", "everywhere", "busybox", "sleep", "1000"])
            #expect(run.status == 0, "\(run.stderr)")
            let cgroup = "/berth-test/" + Self.id(daemon, "everywhere")
            let pid = ContainerBehaviourTests.inspect(daemon, "{{.State.Pid}}", "everywhere").trimmingCharacters(in: .whitespacesAndNewlines)

            // The init (which moved itself in) and an exec (which joins) are in the container's
            // cgroup in every hierarchy, name=systemd and the cgroup2 one (0::) included.
            let initCgroups = readProcFile("/proc/\(pid)/cgroup") ?? ""
            let exec = daemon.docker(["exec", "everywhere", "cat", "/proc/self/cgroup"])
            #expect(exec.status == 0, "\(exec.stderr)")
            for (who, text) in [("init", initCgroups), ("exec", exec.stdout)] {
                let lines = text.split(separator: "\n")
                #expect(lines.count == HostCgroups.v1Mounts.count + 1, "\(who): \(text)")
                for line in lines { #expect(line.hasSuffix(":" + cgroup), "\(who): \(line)") }
                #expect(lines.contains { $0.hasSuffix(":name=systemd:" + cgroup) }, "\(who): \(text)")
                #expect(lines.contains { $0 == "0::" + cgroup }, "\(who): \(text)")
            }
            for directory in HostCgroups.hostDirectories(cgroup) {
                #expect(FileManager.default.fileExists(atPath: directory), "missing \(directory)")
            }

            // Pausing, resource updates and stats still work on the v1 controllers.
            #expect(daemon.docker(["pause", "everywhere"]).status == 0)
            #expect(ContainerBehaviourTests.inspect(daemon, "{{.State.Status}}", "everywhere") == "paused\n")
            #expect(daemon.docker(["unpause", "everywhere"]).status == 0)
            let update = daemon.docker(["update", "--memory", "64m", "--memory-swap", "128m", "everywhere"])
            #expect(update.status == 0, "\(update.stderr)")
            #expect(readProcFile("/sys/fs/cgroup/memory\(cgroup)/memory.limit_in_bytes") == "67108864\n")
            let stats = daemon.docker(["stats", "--no-stream", "--format", "{{.MemUsage}}", "everywhere"])
            #expect(stats.stdout.hasSuffix(" / 64MiB\n"), "\(stats.stdout) \(stats.stderr)")

            #expect(daemon.docker(["rm", "-f", "everywhere"]).status == 0)
            let left = { HostCgroups.hostDirectories(cgroup).filter { FileManager.default.fileExists(atPath: $0) } }
            #expect(ContainerBehaviourTests.eventually(5) { left().isEmpty }, "left after rm: \(left())")
        }
    }

    @Test func aCgroupParentHoldsTheContainerInEveryHierarchy() throws {
        let parent = "/berth-test/cgv1-parent-\(getpid())"
        defer { for directory in HostCgroups.hostDirectories(parent) { rmdir(directory) } }
        try ContainerBehaviourTests.withDaemon { daemon in
            let run = daemon.docker(["run", "--name", "parented", "--cgroup-parent", parent, "busybox", "cat", "/proc/self/cgroup"])
            #expect(run.status == 0, "\(run.stderr)")
            let cgroup = parent + "/" + Self.id(daemon, "parented")
            let lines = run.stdout.split(separator: "\n")
            #expect(lines.count == HostCgroups.v1Mounts.count + 1, "\(run.stdout)")
            for line in lines { #expect(line.hasSuffix(":" + cgroup), "\(line)") }
            #expect(daemon.docker(["rm", "parented"]).status == 0)
            let left = { HostCgroups.hostDirectories(cgroup).filter { FileManager.default.fileExists(atPath: $0) } }
            #expect(ContainerBehaviourTests.eventually(5) { left().isEmpty }, "left after rm: \(left())")
        }
    }

    @Test func sysFsCgroupIsAWritableTmpfsWithAReadOnlyBindPerHierarchyInTheHostsOrder() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let run = daemon.docker(["run", "--name", "view", "busybox", "sh", "-c",
                                     "cat /proc/self/mountinfo; echo ===; ls -1 /sys/fs/cgroup; echo ===; "
                                     + "mkdir /sys/fs/cgroup/made && echo tmpfs-writable; mkdir /sys/fs/cgroup/systemd/made"])
            let cgroup = "/berth-test/" + Self.id(daemon, "view")
            #expect(daemon.docker(["rm", "view"]).status == 0)
            let parts = run.stdout.components(separatedBy: "===\n")
            #expect(parts.count == 3, "\(run.stdout) \(run.stderr)")
            guard parts.count == 3 else { return }

            let mounts = Self.cgroupMounts(parts[0])
            let tmpfs = mounts.first
            #expect(tmpfs?.mountPoint == "/sys/fs/cgroup")
            #expect(tmpfs?.type == "tmpfs")
            #expect(tmpfs?.options == "rw,nosuid,nodev,noexec,relatime", "\(parts[0])")
            #expect(tmpfs?.superOptions.contains("mode=755") == true)
            let binds = Array(mounts.dropFirst())
            // One per v1 hierarchy (name=systemd too), as the host mounts them; not the cgroup2 one.
            #expect(binds.map(\.mountPoint) == HostCgroups.bindNames.map { "/sys/fs/cgroup/" + $0 }, "\(parts[0])")
            #expect(!binds.contains { $0.mountPoint == "/sys/fs/cgroup/unified" })
            for (bind, host) in zip(binds, HostCgroups.v1Mounts) {
                #expect(bind.root == cgroup, "\(bind.mountPoint) shows \(bind.root)")
                #expect(bind.options.hasPrefix("ro,nosuid,nodev,noexec"), "\(bind.mountPoint): \(bind.options)")
                #expect(bind.type == "cgroup")
                #expect(Set(bind.superOptions) == Set(host.superOptions), "\(bind.mountPoint)")
            }
            // Each hierarchy by its mount's name, and a combined one also by each controller's.
            let expectedNames = Set(HostCgroups.bindNames + HostCgroups.bindNames.filter { $0.contains(",") }.flatMap { $0.split(separator: ",").map(String.init) })
            #expect(Set(parts[1].split(separator: "\n").map(String.init)) == expectedNames)
            #expect(parts[2] == "tmpfs-writable\n")
            #expect(run.stderr.contains("can't create directory '/sys/fs/cgroup/systemd/made': Read-only file system"), "\(run.stderr)")
            #expect(run.status == 1)
        }
    }

    @Test func privilegedMakesTheBindsWritableAndRmTakesTheSubCgroupsAlong() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let run = daemon.docker(["run", "-d", "--privileged", "--name", "systemd-like", "busybox", "sh", "-c",
                                     "mkdir /sys/fs/cgroup/systemd/init.scope /sys/fs/cgroup/memory/made && sleep 1000"])
            #expect(run.status == 0, "\(run.stderr)")
            let cgroup = "/berth-test/" + Self.id(daemon, "systemd-like")
            let mountinfo = daemon.docker(["exec", "systemd-like", "cat", "/proc/self/mountinfo"])
            let binds = Self.cgroupMounts(mountinfo.stdout).dropFirst()
            #expect(binds.count == HostCgroups.v1Mounts.count, "\(mountinfo.stdout)")
            for bind in binds { #expect(bind.options.hasPrefix("rw,nosuid,nodev,noexec"), "\(bind.mountPoint): \(bind.options)") }
            let made = ["/sys/fs/cgroup/systemd\(cgroup)/init.scope", "/sys/fs/cgroup/memory\(cgroup)/made"]
            #expect(ContainerBehaviourTests.eventually(5) { made.allSatisfy { FileManager.default.fileExists(atPath: $0) } },
                    "\(daemon.docker(["logs", "systemd-like"]).stderr)")

            #expect(daemon.docker(["rm", "-f", "systemd-like"]).status == 0)
            let left = { (made + HostCgroups.hostDirectories(cgroup)).filter { FileManager.default.fileExists(atPath: $0) } }
            #expect(ContainerBehaviourTests.eventually(5) { left().isEmpty }, "left after rm: \(left())")
        }
    }

    @Test func inAPrivateCgroupNamespaceEveryHierarchyIsRootedAtTheContainer() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let run = daemon.docker(["run", "--rm", "--cgroupns", "private", "busybox", "sh", "-c",
                                     "cat /proc/self/cgroup; echo ===; cat /proc/self/mountinfo"])
            #expect(run.status == 0, "\(run.stderr)")
            let parts = run.stdout.components(separatedBy: "===\n")
            guard parts.count == 2 else { Issue.record("\(run.stdout)"); return }
            let lines = parts[0].split(separator: "\n")
            #expect(lines.count == HostCgroups.v1Mounts.count + 1)
            for line in lines { #expect(line.hasSuffix(":/"), "\(line)") }
            let mounts = Self.cgroupMounts(parts[1])
            #expect(mounts.first?.options == "rw,nosuid,nodev,noexec,relatime")
            let binds = mounts.dropFirst()
            #expect(binds.map(\.mountPoint) == HostCgroups.bindNames.map { "/sys/fs/cgroup/" + $0 })
            for bind in binds {
                #expect(bind.root == "/", "\(bind.mountPoint) shows \(bind.root)")
                #expect(bind.options.hasPrefix("ro,nosuid,nodev,noexec"))
                // runc mounts each afresh; a named hierarchy's source is its name.
                #expect(bind.source == (bind.superOptions.contains("name=systemd") ? "systemd" : "cgroup"), "\(bind.mountPoint)")
            }
        }
    }
}
