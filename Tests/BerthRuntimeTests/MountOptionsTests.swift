import CSystemShims
import Glibc
import Testing
@testable import BerthRuntime

struct MountOptionsTests {
    @Test func flagsDataAndPropagationAreSeparated() {
        let options = MountOptions(["nosuid", "noexec", "nodev", "ro", "mode=755", "size=65536k", "rslave"])
        #expect(options.flags == UInt(MS_NOSUID) | UInt(MS_NOEXEC) | UInt(MS_NODEV) | UInt(MS_RDONLY))
        #expect(options.dataString == "mode=755,size=65536k")
        #expect(options.propagation == [UInt(MS_SLAVE) | UInt(MS_REC)])
        #expect(!options.isBind)
    }

    @Test func laterOptionsWinAndClearEarlierOnes() {
        let options = MountOptions(["ro", "rw", "nosuid", "suid"])
        #expect(options.flags == 0)
        #expect(options.clearedFlags == UInt(MS_RDONLY) | UInt(MS_NOSUID))
    }

    @Test func rbindIsARecursiveBind() {
        let options = MountOptions(["rbind", "ro"])
        #expect(options.isBind)
        #expect(options.flags & UInt(MS_REC) != 0)
    }

    @Test func recursiveAttributesGoToMountSetattr() {
        let options = MountOptions(["rro", "rnosuid"])
        #expect(options.recursiveAttrSet == 0x1 | 0x2)
        #expect(options.flags == 0)
    }

    @Test func unknownPropagationIsAnError() throws {
        #expect(throws: ConfigError.self) { try MountOptions.propagation(named: "sideways") }
        #expect(try MountOptions.propagation(named: "rprivate") == UInt(MS_PRIVATE) | UInt(MS_REC))
    }
}

struct SecureJoinTests {
    @Test func dotDotCannotLeaveTheRoot() {
        #expect(FileSystem.secureJoin(root: "/nonexistent-root", "/../../etc/passwd") == "/nonexistent-root/etc/passwd")
        #expect(FileSystem.secureJoin(root: "/r", "a/./b/../c") == "/r/a/c")
    }

    @Test func symlinksResolveInsideTheRoot() throws {
        let root = "/tmp/berth-securejoin-\(getpid())"
        mkdir(root, 0o755)
        defer { unlink(root + "/escape"); unlink(root + "/rel"); rmdir(root) }
        symlink("/etc", root + "/escape")
        symlink("../../..", root + "/rel")
        #expect(FileSystem.secureJoin(root: root, "/escape/passwd") == root + "/etc/passwd")
        #expect(FileSystem.secureJoin(root: root, "/rel/x") == root + "/x")
    }
}

struct NamespacePlanTests {
    @Test func createdAndJoinedNamespaces() throws {
        let plan = try NamespacePlan([.init(type: "pid"), .init(type: "mount"), .init(type: "network", path: "/proc/1/ns/net"),
                                      .init(type: "cgroup")])
        #expect(plan.createFlags == Int32(BERTH_CLONE_NEWPID) | Int32(BERTH_CLONE_NEWNS))
        #expect(plan.createsCgroupNamespace)
        #expect(plan.joins == ["network": "/proc/1/ns/net"])
        #expect(!plan.newNetworkNamespace)
    }

    @Test func duplicatesAndUnknownTypesAreRefused() {
        #expect(throws: ConfigError.self) { try NamespacePlan([.init(type: "pid"), .init(type: "pid")]) }
        #expect(throws: ConfigError.self) { try NamespacePlan([.init(type: "net")]) }
    }
}
