import BerthOCI
import Foundation
import CSystemShims
import Testing
@testable import BerthStore

/// Layers unpacked with whiteouts translated, seen through a real overlay mount (root only).
@Suite(.enabled(if: geteuid() == 0, "unpacking layers (owners, device whiteouts, trusted xattrs) needs root"))
struct SnapshotterTests {
    /// Builds a docker-archive with python's tarfile from (path, kind, content) layer entries.
    static func makeArchive(at path: String, layers: [[(String, String, String)]]) throws {
        let script = """
            import hashlib, io, json, sys, tarfile
            layers = json.loads(sys.argv[2])
            blobs, diff_ids = [], []
            for entries in layers:
                buffer = io.BytesIO()
                with tarfile.open(fileobj=buffer, mode='w') as t:
                    for name, kind, content in entries:
                        info = tarfile.TarInfo(name)
                        if kind == 'dir': info.type = tarfile.DIRTYPE; info.mode = 0o755; t.addfile(info)
                        elif kind == 'symlink': info.type = tarfile.SYMTYPE; info.linkname = content; t.addfile(info)
                        elif kind == 'hardlink': info.type = tarfile.LNKTYPE; info.linkname = content; t.addfile(info)
                        else:
                            data = content.encode(); info.size = len(data); info.mode = 0o644; t.addfile(info, io.BytesIO(data))
                body = buffer.getvalue(); blobs.append(body); diff_ids.append('sha256:' + hashlib.sha256(body).hexdigest())
            config = json.dumps({'architecture': 'amd64', 'os': 'linux', 'rootfs': {'type': 'layers', 'diff_ids': diff_ids}}).encode()
            cid = hashlib.sha256(config).hexdigest()
            names = ['%d/layer.tar' % i for i in range(len(blobs))]
            manifest = json.dumps([{'Config': cid + '.json', 'RepoTags': ['layered:1'], 'Layers': names}]).encode()
            with tarfile.open(sys.argv[1], 'w') as out:
                for name, body in list(zip(names, blobs)) + [(cid + '.json', config), ('manifest.json', manifest)]:
                    info = tarfile.TarInfo(name); info.size = len(body); out.addfile(info, io.BytesIO(body))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        let json = String(decoding: try JSONSerialization.data(withJSONObject: layers.map { $0.map { [$0.0, $0.1, $0.2] } }), as: UTF8.self)
        process.arguments = ["-c", script, path, json]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BerthError.internalError("python failed") }
    }

    @Test func whiteoutsAndOpaqueDirectoriesThroughOverlay() throws {
        let root = NSTemporaryDirectory() + "berth-snap-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try ImageStore(root: root)
        let archive = root + "/layered.tar"
        try Self.makeArchive(at: archive, layers: [
            [("a", "dir", ""), ("a/keep", "file", "kept"), ("a/gone", "file", "x"), ("o", "dir", ""), ("o/old", "file", "old"),
             ("a/link", "symlink", "keep"), ("a/hard", "hardlink", "a/keep")],
            [("a/.wh.gone", "file", ""), ("o/.wh..wh..opq", "file", ""), ("o/new", "file", "new")],
        ])
        let fd = open(archive, O_RDONLY)
        defer { close(fd) }
        #expect(try store.load(from: fd) == ["Loaded image: layered:1"])
        let top = try #require(try store.topLayer("layered:1"))
        let upper = store.snapshotter.directory(top) + "/diff"
        var info = stat()
        #expect(stat(upper + "/a/gone", &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR && info.st_rdev == 0)

        let mount = try store.snapshotter.prepare(key: "c1", parent: top)
        let merged = store.snapshotter.root + "/c1/merged"
        let options = (mount.options ?? []).joined(separator: ",")
        let mounted = Process()
        mounted.executableURL = URL(fileURLWithPath: "/bin/mount")
        mounted.arguments = ["-t", "overlay", "overlay", "-o", options, merged]
        try mounted.run()
        mounted.waitUntilExit()
        #expect(mounted.terminationStatus == 0)
        defer {
            let unmount = Process()
            unmount.executableURL = URL(fileURLWithPath: "/bin/umount")
            unmount.arguments = [merged]
            try? unmount.run()
            unmount.waitUntilExit()
            try? store.snapshotter.remove(key: "c1")
        }
        let names = { (dir: String) in ((try? FileManager.default.contentsOfDirectory(atPath: merged + "/" + dir)) ?? []).sorted() }
        #expect(names("a") == ["hard", "keep", "link"])
        #expect(names("o") == ["new"])
        #expect(try String(contentsOfFile: merged + "/a/hard", encoding: .utf8) == "kept")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: merged + "/a/link") == "keep")

        // And back: the top layer's directory written as a tar has Docker's whiteouts again.
        let diffTar = root + "/diff.tar"
        let out = open(diffTar, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        try LayerDiff.write(upperDirectory: upper, to: out)
        close(out)
        let input = open(diffTar, O_RDONLY)
        defer { close(input) }
        let reader = try ArchiveReader(fd: input)
        var paths: [String] = []
        while let entry = try reader.next() { paths.append(entry.path) }
        #expect(paths == ["a", "a/.wh.gone", "o", "o/.wh..wh..opq", "o/new"])
    }

    @Test func aLayerReachingOutsideIsRefusedAndRemovingTheImageRemovesItsLayers() throws {
        let root = NSTemporaryDirectory() + "berth-snap-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try ImageStore(root: root)
        let archive = root + "/escape.tar"
        try Self.makeArchive(at: archive, layers: [[("x", "dir", ""), ("x/../../escaped", "file", "bad")]])
        let fd = open(archive, O_RDONLY)
        defer { close(fd) }
        #expect(throws: BerthError.self) { try store.load(from: fd) }
        #expect(!FileManager.default.fileExists(atPath: root + "/overlay/escaped"))
        #expect(!FileManager.default.fileExists(atPath: root + "/escaped"))
        #expect(try store.list().isEmpty)

        let good = root + "/good.tar"
        try Self.makeArchive(at: good, layers: [[("f", "file", "1")]])
        let goodFD = open(good, O_RDONLY)
        defer { close(goodFD) }
        _ = try store.load(from: goodFD)
        let top = try #require(try store.topLayer("layered:1"))
        #expect(store.snapshotter.hasLayer(top))
        _ = try store.remove("layered:1", force: false)
        #expect(!store.snapshotter.hasLayer(top))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/overlay/l").isEmpty)
    }

    @Test func longNamesDeviceNodesXattrsAndZstdLayers() throws {
        let root = NSTemporaryDirectory() + "berth-snap-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let store = try ImageStore(root: root)
        let longName = "d/" + String(repeating: "n", count: 150)
        // One layer, written as a PAX tar and then compressed with zstd; the config names the
        // diff ID of the uncompressed tar, as registries do.
        let script = """
            import hashlib, io, json, subprocess, sys, tarfile
            root = sys.argv[1]
            buffer = io.BytesIO()
            with tarfile.open(fileobj=buffer, mode='w', format=tarfile.PAX_FORMAT) as t:
                d = tarfile.TarInfo('d'); d.type = tarfile.DIRTYPE; d.mode = 0o755; t.addfile(d)
                data = b'long'; info = tarfile.TarInfo(sys.argv[2]); info.size = len(data); t.addfile(info, io.BytesIO(data))
                node = tarfile.TarInfo('d/null'); node.type = tarfile.CHRTYPE; node.devmajor = 1; node.devminor = 3; node.mode = 0o666
                t.addfile(node)
                data = b'x'; tagged = tarfile.TarInfo('d/tagged'); tagged.size = 1
                tagged.pax_headers = {'SCHILY.xattr.user.berth': 'yes'}; t.addfile(tagged, io.BytesIO(data))
            plain = buffer.getvalue()
            diff = 'sha256:' + hashlib.sha256(plain).hexdigest()
            compressed = subprocess.run(['zstd', '-q', '-c'], input=plain, capture_output=True, check=True).stdout
            config = json.dumps({'architecture': 'amd64', 'os': 'linux', 'rootfs': {'type': 'layers', 'diff_ids': [diff]}}).encode()
            cid = hashlib.sha256(config).hexdigest()
            manifest = json.dumps([{'Config': cid + '.json', 'RepoTags': ['zstd:1'], 'Layers': ['layer.tar.zst']}]).encode()
            with tarfile.open(root + '/zstd.tar', 'w') as out:
                for name, body in [('layer.tar.zst', compressed), (cid + '.json', config), ('manifest.json', manifest)]:
                    info = tarfile.TarInfo(name); info.size = len(body); out.addfile(info, io.BytesIO(body))
            """
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        python.arguments = ["-c", script, root, longName]
        try python.run()
        python.waitUntilExit()
        #expect(python.terminationStatus == 0)
        let fd = open(root + "/zstd.tar", O_RDONLY)
        defer { close(fd) }
        #expect(try store.load(from: fd) == ["Loaded image: zstd:1"])
        let diff = store.snapshotter.directory(try #require(try store.topLayer("zstd:1"))) + "/diff"
        #expect(try String(contentsOfFile: diff + "/" + longName, encoding: .utf8) == "long")
        var info = stat()
        #expect(lstat(diff + "/d/null", &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR && info.st_rdev == berth_makedev(1, 3))
        var value = [UInt8](repeating: 0, count: 8)
        #expect(getxattr(diff + "/d/tagged", "user.berth", &value, value.count) == 3)
        #expect(String(decoding: value.prefix(3), as: UTF8.self) == "yes")
    }

    @Test func anUnpackCutOffByACrashIsRemovedAtTheNextStart() throws {
        let root = NSTemporaryDirectory() + "berth-snap-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let leftover = root + "/overlay/" + String(repeating: "a", count: 64) + "-incomplete/diff/half"
        try FileManager.default.createDirectory(atPath: leftover, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/image/ingest", withIntermediateDirectories: true)
        try "partial".write(toFile: root + "/image/ingest/stray", atomically: true, encoding: .utf8)
        _ = try ImageStore(root: root)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/overlay") == ["l"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/image/ingest").isEmpty)
    }
}
