import BerthOCI
import Foundation
import Testing
@testable import BerthEngine

struct ContainerUserTests {
    @Test func defaultIsRoot() throws {
        let rootfs = try TestRootfs()
        #expect(try ContainerUser.resolve(user: nil, groupAdd: nil, rootfs: rootfs.path)
            == Spec.User(uid: 0, gid: 0, additionalGids: [0]))
    }

    @Test func nameGivesPrimaryAndSupplementaryGroups() throws {
        let rootfs = try TestRootfs()
        #expect(try ContainerUser.resolve(user: "app", groupAdd: nil, rootfs: rootfs.path)
            == Spec.User(uid: 1000, gid: 1000, additionalGids: [1000, 29, 44]))
    }

    @Test func uidFromPasswdOrBare() throws {
        let rootfs = try TestRootfs()
        #expect(try ContainerUser.resolve(user: "33", groupAdd: nil, rootfs: rootfs.path)
            == Spec.User(uid: 33, gid: 33, additionalGids: [33, 44]))
        #expect(try ContainerUser.resolve(user: "4242", groupAdd: nil, rootfs: rootfs.path)
            == Spec.User(uid: 4242, gid: 0, additionalGids: [0]))
    }

    @Test func explicitGroupByNameOrNumber() throws {
        let rootfs = try TestRootfs()
        #expect(try ContainerUser.resolve(user: "app:staff", groupAdd: nil, rootfs: rootfs.path)
            == Spec.User(uid: 1000, gid: 50, additionalGids: [50]))
        #expect(try ContainerUser.resolve(user: "1234:5678", groupAdd: nil, rootfs: rootfs.path)
            == Spec.User(uid: 1234, gid: 5678, additionalGids: [5678]))
    }

    @Test func groupAddTakesNamesAndNumbers() throws {
        let rootfs = try TestRootfs()
        #expect(try ContainerUser.resolve(user: "www", groupAdd: ["staff", "777", "staff"], rootfs: rootfs.path)
            == Spec.User(uid: 33, gid: 33, additionalGids: [33, 44, 50, 777]))
    }

    @Test func unknownNamesFailAsInDocker() throws {
        let rootfs = try TestRootfs()
        #expect(throws: BerthError.invalidArgument("unable to find user x: no matching entries in passwd file")) {
            try ContainerUser.resolve(user: "x", groupAdd: nil, rootfs: rootfs.path)
        }
        #expect(throws: BerthError.invalidArgument("unable to find group nogroup: no matching entries in group file")) {
            try ContainerUser.resolve(user: "app:nogroup", groupAdd: nil, rootfs: rootfs.path)
        }
        #expect(throws: BerthError.invalidArgument("Unable to find group wheel: no matching entries in group file")) {  // dockerd capitalises this one
            try ContainerUser.resolve(user: "app", groupAdd: ["wheel"], rootfs: rootfs.path)
        }
        #expect(throws: BerthError.invalidArgument("uids and gids must be in range 0-2147483647")) {
            try ContainerUser.resolve(user: "4294967296", groupAdd: nil, rootfs: rootfs.path)
        }
    }

    @Test func numericIdsWorkWithoutPasswd() throws {
        let rootfs = try TestRootfs()
        try FileManager.default.removeItem(atPath: rootfs.path + "/etc/passwd")
        try FileManager.default.removeItem(atPath: rootfs.path + "/etc/group")
        #expect(try ContainerUser.resolve(user: "1000:1000", groupAdd: nil, rootfs: rootfs.path)
            == Spec.User(uid: 1000, gid: 1000, additionalGids: [1000]))
        #expect(throws: BerthError.invalidArgument("unable to find user app: no matching entries in passwd file")) {
            try ContainerUser.resolve(user: "app", groupAdd: nil, rootfs: rootfs.path)
        }
    }

    /// An absolute symlink in the image resolves inside the rootfs, never to the host's file.
    @Test func symlinksStayInsideTheRootfs() throws {
        let rootfs = try TestRootfs()
        try FileManager.default.createDirectory(atPath: rootfs.path + "/data", withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: rootfs.path + "/etc/passwd", toPath: rootfs.path + "/data/passwd")
        try FileManager.default.createSymbolicLink(atPath: rootfs.path + "/etc/passwd", withDestinationPath: "/data/passwd")
        #expect(try ContainerUser.resolve(user: "app", groupAdd: nil, rootfs: rootfs.path).uid == 1000)
        #expect(ScopedPath.resolve("/etc/../../../etc/passwd", inRoot: rootfs.path) == rootfs.path + "/data/passwd")
    }
}
