import BerthOCI
import Foundation
import Glibc
import Synchronization
import Testing

/// `docker cp`, `docker export` and `docker diff` through the stock CLI, with dockerd
/// 20.10's answers as the reference (output, error text, exit code).
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct CopyExportDiffTests {
    /// A temporary host directory for the files copied in and out, removed at the end.
    final class HostDirectory {
        let path = NSTemporaryDirectory() + Harness.uniqueID("berth-cp")
        init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    static func shell(_ daemon: TestDaemon, _ script: String) -> Harness.Result {
        Harness.run("/bin/sh", ["-c", script.replacing("DOCKER", with: "'\(Harness.dockerCLI)' -H \(daemon.host)")])
    }

    static func stat(_ daemon: TestDaemon, _ container: String, _ path: String) -> String? {
        let head = daemon.curl(["-I", "http://berth/containers/\(container)/archive?path=\(path)"]).stdout
        guard let line = head.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("x-docker-container-path-stat:") }),
              let data = Data(base64Encoded: String(line.split(separator: " ").last ?? "")) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// Waits up to 2 s for what a detached container's command sets up.
    static func waitFor(_ ready: () -> Bool) {
        for _ in 0..<100 {
            if ready() { return }
            usleep(20_000)
        }
    }

    @Test func copyFilesAndDirectoriesBothWays() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let host = try HostDirectory()
            #expect(daemon.docker(["run", "-d", "--name", "cpb", "-v", "/scratch", "busybox", "sleep", "300"]).status == 0)
            // Into the container: a file (its owner kept, as dockerd keeps the tar's), a directory, a tar on stdin.
            try "hello\n".write(toFile: host.path + "/greeting", atomically: true, encoding: .utf8)
            chown(host.path + "/greeting", 1234, 2345)
            try FileManager.default.createDirectory(atPath: host.path + "/tree/sub", withIntermediateDirectories: true)
            try "leaf\n".write(toFile: host.path + "/tree/sub/leaf", atomically: true, encoding: .utf8)
            try FileManager.default.createSymbolicLink(atPath: host.path + "/tree/sub/link", withDestinationPath: "leaf")
            #expect(daemon.docker(["cp", host.path + "/greeting", "cpb:/tmp/"]).status == 0)
            #expect(daemon.docker(["cp", host.path + "/tree", "cpb:/tmp/copied"]).status == 0)
            #expect(Self.shell(daemon, "tar -C '\(host.path)' -cf - greeting | DOCKER cp - cpb:/scratch").status == 0)
            let listing = daemon.docker(["exec", "cpb", "sh", "-c",
                                         "ls -ln /tmp/greeting | awk '{print $3, $4}'; cat /tmp/greeting /tmp/copied/sub/leaf /scratch/greeting; readlink /tmp/copied/sub/link"])
            #expect(listing.stdout == "1234 2345\nhello\nleaf\nhello\nleaf\n", "\(listing)")
            // Out of it: a file, a directory, and the container's mounts (a volume, the generated /etc/hostname).
            #expect(daemon.docker(["exec", "cpb", "sh", "-c", "echo inside > /scratch/note"]).status == 0)
            #expect(daemon.docker(["cp", "cpb:/scratch/note", host.path + "/note"]).status == 0)
            #expect((try? String(contentsOfFile: host.path + "/note", encoding: .utf8)) == "inside\n")
            #expect(daemon.docker(["cp", "cpb:/tmp/copied", host.path + "/back"]).status == 0)
            #expect((try? String(contentsOfFile: host.path + "/back/sub/leaf", encoding: .utf8)) == "leaf\n")
            #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: host.path + "/back/sub/link")) == "leaf")
            let id = daemon.docker(["inspect", "-f", "{{.Id}}", "cpb"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(daemon.docker(["cp", "cpb:/etc/hostname", host.path + "/hostname"]).status == 0)
            #expect((try? String(contentsOfFile: host.path + "/hostname", encoding: .utf8)) == String(id.prefix(12)) + "\n")
            // To stdout: a tar named by the path's last element; "/." gives the directory's contents.
            let tar = Self.shell(daemon, "DOCKER cp cpb:/etc/hostname - | tar -tvf -")
            // Numeric owners only: current dockerd's headers name no user or group.
            #expect(tar.status == 0 && tar.stdout.hasPrefix("-rw-r--r-- 0/0 ") && tar.stdout.hasSuffix(" hostname\n"), "\(tar)")
            let contents = Self.shell(daemon, "DOCKER cp cpb:/tmp/copied/. - | tar -tf -")
            #expect(contents.stdout == "./\n./sub/\n./sub/leaf\n./sub/link\n", "\(contents)")
            // The stat header, as dockerd encodes it (mode in Go's FileMode bits).
            let stat = Self.stat(daemon, "cpb", "/tmp/copied/sub/link") ?? ""
            #expect(stat.hasPrefix(#"{"name":"link","size":4,"mode":134218239,"mtime":""#) && stat.hasSuffix(#"","linkTarget":"/tmp/copied/sub/leaf"}"#), "\(stat)")
            // A paused container is copied from as a running one.
            #expect(daemon.docker(["pause", "cpb"]).status == 0)
            #expect(Self.shell(daemon, "DOCKER cp cpb:/scratch/note - | tar -xOf -").stdout == "inside\n")
            #expect(daemon.docker(["unpause", "cpb"]).status == 0)
            #expect(daemon.docker(["rm", "-f", "-v", "cpb"]).status == 0)
        }
    }

    @Test func copyWithAStoppedContainer() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let host = try HostDirectory()
            try "before start\n".write(toFile: host.path + "/file", atomically: true, encoding: .utf8)
            #expect(daemon.docker(["create", "--name", "cps", "busybox", "cat", "/root/file"]).status == 0)
            #expect(daemon.docker(["cp", host.path + "/file", "cps:/root/file"]).status == 0)
            #expect(daemon.docker(["cp", "cps:/etc/passwd", host.path + "/passwd"]).status == 0)
            #expect((try? String(contentsOfFile: host.path + "/passwd", encoding: .utf8))?.hasPrefix("root:") == true)
            // Copies at the same time share the root's mount.
            let statuses = Mutex([Int32](repeating: -1, count: 6))
            let (address, directory) = (daemon.host, host.path)
            DispatchQueue.concurrentPerform(iterations: 6) { index in
                let status = Harness.run(Harness.dockerCLI, ["-H", address, "cp", "cps:/etc/passwd", directory + "/passwd\(index)"]).status
                statuses.withLock { $0[index] = status }
            }
            #expect(statuses.withLock { $0 } == [Int32](repeating: 0, count: 6))
            for index in 0..<6 {
                #expect((try? String(contentsOfFile: host.path + "/passwd\(index)", encoding: .utf8))?.hasPrefix("root:") == true)
            }
            // The root is unmounted again between copies: nothing of this container stays mounted.
            let mounts = readProcFile("/proc/self/mounts") ?? ""
            #expect(!mounts.contains(daemon.directory + "/data/overlay/"), "\(mounts)")
            #expect(daemon.docker(["start", "-a", "cps"]).stdout == "before start\n")
            // Exited: a copy out still works, and one in is seen by the next start.
            try "after exit\n".write(toFile: host.path + "/file", atomically: true, encoding: .utf8)
            #expect(daemon.docker(["cp", host.path + "/file", "cps:/root/file"]).status == 0)
            #expect(daemon.docker(["start", "-a", "cps"]).stdout == "after exit\n")
            #expect(daemon.docker(["rm", "cps"]).status == 0)
        }
    }

    /// A created container's binds are part of what `docker cp` sees, as dockerd mounts them
    /// for the copy: reads and writes go to the host directory, a read-only one refuses.
    @Test func copyThroughTheBindsOfACreatedContainer() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let bound = try HostDirectory()
            let readOnly = try HostDirectory()
            let host = try HostDirectory()
            try "from the host\n".write(toFile: bound.path + "/there", atomically: true, encoding: .utf8)
            try "copied\n".write(toFile: host.path + "/file", atomically: true, encoding: .utf8)
            #expect(daemon.docker(["create", "--name", "cpv", "-v", bound.path + ":/data", "-v", readOnly.path + ":/locked:ro",
                                   "busybox", "true"]).status == 0)
            #expect(Self.shell(daemon, "DOCKER cp cpv:/data/there - | tar -xOf -").stdout == "from the host\n")
            #expect(daemon.docker(["cp", host.path + "/file", "cpv:/data/"]).status == 0)
            #expect((try? String(contentsOfFile: bound.path + "/file", encoding: .utf8)) == "copied\n")
            let refused = daemon.docker(["cp", host.path + "/file", "cpv:/locked/"])
            #expect(refused.status == 1 && refused.stderr == "Error response from daemon: mounted volume is marked read-only\n", "\(refused)")
            #expect((try? FileManager.default.contentsOfDirectory(atPath: readOnly.path)) == [])
            let mounts = readProcFile("/proc/self/mounts") ?? ""
            #expect(!mounts.contains(daemon.directory + "/data/overlay/"), "\(mounts)")
            #expect(daemon.docker(["rm", "cpv"]).status == 0)
        }
    }

    /// A symlink in the container that points "outside" (absolute or through ..) is read as the
    /// container sees it: the host's file of that name is never read or written.
    @Test func symlinksPointingOutsideStayInsideTheContainer() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let host = try HostDirectory()
            try "host secret\n".write(toFile: host.path + "/secret", atomically: true, encoding: .utf8)
            let relative = "../../../../../../.." + host.path
            #expect(daemon.docker(["run", "-d", "--name", "cpl", "busybox", "sh", "-c",
                                   "mkdir -p \(host.path) && echo container > \(host.path)/secret && ln -s \(relative) /tmp/up && ln -s \(host.path) /tmp/abs && sleep 300"]).status == 0)
            Self.waitFor { daemon.docker(["exec", "cpl", "test", "-L", "/tmp/abs"]).status == 0 }
            for link in ["/tmp/up/secret", "/tmp/abs/secret"] {
                let out = Self.shell(daemon, "DOCKER cp cpl:\(link) - | tar -xOf -")
                #expect(out.stdout == "container\n", "\(link): \(out)")
            }
            try "copied in\n".write(toFile: host.path + "/incoming", atomically: true, encoding: .utf8)
            #expect(daemon.docker(["cp", host.path + "/incoming", "cpl:/tmp/up/"]).status == 0)
            #expect(daemon.docker(["exec", "cpl", "cat", host.path + "/incoming"]).stdout == "copied in\n")
            // The API follows a last element that is a symlink to a directory, as dockerd's PUT does.
            #expect(Harness.run("/usr/bin/tar", ["-C", host.path, "-cf", host.path + "/upload.tar", "incoming"]).status == 0)
            let put = daemon.curl(["-X", "PUT", "-w", "%{http_code}", "--data-binary", "@" + host.path + "/upload.tar",
                                   "http://berth/containers/cpl/archive?path=/tmp/abs"])
            #expect(put.stdout == "200", "\(put)")
            #expect(daemon.docker(["exec", "cpl", "ls", host.path]).stdout == "incoming\nsecret\n")
            try FileManager.default.removeItem(atPath: host.path + "/upload.tar")
            // The host's directory holds only what the test put there.
            #expect((try? FileManager.default.contentsOfDirectory(atPath: host.path).sorted()) == ["incoming", "secret"])
            #expect((try? String(contentsOfFile: host.path + "/secret", encoding: .utf8)) == "host secret\n")
            #expect(daemon.docker(["rm", "-f", "cpl"]).status == 0)
        }
    }

    /// A symlink that loops cannot be copied, with or without -L: dockerd's stat of it fails.
    @Test func aSymlinkLoopIsAnError() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let host = try HostDirectory()
            #expect(daemon.docker(["run", "--name", "cploop", "busybox", "sh", "-c", "ln -s /loop /loop && ln -s b /a && ln -s a /b"]).status == 0)
            for arguments in [["cp", "cploop:/loop", host.path + "/out"], ["cp", "-L", "cploop:/loop", host.path + "/out"]] {
                let copy = daemon.docker(arguments)
                #expect(copy.status == 1 && copy.stderr == "Error response from daemon: evalSymlinksInScope: too many links in /loop\n", "\(copy)")
            }
            let pair = daemon.docker(["cp", "cploop:/a", host.path + "/out"])
            #expect(pair.stderr == "Error response from daemon: evalSymlinksInScope: too many links in /a\n", "\(pair)")
            #expect(!FileManager.default.fileExists(atPath: host.path + "/out"))
            #expect(daemon.docker(["rm", "cploop"]).status == 0)
        }
    }

    @Test func copyErrorsAsDockerd() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let host = try HostDirectory()
            try "x\n".write(toFile: host.path + "/file", atomically: true, encoding: .utf8)
            #expect(daemon.docker(["run", "-d", "--name", "cpe", "busybox", "sleep", "300"]).status == 0)
            let missing = daemon.docker(["cp", "cpe:/nope", host.path + "/out"])
            #expect(missing.status == 1 && missing.stderr == "Error response from daemon: Could not find the file /nope in container cpe\n", "\(missing)")
            let missingDirectory = daemon.docker(["cp", host.path + "/file", "cpe:/nodir/x"])
            #expect(missingDirectory.status == 1 && missingDirectory.stderr == "Error response from daemon: Could not find the file /nodir in container cpe\n",
                    "\(missingDirectory)")
            let notDirectory = daemon.docker(["cp", host.path + "/file", "cpe:/etc/hostname/x"])
            #expect(notDirectory.status == 1 && notDirectory.stderr == "Error response from daemon: extraction point is not a directory\n",
                    "\(notDirectory)")
            let noContainer = daemon.docker(["cp", "nosuch:/etc/hostname", host.path + "/out"])
            #expect(noContainer.status == 1 && noContainer.stderr == "Error response from daemon: No such container: nosuch\n")
            let noContainerIn = daemon.docker(["cp", host.path + "/file", "nosuch:/tmp"])
            #expect(noContainerIn.status == 1 && noContainerIn.stderr == "Error response from daemon: No such container: nosuch\n")
            // A read-only root refuses (a --tmpfs on it counts as the root: see CopyParityTests).
            #expect(daemon.docker(["create", "--name", "cpro", "--read-only", "--tmpfs", "/scratch", "busybox", "true"]).status == 0)
            let readOnly = daemon.docker(["cp", host.path + "/file", "cpro:/tmp"])
            #expect(readOnly.status == 1 && readOnly.stderr == "Error response from daemon: container rootfs is marked read-only\n", "\(readOnly)")
            // The API's own checks.
            #expect(daemon.curl(["http://berth/containers/cpe/archive"]).stdout == #"{"message":"bad parameter: pathcannot be empty"}"# + "\n")
            #expect(daemon.docker(["rm", "-f", "cpe", "cpro"]).status == 0)
        }
    }

    @Test func copyInAsTheContainersUserWithArchiveFlag() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let host = try HostDirectory()
            try "x\n".write(toFile: host.path + "/file", atomically: true, encoding: .utf8)
            chown(host.path + "/file", 1234, 2345)
            #expect(daemon.docker(["create", "--name", "cpu", "--user", "1000:1001", "busybox", "true"]).status == 0)
            #expect(daemon.docker(["cp", "-a", host.path + "/file", "cpu:/tmp/"]).status == 0)
            let owner = Self.shell(daemon, "DOCKER cp cpu:/tmp/file - | tar -tvnf -").stdout
            #expect(owner.hasPrefix("-rw-r--r-- 1000/1001"), "\(owner)")
            #expect(daemon.docker(["rm", "cpu"]).status == 0)
        }
    }

    @Test func exportListsTheRootWithoutItsMounts() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["run", "-d", "--name", "exp", "--tmpfs", "/scratch", "busybox", "sh", "-c",
                                   "echo mark > /marker && echo gone > /scratch/inside && sleep 300"]).status == 0)
            Self.waitFor { daemon.docker(["exec", "exp", "test", "-f", "/scratch/inside"]).status == 0 }
            let names = Self.shell(daemon, "DOCKER export exp | tar -tf -")
            #expect(names.status == 0)
            let lines = Set(names.stdout.split(separator: "\n").map(String.init))
            for expected in ["bin/", "bin/busybox", "etc/passwd", "marker", "proc/", "scratch/", "tmp/"] {
                #expect(lines.contains(expected), "\(expected) missing from \(names.stdout.prefix(400))")
            }
            // Mounts are not part of it: /proc's files, the tmpfs's file.
            #expect(!lines.contains("scratch/inside") && !lines.contains { $0.hasPrefix("proc/") && $0 != "proc/" })
            let host = try HostDirectory()
            #expect(daemon.docker(["export", "-o", host.path + "/exp.tar", "exp"]).status == 0)
            #expect(Harness.run("/usr/bin/tar", ["-xOf", host.path + "/exp.tar", "marker"]).stdout == "mark\n")
            // A stopped container exports too.
            #expect(daemon.docker(["stop", "-t", "0", "exp"]).status == 0)
            #expect(Self.shell(daemon, "DOCKER export exp | tar -xOf - marker").stdout == "mark\n")
            let missing = daemon.docker(["export", "nosuch"])
            #expect(missing.status == 1 && missing.stderr == "Error response from daemon: No such container: nosuch\n")
            #expect(daemon.docker(["rm", "exp"]).status == 0)
        }
    }

    @Test func diffListsAddedChangedAndDeletedPaths() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            // A new container has no changes: dockerd prints nothing (the API answers null).
            #expect(daemon.docker(["create", "--name", "dif", "busybox", "sh", "-c",
                                   "touch /tmp/new && rm /etc/group && mkdir /made && echo x > /made/file && echo changed >> /etc/passwd"]).status == 0)
            let fresh = daemon.docker(["diff", "dif"])
            #expect(fresh.status == 0 && fresh.stdout.isEmpty)
            #expect(daemon.curl(["http://berth/containers/dif/changes"]).stdout == "null\n")
            #expect(daemon.docker(["start", "-a", "dif"]).status == 0)
            // What Berth writes for its own mounts (/etc/hosts, /.dockerenv) is not listed, as
            // dockerd keeps them in its init layer.
            let diff = daemon.docker(["diff", "dif"])
            #expect(diff.status == 0)
            #expect(diff.stdout == "C /etc\nD /etc/group\nC /etc/passwd\nA /made\nA /made/file\nC /tmp\nA /tmp/new\n", "\(diff)")
            // Paths as Go writes them: "/" not escaped.
            #expect(daemon.curl(["http://berth/containers/dif/changes"]).stdout.hasPrefix(#"[{"Path":"/etc","Kind":0},"#))
            // A copy-up that changed nothing (an access time, chown to the same owner, a hard
            // link to a file) is not a change, as dockerd compares the two trees.
            #expect(daemon.docker(["run", "--name", "copied", "busybox", "sh", "-c",
                                   "touch -a /etc/passwd && chown 0:0 /etc/group && ln /bin/busybox /hl"]).status == 0)
            #expect(daemon.docker(["diff", "copied"]).stdout == "A /hl\n")
            #expect(daemon.docker(["rm", "copied"]).status == 0)
            let missing = daemon.docker(["diff", "nosuch"])
            #expect(missing.status == 1 && missing.stderr == "Error response from daemon: No such container: nosuch\n")
            #expect(daemon.docker(["rm", "dif"]).status == 0)
        }
    }
}
