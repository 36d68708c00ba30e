import Foundation
import Testing

/// docker load / images / inspect / tag / rmi against berthd, through the stock CLI.
@Suite(.enabled(if: Harness.isRoot, "berthd runs as root"))
struct ImagesTests {
    static var imageID: String {
        let info = try! JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Harness.imageDir + "/image-info.json"))) as! [String: Any]
        return (info["image_id"] ?? info["id"] ?? info["imageID"]) as! String
    }

    /// The image's one layer: its chain ID is its diff ID.
    static var layerID: String {
        let info = try! JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Harness.imageDir + "/image-info.json"))) as! [String: Any]
        return info["diffID"] as! String
    }

    @Test func loadListInspectTagRemove() throws {
        let daemon = try TestDaemon()
        let load = daemon.docker(["load", "-i", Harness.imageDir + "/busybox.tar"])
        #expect(load.status == 0, "\(load.stderr)")
        #expect(load.stdout == "Loaded image: busybox:latest\n")
        let images = daemon.docker(["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"])
        #expect(images.stdout == "busybox:latest \(Self.imageID.dropFirst(7).prefix(12))\n")
        let inspect = daemon.docker(["image", "inspect", "--format", "{{.Id}} {{.Os}} {{json .Config.Cmd}} {{len .RootFS.Layers}}", "busybox"])
        #expect(inspect.stdout == "\(Self.imageID) linux [\"sh\"] 1\n", "\(inspect.stderr)")
        // SIZE counts the files in the layers, symlinks too, as dockerd does (not the tar around them).
        var fileBytes = 0
        let rootfs = Harness.imageDir + "/rootfs"
        for case let path as String in FileManager.default.enumerator(atPath: rootfs)! {
            var info = stat()
            if lstat(rootfs + "/" + path, &info) == 0, (info.st_mode & S_IFMT) != S_IFDIR { fileBytes += Int(info.st_size) }
        }
        #expect(daemon.docker(["image", "inspect", "--format", "{{.Size}}", "busybox"]).stdout == "\(fileBytes)\n")
        // Without --type, inspect finds no container by that name and goes on to images.
        #expect(daemon.docker(["inspect", "--format", "{{.Id}}", "busybox"]).stdout == Self.imageID + "\n")
        // A load sets no LastTagTime; a tag does, and an untag leaves it, as dockerd's.
        let lastTagTime = { daemon.docker(["image", "inspect", "--format", "{{.Metadata.LastTagTime}}", "busybox"]).stdout }
        #expect(lastTagTime() == "0001-01-01 00:00:00 +0000 UTC\n")
        #expect(daemon.docker(["tag", "busybox", "mybox:1"]).status == 0)
        let tagged = lastTagTime()
        #expect(tagged.hasPrefix("20") && tagged.hasSuffix(" +0000 UTC\n"), "\(tagged)")
        #expect(daemon.docker(["images", "-q", "mybox"]).stdout.hasPrefix(String(Self.imageID.dropFirst(7).prefix(12))))
        // Only the names the pattern matches are listed, as dockerd drops the others.
        let named = daemon.docker(["images", "--format", "{{.Repository}}:{{.Tag}}", "mybox"])
        #expect(named.stdout == "mybox:1\n", "\(named.stderr)")
        #expect(daemon.docker(["images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference=busy*"]).stdout
            == "busybox:latest\n")
        let untag = daemon.docker(["rmi", "mybox:1"])
        #expect(untag.stdout == "Untagged: mybox:1\n")
        #expect(lastTagTime() == tagged)
        // By ID, still tagged once: untagged and deleted.
        let remove = daemon.docker(["rmi", String(Self.imageID.dropFirst(7).prefix(12))])
        // As dockerd: the layers that go with it are listed too.
        #expect(remove.stdout == "Untagged: busybox:latest\nDeleted: \(Self.imageID)\nDeleted: \(Self.layerID)\n", "\(remove.stderr)")
        #expect(daemon.docker(["images", "-q"]).stdout.isEmpty)
        // The OCI layout of the same image loads to the same ID.
        #expect(daemon.docker(["load", "-i", Harness.imageDir + "/busybox-oci.tar"]).status == 0)
        #expect(daemon.docker(["image", "inspect", "--format", "{{.Id}}", "busybox:latest"]).stdout == Self.imageID + "\n")
        let info = daemon.docker(["info", "--format", "{{.Images}}"])
        #expect(info.stdout == "1\n")
    }

    @Test func loadOnATerminalReportsEachLayer() throws {
        let daemon = try TestDaemon()
        // quiet=0 is what the CLI asks for when its output is a terminal.
        let load = daemon.curl(["-X", "POST", "--data-binary", "@" + Harness.imageDir + "/busybox.tar",
                                "http://berth/v1.50/images/load?quiet=0"])
        let lines = load.stdout.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.count == 2, "\(load.stdout)")
        #expect(lines.first?.contains(#""status":"Loading layer""#) == true)
        #expect(lines.first?.contains(#""progress":"[==================================================>]"#) == true)
        #expect(lines.first?.contains(#""progressDetail":{"#) == true)
        #expect(lines.last == #"{"stream":"Loaded image: busybox:latest\n"}"#)
        // quiet=1 (output not a terminal): only the result.
        let quiet = daemon.curl(["-X", "POST", "--data-binary", "@" + Harness.imageDir + "/busybox.tar",
                                 "http://berth/v1.50/images/load?quiet=1"])
        #expect(quiet.stdout == #"{"stream":"Loaded image: busybox:latest\n"}"# + "\r\n")
    }

    @Test func badArchivesAndUnknownImages() throws {
        let daemon = try TestDaemon()
        let directory = daemon.directory
        let missing = daemon.docker(["image", "inspect", "nope"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("Error response from daemon: No such image: nope:latest"))
        #expect(daemon.docker(["rmi", "nope"]).stderr.contains("No such image: nope:latest"))

        let original = try Data(contentsOf: URL(fileURLWithPath: Harness.imageDir + "/busybox.tar"))
        try original.prefix(100_000).write(to: URL(fileURLWithPath: directory + "/truncated.tar"))
        let truncated = daemon.docker(["load", "-i", directory + "/truncated.tar"])
        #expect(truncated.status == 1)
        #expect(truncated.stderr.contains("Truncated tar archive"))

        let evil = Harness.run("/usr/bin/python3", ["-c", """
            import io, tarfile
            with tarfile.open('\(directory)/evil.tar', 'w') as t:
                info = tarfile.TarInfo('../escape'); info.size = 1; t.addfile(info, io.BytesIO(b'x'))
            """])
        #expect(evil.status == 0)
        let traversal = daemon.docker(["load", "-i", directory + "/evil.tar"])
        #expect(traversal.status == 1)
        #expect(traversal.stderr.contains("invalid tar entry path \"../escape\""))
        #expect(!FileManager.default.fileExists(atPath: directory + "/data/escape"))

        // A layer that does not match the config's diff ID is refused, and nothing is kept.
        let tamper = Harness.run("/usr/bin/python3", ["-c", """
            import io, tarfile
            src = tarfile.open('\(Harness.imageDir)/busybox.tar')
            with tarfile.open('\(directory)/wrong.tar', 'w') as out:
                for m in src.getmembers():
                    f = src.extractfile(m) if m.isfile() else None
                    if m.name.endswith('layer.tar'):
                        data = f.read() + bytes(1024); m.size = len(data); out.addfile(m, io.BytesIO(data))
                    else:
                        out.addfile(m, f)
            """])
        #expect(tamper.status == 0, "\(tamper.stderr)")
        let wrong = daemon.docker(["load", "-i", directory + "/wrong.tar"])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("layer digest mismatch"))
        #expect(daemon.docker(["images", "-q"]).stdout.isEmpty)
        let blobs = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/data/image/content/blobs/sha256")) ?? []
        #expect(blobs.isEmpty, "blobs left behind: \(blobs)")
    }

    @Test func saveLoadsBackToTheSameImageAndHistoryPruneDiskUsage() throws {
        let daemon = try TestDaemon()
        #expect(daemon.docker(["load", "-q", "-i", Harness.imageDir + "/busybox.tar"]).status == 0)
        #expect(daemon.docker(["tag", "busybox", "other:2"]).status == 0)
        let saved = daemon.directory + "/saved.tar"
        let save = daemon.docker(["save", "-o", saved, "busybox", "other:2"])
        #expect(save.status == 0, "\(save.stderr)")
        #expect(daemon.docker(["rmi", "busybox", "other:2"]).status == 0)
        #expect(daemon.docker(["images", "-q"]).stdout.isEmpty)
        let load = daemon.docker(["load", "-i", saved])
        #expect(load.stdout == "Loaded image: busybox:latest\nLoaded image: other:2\n", "\(load.stderr)")
        #expect(daemon.docker(["image", "inspect", "--format", "{{.Id}}", "other:2"]).stdout == Self.imageID + "\n")

        let history = daemon.docker(["history", "--no-trunc", "--format", "{{.ID}} {{.CreatedBy}}", "busybox"])
        #expect(history.stdout.hasPrefix(Self.imageID + " "), "\(history.stdout) \(history.stderr)")

        let df = daemon.docker(["system", "df", "--format", "{{.Type}} {{.TotalCount}}"])
        #expect(df.stdout.contains("Images 1\n"), "\(df.stdout) \(df.stderr)")
        // Before API 1.44 each image has VirtualSize, equal to Size, in /system/df as in /images/json.
        let size = daemon.docker(["image", "inspect", "-f", "{{.Size}}", "busybox"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(daemon.curl(["http://berth/v1.43/system/df"]).stdout.contains(#""VirtualSize":\#(size)"#))
        #expect(!daemon.curl(["http://berth/v1.44/system/df"]).stdout.contains("VirtualSize"))

        // Tagged images are not dangling; prune -a removes them all.
        #expect(daemon.docker(["image", "prune", "-f"]).stdout == "Total reclaimed space: 0B\n")
        // Nothing deleted is null, as dockerd writes it (docker-py reads the key).
        #expect(daemon.curl(["-X", "POST", "http://berth/v1.50/images/prune"]).stdout == #"{"ImagesDeleted":null,"SpaceReclaimed":0}"# + "\n")
        let pruneAll = daemon.docker(["image", "prune", "-a", "-f"])
        #expect(pruneAll.stdout.contains("deleted: \(Self.imageID)"), "\(pruneAll.stdout) \(pruneAll.stderr)")
        #expect(daemon.docker(["images", "-q"]).stdout.isEmpty)
    }

    @Test func importARootfsTarWithChanges() throws {
        let daemon = try TestDaemon()
        let archive = daemon.directory + "/rootfs.tgz"
        #expect(Harness.run("/bin/tar", ["-C", Harness.imageDir + "/rootfs", "-czf", archive, "."]).status == 0)
        let imported = daemon.docker(["import", "--change", "CMD [\"sh\"]", "--change", "ENV A=1", "--change", "EXPOSE 80",
                                      "--message", "from a tarball", archive, "imported:1"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.hasPrefix("sha256:"))
        let inspect = daemon.docker(["image", "inspect", "--format", "{{json .Config.Cmd}} {{json .Config.Env}} {{json .Config.ExposedPorts}} {{.Comment}}", "imported:1"])
        #expect(inspect.stdout == "[\"sh\"] [\"A=1\"] {\"80/tcp\":{}} from a tarball\n", "\(inspect.stderr)")
        #expect(daemon.docker(["image", "inspect", "--format", "{{.Id}}", "imported:1"]).stdout == imported.stdout)
        // From standard input, untagged.
        let piped = Harness.run("/bin/sh", ["-c", "cat '\(archive)' | '\(Harness.dockerCLI)' -H \(daemon.host) import -"])
        #expect(piped.status == 0 && piped.stdout.hasPrefix("sha256:"), "\(piped.stderr)")
        let bad = daemon.docker(["import", "--change", "BOGUS x", archive])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("bogus is not a valid change command"))
        try "not a tar".write(toFile: daemon.directory + "/plain.txt", atomically: true, encoding: .utf8)
        #expect(daemon.docker(["import", daemon.directory + "/plain.txt"]).status == 1)
    }

    @Test func killedDuringALoadLeavesNothingHalfDone() throws {
        var daemon = try TestDaemon()
        let directory = daemon.directory
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A 24 MiB image, uploaded at 4 MiB/s: the daemon dies in the middle of it.
        let big = directory + "/big.tar"
        try Self.makeRandomImage(big, reference: "big:1", megabytes: 24)
        let upload = Process()
        upload.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        upload.arguments = ["-s", "--limit-rate", "4M", "--unix-socket", daemon.socket, "-X", "POST",
                            "-H", "Content-Type: application/x-tar", "--data-binary", "@" + big, "http://berth/v1.50/images/load"]
        upload.standardOutput = FileHandle.nullDevice
        try upload.run()
        usleep(2_000_000)
        daemon.crash()
        upload.waitUntilExit()
        daemon = try TestDaemon(directory: directory)
        #expect(daemon.docker(["images", "-q"]).stdout.isEmpty)
        for leftover in ["/data/tmp", "/data/image/ingest", "/data/image/content/blobs/sha256"] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory + leftover)) ?? []
            #expect(entries.isEmpty, "\(leftover) still holds \(entries)")
        }
        // The same archive loads completely afterwards.
        #expect(daemon.docker(["load", "-i", big]).stdout == "Loaded image: big:1\n")
    }

    @Test func saveStreamsAndSurvivesAClientThatLeaves() throws {
        let daemon = try TestDaemon()
        let big = daemon.directory + "/big.tar"
        try Self.makeRandomImage(big, reference: "big:1", megabytes: 16)
        #expect(daemon.docker(["load", "-i", big]).stdout == "Loaded image: big:1\n")
        // Streamed in chunks, not staged whole: no Content-Length.
        let head = daemon.curl(["-D", "-", "-o", "/dev/null", "http://berth/v1.50/images/get?names=big:1"])
        #expect(head.stdout.lowercased().contains("transfer-encoding: chunked"), "\(head.stdout)")
        #expect(head.stdout.contains("Content-Type: application/x-tar"))
        // A client that reads 64 KiB and hangs up must not stop the daemon (SIGPIPE) or leak the save.
        let leave = Harness.run("/usr/bin/python3", ["-c", """
            import socket, sys
            s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
            s.sendall(b'GET /v1.50/images/big:1/get HTTP/1.1\\r\\nHost: berth\\r\\n\\r\\n')
            got = 0
            while got < 65536:
                data = s.recv(65536)
                if not data: break
                got += len(data)
            s.close()
            print(got >= 65536)
            """, daemon.socket])
        #expect(leave.stdout == "True\n", "\(leave.stderr)")
        usleep(200_000)
        #expect(daemon.curl(["http://berth/_ping"]).stdout == "OK")
        // The whole archive still comes through, and loads back to the same image.
        let saved = daemon.directory + "/saved.tar"
        #expect(daemon.docker(["save", "-o", saved, "big:1"]).status == 0)
        let id = daemon.docker(["image", "inspect", "--format", "{{.Id}}", "big:1"]).stdout
        #expect(daemon.docker(["rmi", "big:1"]).status == 0)
        #expect(daemon.docker(["load", "-i", saved]).stdout == "Loaded image: big:1\n")
        #expect(daemon.docker(["image", "inspect", "--format", "{{.Id}}", "big:1"]).stdout == id)
        let unknown = daemon.docker(["save", "-o", daemon.directory + "/none.tar", "nope"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("Error response from daemon: No such image: nope:latest"), "\(unknown.stderr)")
    }

    @Test func shutdownFinishesALoadInProgress() throws {
        let daemon = try TestDaemon()
        let archive = daemon.directory + "/slow.tar"
        try Self.makeRandomImage(archive, reference: "slow:1", megabytes: 6)
        let output = daemon.directory + "/upload.out"
        let upload = Process()
        upload.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        upload.arguments = ["-s", "-o", output, "--limit-rate", "6M", "--unix-socket", daemon.socket, "-X", "POST",
                            "-H", "Content-Type: application/x-tar", "--data-binary", "@" + archive, "http://berth/v1.50/images/load?quiet=1"]
        try upload.run()
        usleep(400_000)
        // SIGTERM mid-upload: the listener closes, the load in progress still completes.
        kill(daemon.process.processIdentifier, SIGTERM)
        upload.waitUntilExit()
        #expect(daemon.stop() == 0)
        let answer = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(answer == "{\"stream\":\"Loaded image: slow:1\\n\"}\r\n", "\(answer) \(daemon.log)")
        #expect(!FileManager.default.fileExists(atPath: daemon.socket))
    }

    /// A docker-archive with one layer of random bytes, so that it cannot be compressed away.
    static func makeRandomImage(_ path: String, reference: String, megabytes: Int) throws {
        let make = Harness.run("/usr/bin/python3", ["-c", """
            import hashlib, io, json, os, sys, tarfile
            path, reference, size = sys.argv[1], sys.argv[2], int(sys.argv[3]) << 20
            layer = io.BytesIO()
            with tarfile.open(fileobj=layer, mode='w') as t:
                data = os.urandom(size); info = tarfile.TarInfo('blob'); info.size = len(data)
                t.addfile(info, io.BytesIO(data))
            layer = layer.getvalue(); diff = 'sha256:' + hashlib.sha256(layer).hexdigest()
            config = json.dumps({'architecture': 'amd64', 'os': 'linux', 'rootfs': {'type': 'layers', 'diff_ids': [diff]}}).encode()
            cid = hashlib.sha256(config).hexdigest()
            manifest = json.dumps([{'Config': cid + '.json', 'RepoTags': [reference], 'Layers': ['l/layer.tar']}]).encode()
            with tarfile.open(path, 'w') as t:
                for name, body in [('l/layer.tar', layer), (cid + '.json', config), ('manifest.json', manifest)]:
                    info = tarfile.TarInfo(name); info.size = len(body); t.addfile(info, io.BytesIO(body))
            """, path, reference, String(megabytes)])
        guard make.status == 0 else { throw TestFailure("cannot make \(path): \(make.stderr)") }
    }

    @Test func pruneFiltersUntilAndLabel() throws {
        let daemon = try TestDaemon()
        #expect(daemon.docker(["load", "-q", "-i", Harness.imageDir + "/busybox.tar"]).status == 0)  // created years ago
        let archive = daemon.directory + "/rootfs.tar"
        #expect(Harness.run("/bin/tar", ["-C", Harness.imageDir + "/rootfs", "-cf", archive, "."]).status == 0)
        #expect(daemon.docker(["import", "--change", "LABEL keep=yes", archive, "fresh:1"]).status == 0)
        // Only what is older than an hour: busybox goes, the fresh import stays.
        let old = daemon.docker(["image", "prune", "-a", "-f", "--filter", "until=1h"])
        #expect(old.stdout.contains("untagged: busybox:latest"), "\(old.stdout) \(old.stderr)")
        #expect(daemon.docker(["images", "--format", "{{.Repository}}"]).stdout == "fresh\n")
        #expect(daemon.docker(["image", "prune", "-a", "-f", "--filter", "label!=keep"]).stdout == "Total reclaimed space: 0B\n")
        #expect(daemon.docker(["image", "prune", "-a", "-f", "--filter", "label=keep=yes"]).stdout.contains("untagged: fresh:1"))
        let bad = daemon.docker(["image", "prune", "-f", "--filter", "until=someday"])
        #expect(bad.status == 1)
        #expect(bad.stderr == "Error response from daemon: failed to parse value as time or duration: \"someday\"\n", "\(bad.stderr)")
    }
}
