import BerthOCI
import CSystemShims
import Foundation
import Glibc
import Testing
@testable import BerthStore

/// The pieces of `docker cp` and `docker diff` that work on plain directories: confined path
/// resolution, archiving and unpacking, and the overlay change list.
@Suite struct ContainerFilesystemTests {
    /// A temporary directory, removed at the end.
    final class Scratch {
        let path: String
        init() throws {
            path = NSTemporaryDirectory() + "berth-fs-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }

        func write(_ relative: String, _ text: String) throws {
            let full = path + "/" + relative
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: false, encoding: .utf8)
        }
        func link(_ relative: String, to target: String) throws {
            try FileManager.default.createSymbolicLink(atPath: path + "/" + relative, withDestinationPath: target)
        }
        func read(_ relative: String) -> String? { try? String(contentsOfFile: path + "/" + relative, encoding: .utf8) }
    }

    @Test func symlinksResolveInsideTheRoot() throws {
        let host = try Scratch()
        try host.write("secret", "host")
        let container = try Scratch()
        try container.write("etc/secret", "container")
        try FileManager.default.createDirectory(atPath: container.path + "/data", withIntermediateDirectories: true)
        try container.link("data/abs", to: "/etc")
        try container.link("data/up", to: "../../../../../../../../" + host.path.dropFirst())
        try container.link("data/loop", to: "loop")
        let root = try ScopedRoot(path: container.path)
        #expect(root.canonical("/data/abs/secret") == "/etc/secret")
        #expect(root.canonical("/data/abs", followLast: false) == "/data/abs")
        // ".." stops at the root: the host's directory is not reached.
        #expect(root.canonical("/data/up/secret") == host.path + "/secret")
        let fd = try root.open("/data/abs/secret", flags: O_RDONLY)
        var buffer = [UInt8](repeating: 0, count: 32)
        #expect(String(decoding: buffer[..<read(fd, &buffer, 32)], as: UTF8.self) == "container")
        close(fd)
        #expect(throws: ScopedPathError.self) { _ = try root.open("/data/up/secret", flags: O_RDONLY) }
        let loop = Result { () throws(ScopedPathError) in try root.open("/data/loop", flags: O_RDONLY) }
        if case .failure(let error) = loop { #expect(error.errno == ELOOP) } else { Issue.record("a symlink loop opened") }
        #expect(try root.lstat("/data/abs").st_mode & S_IFMT == S_IFLNK)
    }

    /// A tree written by TreeArchiver and unpacked by TreeExtractor comes back the same, and
    /// an archive's symlinked directory in the destination keeps its files inside the root.
    @Test func archiveAndExtractRoundTrip() throws {
        let source = try Scratch()
        try source.write("dir/a.txt", "alpha")
        try source.write("dir/sub/b.txt", "beta")
        try source.link("dir/sub/link", to: "../a.txt")
        chmod(source.path + "/dir/a.txt", 0o640)
        // cap_net_raw, permitted and effective (a v2 capability blob), when root may set it.
        let capability: [UInt8] = [1, 0, 0, 2, 0, 0x20, 0, 0] + [UInt8](repeating: 0, count: 12)
        let canSetCapabilities = getuid() == 0
            && setxattr(source.path + "/dir/sub/b.txt", "security.capability", capability, capability.count, 0) == 0
        link(source.path + "/dir/a.txt", source.path + "/dir/hard")
        let tar = source.path + "/out.tar"
        let output = open(tar, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let sourceRoot = try ScopedRoot(path: source.path)
        let archiver = try TreeArchiver(output: output)
        try archiver.add(dirFD: sourceRoot.fd, name: "dir", as: "copied")
        try archiver.finish()
        close(output)
        let listing = Process()
        listing.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        listing.arguments = ["-tf", tar]
        let pipe = Pipe()
        listing.standardOutput = pipe
        try listing.run()
        listing.waitUntilExit()
        let names = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(names == "copied/\ncopied/a.txt\ncopied/hard\ncopied/sub/\ncopied/sub/b.txt\ncopied/sub/link\n")

        let container = try Scratch()
        let host = try Scratch()
        try FileManager.default.createDirectory(atPath: container.path + "/tmp", withIntermediateDirectories: true)
        try container.link("tmp/out", to: "../../../../../../../../" + host.path.dropFirst())
        let root = try ScopedRoot(path: container.path)
        let input = open(tar, O_RDONLY | O_CLOEXEC)
        defer { close(input) }
        try TreeExtractor(root: root, destination: root.canonical("/tmp/out"), options: .init()).extract(from: input)
        #expect(try FileManager.default.contentsOfDirectory(atPath: host.path).isEmpty)
        let landed = container.path + host.path + "/copied"
        #expect(container.read(host.path.dropFirst() + "/copied/sub/b.txt") == "beta")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: landed + "/sub/link")) == "../a.txt")
        var a = stat(), hard = stat()
        #expect(lstat(landed + "/a.txt", &a) == 0 && lstat(landed + "/hard", &hard) == 0)
        #expect(a.st_ino == hard.st_ino && a.st_mode & 0o777 == 0o640)
        if canSetCapabilities {
            var copied = [UInt8](repeating: 0, count: 64)
            let length = getxattr(landed + "/sub/b.txt", "security.capability", &copied, copied.count)
            #expect(length == capability.count && Array(copied.prefix(max(length, 0))) == capability)
        }
    }

    @Test func noOverwriteDirNonDirRefusesToReplaceADirectory() throws {
        let source = try Scratch()
        try source.write("x", "file")
        let tar = source.path + "/x.tar"
        let output = open(tar, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let archiver = try TreeArchiver(output: output)
        let sourceRoot = try ScopedRoot(path: source.path)
        try archiver.add(dirFD: sourceRoot.fd, name: "x", as: "x")
        try archiver.finish()
        close(output)
        let container = try Scratch()
        try container.write("x/inside", "kept")
        let root = try ScopedRoot(path: container.path)
        func extract(_ options: TreeExtractor.Options) throws {
            let input = open(tar, O_RDONLY | O_CLOEXEC)
            defer { close(input) }
            try TreeExtractor(root: root, destination: "/", options: options).extract(from: input)
        }
        #expect(throws: BerthError.self) { try extract(.init(noOverwriteDirNonDir: true)) }
        #expect(container.read("x/inside") == "kept")
        try extract(.init(owner: (uid: getuid(), gid: getgid())))
        #expect(container.read("x") == "file")
    }

    /// Whiteouts and opaque directories need root (a 0:0 device, trusted.* attributes).
    @Test(.enabled(if: getuid() == 0, "whiteouts need root"))
    func overlayChangesAgainstTheLowerLayers() throws {
        let lower = try Scratch()
        try lower.write("etc/group", "g")
        try lower.write("etc/passwd", "p")
        try lower.write("usr/sbin/one", "1")
        try lower.write("usr/sbin/two", "2")
        try lower.write("tmp/.keep", "")
        let upper = try Scratch()
        try upper.write("etc/passwd", "changed")
        #expect(mknod(upper.path + "/etc/group", S_IFCHR, 0) == 0)
        try upper.write("tmp/new", "n")
        try upper.write("newdir/f", "f")
        try upper.write("usr/sbin/two", "replaced")
        #expect(setxattr(upper.path + "/usr/sbin", "trusted.overlay.opaque", "y", 1, 0) == 0)
        try upper.write(".dockerenv", "")
        try upper.write("etc/hosts", "")
        // A whiteout of something no lower layer has is no change.
        #expect(mknod(upper.path + "/tmp/ghost", S_IFCHR, 0) == 0)
        let changes = try OverlayChanges.changes(upper: upper.path, lowers: [lower.path])
        typealias C = OverlayChanges.Change
        #expect(changes == [
            C("/etc", .modified), C("/etc/group", .deleted), C("/etc/passwd", .modified),
            C("/newdir", .added), C("/newdir/f", .added),
            C("/tmp", .modified), C("/tmp/new", .added),
            C("/usr", .modified), C("/usr/sbin", .modified), C("/usr/sbin/one", .deleted), C("/usr/sbin/two", .modified),
        ])
        // A file a higher lower layer deleted is not there to change.
        let middle = try Scratch()
        try FileManager.default.createDirectory(atPath: middle.path + "/etc", withIntermediateDirectories: true)
        #expect(mknod(middle.path + "/etc/group", S_IFCHR, 0) == 0)
        let second = try OverlayChanges.changes(upper: upper.path, lowers: [middle.path, lower.path])
        #expect(!second.contains(C("/etc/group", .deleted)))
        let untouched = try Scratch()
        #expect(try OverlayChanges.changes(upper: untouched.path, lowers: [lower.path]).isEmpty)
    }

    /// An opaque directory hides every lower entry, so a commit keeps what is in it even when
    /// it equals the lower copy; a copy-up that changed nothing is in the layer, not the diff.
    @Test(.enabled(if: getuid() == 0, "opaque directories need root"))
    func aCommittedLayerKeepsWhatAnOpaqueDirectoryHolds() throws {
        let lower = try Scratch()
        try lower.write("usr/sbin/tool", "t")
        try lower.write("usr/lib/x", "x")
        try lower.write("etc/group", "g")
        let upper = try Scratch()
        try FileManager.default.createDirectory(atPath: upper.path + "/usr/sbin", withIntermediateDirectories: true)
        #expect(setxattr(upper.path + "/usr", "trusted.overlay.opaque", "y", 1, 0) == 0)
        try upper.write("etc/group", "g")
        var original = stat()
        #expect(stat(lower.path + "/etc/group", &original) == 0)
        let times = [original.st_atim, original.st_mtim]
        #expect(utimensat(AT_FDCWD, upper.path + "/etc/group", times, 0) == 0)

        let changes = try OverlayChanges.changes(upper: upper.path, lowers: [lower.path])
        #expect(!changes.contains { $0.path.hasPrefix("/etc") }, "\(changes)")
        #expect(changes.contains(.init("/usr/lib", .deleted)))
        let paths = try OverlayChanges.layerPaths(upper: upper.path, lowers: [lower.path])
        // Deleted entries are listed too (a layer tar skips what the upper directory lacks).
        #expect(paths == ["/usr", "/usr/lib", "/usr/sbin", "/usr/sbin/tool", "/etc", "/etc/group"])
    }
}
