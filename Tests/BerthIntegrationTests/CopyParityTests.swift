import BerthOCI
import CSystemShims
import Foundation
import Glibc
import Testing

/// `docker cp` and `docker export` as current dockerd does them (moby's daemon/archive*.go,
/// containerfs_linux.go and go-archive), through the stock CLI: what a copy sees of a
/// container, the tar headers, the events, and the error texts and exit codes on bad input.
/// Where the 20.10 anchor differs (its headers' type bits and user names, its error wrapping),
/// current dockerd is the reference.
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct CopyParityTests {
    typealias HostDirectory = CopyExportDiffTests.HostDirectory

    static func shell(_ daemon: TestDaemon, _ script: String) -> Harness.Result {
        CopyExportDiffTests.shell(daemon, script)
    }

    static func daemonError(_ message: String) -> String { "Error response from daemon: \(message)\n" }

    /// Prints the header fields clients read of each member of the tar on stdin (Python's
    /// tarfile): name, mode, uid, gid, user and group names, type, link target, device
    /// numbers, the PAX records' keys.
    static let headerLister = """
        import sys, tarfile
        for m in tarfile.open(fileobj=sys.stdin.buffer, mode='r|'):
            print(m.name, oct(m.mode), m.uid, m.gid, repr(m.uname), repr(m.gname), m.type.decode(), m.linkname or '-',
                  m.devmajor, m.devminor, ','.join(sorted(m.pax_headers)) or '-')
        """

    /// The container's file system as dockerd's copy sees it: its root and volumes, binds and
    /// generated /etc files; not /proc, /sys or /dev's contents, nor a --tmpfs, running or not.
    @Test func aCopySeesTheRootFileSystemAndVolumesOnly() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let bound = try HostDirectory()
            let host = try HostDirectory()
            try "from the host\n".write(toFile: host.path + "/file", atomically: true, encoding: .utf8)
            #expect(daemon.docker(["run", "-d", "--name", "cpv", "--tmpfs", "/scratch", "-v", bound.path + ":/bound",
                                   "-v", "cpvol:/named", "busybox", "sh", "-c",
                                   "echo t > /scratch/inside && echo b > /bound/b && echo n > /named/n && sleep 300"]).status == 0)
            CopyExportDiffTests.waitFor { daemon.docker(["exec", "cpv", "test", "-f", "/named/n"]).status == 0 }
            let mountsBefore = daemon.docker(["exec", "cpv", "cat", "/proc/self/mountinfo"]).stdout
            for path in ["/scratch/inside", "/proc/1/status", "/dev/null", "/sys/kernel"] {
                let missing = daemon.docker(["cp", "cpv:" + path, host.path + "/out"])
                #expect(missing.status == 1 && missing.stderr == Self.daemonError("Could not find the file \(path) in container cpv"),
                        "\(path): \(missing)")
            }
            // The mount points are the root file system's directories (dockerd's init layer's for /dev).
            let listings = [("/proc", "proc/\n"), ("/sys", "sys/\n"), ("/scratch", "scratch/\n"),
                            ("/dev", "dev/\ndev/console\ndev/pts/\ndev/shm/\n")]
            for (path, expected) in listings {
                let listing = Self.shell(daemon, "DOCKER cp cpv:\(path) - | tar -tf -")
                #expect(listing.status == 0 && listing.stdout == expected, "\(path): \(listing)")
            }
            for (path, expected) in [("/bound/b", "b\n"), ("/named/n", "n\n")] {
                #expect(Self.shell(daemon, "DOCKER cp cpv:\(path) - | tar -xOf -").stdout == expected, "\(path)")
            }
            let id = daemon.docker(["inspect", "-f", "{{.Id}}", "cpv"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(Self.shell(daemon, "DOCKER cp cpv:/etc/hostname - | tar -xOf -").stdout == String(id.prefix(12)) + "\n")
            // A copy into a --tmpfs path lands in the layer beneath it: the container does not see it, copies do.
            #expect(daemon.docker(["cp", host.path + "/file", "cpv:/scratch/"]).status == 0)
            #expect(daemon.docker(["exec", "cpv", "ls", "/scratch"]).stdout == "inside\n")
            #expect(Self.shell(daemon, "DOCKER cp cpv:/scratch/file - | tar -xOf -").stdout == "from the host\n")
            // Into a volume: the container sees it.
            #expect(daemon.docker(["cp", host.path + "/file", "cpv:/named/"]).status == 0)
            #expect(daemon.docker(["exec", "cpv", "cat", "/named/file"]).stdout == "from the host\n")
            // The container's own mounts are untouched, and each copy's view is gone once it ends.
            #expect(daemon.docker(["exec", "cpv", "cat", "/proc/self/mountinfo"]).stdout == mountsBefore)
            let copies = daemon.directory + "/exec/copies"
            #expect((try? FileManager.default.contentsOfDirectory(atPath: copies)) == [])
            #expect(!(readProcFile("/proc/self/mounts") ?? "").contains(copies))
            // Stopped, the same view.
            #expect(daemon.docker(["stop", "-t", "0", "cpv"]).status == 0)
            #expect(Self.shell(daemon, "DOCKER cp cpv:/proc - | tar -tf -").stdout == "proc/\n")
            #expect(Self.shell(daemon, "DOCKER cp cpv:/bound/b - | tar -xOf -").stdout == "b\n")
            let gone = daemon.docker(["cp", "cpv:/scratch/inside", host.path + "/out"])
            #expect(gone.stderr == Self.daemonError("Could not find the file /scratch/inside in container cpv"), "\(gone)")
            #expect(daemon.docker(["rm", "-v", "cpv"]).status == 0)
            #expect(daemon.docker(["volume", "rm", "cpvol"]).status == 0)
        }
    }

    /// A --tmpfs is not one of dockerd's mount points: on a read-only root it is read-only for
    /// `docker cp`, a `--mount type=tmpfs` is not; the check goes by the resolved path.
    @Test func readOnlyChecksGoByDockerdsMountPoints() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let locked = try HostDirectory()
            let host = try HostDirectory()
            try "x\n".write(toFile: host.path + "/file", atomically: true, encoding: .utf8)
            try FileManager.default.createSymbolicLink(atPath: host.path + "/lk", withDestinationPath: "/locked")
            // Run once, so that the mount points are in its root (before, a copy goes to "/", read-only).
            #expect(daemon.docker(["run", "--name", "cpro", "--read-only", "--tmpfs", "/scratch", "--mount", "type=tmpfs,dst=/mt",
                                   "-v", locked.path + ":/locked:ro", "busybox", "true"]).status == 0)
            let tmpfs = daemon.docker(["cp", host.path + "/file", "cpro:/scratch"])
            #expect(tmpfs.status == 1 && tmpfs.stderr == Self.daemonError("container rootfs is marked read-only"), "\(tmpfs)")
            #expect(daemon.docker(["cp", host.path + "/file", "cpro:/mt"]).status == 0)
            // Through a symlink to the read-only bind.
            #expect(daemon.docker(["cp", host.path + "/lk", "cpro:/mt"]).status == 0)
            let throughLink = daemon.docker(["cp", host.path + "/file", "cpro:/mt/lk/"])
            #expect(throughLink.status == 1 && throughLink.stderr == Self.daemonError("mounted volume is marked read-only"), "\(throughLink)")
            #expect((try? FileManager.default.contentsOfDirectory(atPath: locked.path)) == [])
            // Current dockerd answers these with 400.
            let put = daemon.curl(["-X", "PUT", "-w", " %{http_code}", "-H", "Content-Type: application/x-tar", "--data-binary", "@/dev/null",
                                   "http://berth/containers/cpro/archive?path=/scratch"])
            #expect(put.stdout == #"{"message":"container rootfs is marked read-only"}"# + "\n 400", "\(put)")
            #expect(daemon.docker(["rm", "cpro"]).status == 0)
        }
    }

    /// The headers of current dockerd's Go writer: permission and set-id/sticky bits only in
    /// the mode, numeric owners without names, PAX records only where ustar cannot say it
    /// (no mtime record: whole seconds; a UTF-8 name as a plain path record, no hdrcharset),
    /// device numbers, hard links to the first name.
    @Test func tarHeadersAreCurrentDockerds() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let host = try HostDirectory()
            try Self.headerLister.write(toFile: host.path + "/list.py", atomically: true, encoding: .utf8)
            let long = String(repeating: "l", count: 120)
            #expect(daemon.docker(["run", "-d", "--name", "cph", "busybox", "sh", "-c",
                                   "mkdir /t && cd /t && echo a > f && chown 1000:2000 f && chmod 4755 f && ln f hl && ln -s f sl "
                                   + "&& ln -s \(long) long && mknod cdev c 1 3 && mkfifo fifo && mkdir sticky && chmod 1777 sticky "
                                   + "&& touch é && touch ready && sleep 300"]).status == 0)
            CopyExportDiffTests.waitFor { daemon.docker(["exec", "cph", "test", "-f", "/t/ready"]).status == 0 }
            let copied = Self.shell(daemon, "DOCKER cp cph:/t - | python3 '\(host.path)/list.py'")
            #expect(copied.status == 0)
            #expect(copied.stdout == """
                t 0o755 0 0 '' '' 5 - 0 0 -
                t/cdev 0o644 0 0 '' '' 3 - 1 3 -
                t/f 0o4755 1000 2000 '' '' 0 - 0 0 -
                t/fifo 0o644 0 0 '' '' 6 - 0 0 -
                t/hl 0o4755 1000 2000 '' '' 1 t/f 0 0 -
                t/long 0o777 0 0 '' '' 2 \(long) 0 0 linkpath
                t/ready 0o644 0 0 '' '' 0 - 0 0 -
                t/sl 0o777 0 0 '' '' 2 f 0 0 -
                t/sticky 0o1777 0 0 '' '' 5 - 0 0 -
                t/é 0o644 0 0 '' '' 0 - 0 0 path

                """, "\(copied)")
            // `docker export` writes the same headers; the init layer's files are there.
            let exported = Self.shell(daemon, "DOCKER export cph | python3 '\(host.path)/list.py' | grep -E '^(etc/mtab|[.]dockerenv|etc/hostname|dev/console|tmp|t/f) '")
            #expect(exported.stdout == """
                .dockerenv 0o755 0 0 '' '' 0 - 0 0 -
                dev/console 0o755 0 0 '' '' 0 - 0 0 -
                etc/hostname 0o755 0 0 '' '' 0 - 0 0 -
                etc/mtab 0o777 0 0 '' '' 2 /proc/mounts 0 0 -
                t/f 0o4755 1000 2000 '' '' 0 - 0 0 -
                tmp 0o1777 0 0 '' '' 5 - 0 0 -

                """, "\(exported)")
            #expect(daemon.docker(["rm", "-f", "cph"]).status == 0)
        }
    }

    @Test func errorsInCurrentDockerdsWords() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let host = try HostDirectory()
            try FileManager.default.createDirectory(atPath: host.path + "/tree/f", withIntermediateDirectories: true)
            #expect(Harness.run("/usr/bin/tar", ["-C", host.path + "/tree", "-cf", host.path + "/dir.tar", "f"]).status == 0)
            #expect(daemon.docker(["run", "-d", "--name", "cpe", "busybox", "sh", "-c", "touch /tmp/f && sleep 300"]).status == 0)
            CopyExportDiffTests.waitFor { daemon.docker(["exec", "cpe", "test", "-f", "/tmp/f"]).status == 0 }
            // A file where a directory should be is the lstat's error, not "not found".
            for path in ["/etc/passwd/", "/etc/passwd/.", "/etc/passwd/x"] {
                let notDirectory = daemon.docker(["cp", "cpe:" + path, host.path + "/out"])
                #expect(notDirectory.status == 1 && notDirectory.stderr == Self.daemonError("lstat \(path): not a directory"),
                        "\(path): \(notDirectory)")
            }
            // A directory over a file, with the CLI's noOverwriteDirNonDir.
            let overwrite = Self.shell(daemon, "DOCKER cp - cpe:/tmp < '\(host.path)/dir.tar'")
            #expect(overwrite.status == 1
                    && overwrite.stderr == Self.daemonError(#"cannot overwrite non-directory "f" with directory "/tmp""#), "\(overwrite)")
            // The API: bodies that are no tar, entries that leave the directory, a missing path.
            func put(_ body: String, _ query: String = "path=/tmp") -> String {
                daemon.curl(["-X", "PUT", "-w", " %{http_code}", "-H", "Content-Type: application/x-tar", "--data-binary", "@" + body,
                             "http://berth/containers/cpe/archive?" + query]).stdout
            }
            try "garbage\n".write(toFile: host.path + "/short", atomically: true, encoding: .utf8)
            try Data(repeating: 0x41, count: 1024).write(to: URL(fileURLWithPath: host.path + "/noise"))
            #expect(put("/dev/null") == " 200")
            #expect(put(host.path + "/short") == #"{"message":"unexpected EOF"}"# + "\n 500")
            #expect(put(host.path + "/noise") == #"{"message":"archive/tar: invalid tar header"}"# + "\n 500")
            let escape = """
                import sys, tarfile, io
                with tarfile.open(sys.argv[1] + '/escape.tar', 'w') as t:
                    i = tarfile.TarInfo('../escape'); i.size = 1; t.addfile(i, io.BytesIO(b'x'))
                with tarfile.open(sys.argv[1] + '/hardlink.tar', 'w') as t:
                    i = tarfile.TarInfo('hl'); i.type = tarfile.LNKTYPE; i.linkname = '../../etc/passwd'; t.addfile(i)
                """
            #expect(Harness.run("/usr/bin/python3", ["-c", escape, host.path]).status == 0)
            #expect(put(host.path + "/escape.tar") == #"{"message":"invalid entry name \"../escape\""}"# + "\n 500")
            #expect(put(host.path + "/hardlink.tar") == #"{"message":"invalid hardlink target \"../../etc/passwd\""}"# + "\n 500")
            #expect(put("/dev/null", "path=") == #"{"message":"bad parameter: pathcannot be empty"}"# + "\n 400")
            #expect(put("/dev/null", "path=/etc/passwd") == #"{"message":"extraction point is not a directory"}"# + "\n 400")
            #expect(daemon.docker(["exec", "cpe", "ls", "/tmp"]).stdout == "f\n")
            #expect(daemon.docker(["rm", "-f", "cpe"]).status == 0)
        }
    }

    /// `-a` takes the owner from the container's User as dockerd's copy looks it up.
    @Test func archiveFlagLooksTheUserUpAsDockerdsCopy() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let host = try HostDirectory()
            try "x\n".write(toFile: host.path + "/file", atomically: true, encoding: .utf8)
            let cases: [(user: String, owner: String?, error: String?)] = [
                ("nobody", "65534/65534", nil),
                ("4242", "4242/0", nil),
                ("4242:4343", "4242/4343", nil),
                ("nobody:root", "65534/0", nil),
                ("nosuchuser", nil, #"failed to look up user "nosuchuser" in container: no matching entries in passwd file"#),
                ("4242:nosuchgroup", nil, #"failed to look up group "nosuchgroup" in container: no matching entries in group file"#),
            ]
            for (index, item) in cases.enumerated() {
                let name = "cpa\(index)"
                #expect(daemon.docker(["create", "--name", name, "--user", item.user, "busybox", "true"]).status == 0)
                let copy = daemon.docker(["cp", "-a", host.path + "/file", name + ":/tmp/"])
                if let owner = item.owner {
                    #expect(copy.status == 0, "\(item.user): \(copy)")
                    let listing = Self.shell(daemon, "DOCKER cp \(name):/tmp/file - | tar -tvf -").stdout
                    #expect(listing.hasPrefix("-rw-r--r-- \(owner) "), "\(item.user): \(listing)")
                } else {
                    #expect(copy.status == 1 && copy.stderr == Self.daemonError(item.error!), "\(item.user): \(copy)")
                }
                #expect(daemon.docker(["rm", name]).status == 0)
            }
        }
    }

    /// dockerd makes its init layer at create: a container never started has /etc/mtab and
    /// the empty /etc files, and `docker diff` does not count them.
    @Test func aNeverStartedContainerHasTheInitLayersFiles() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["create", "--name", "cpn", "busybox", "cat", "/etc/mtab"]).status == 0)
            let mtab = Self.shell(daemon, "DOCKER cp cpn:/etc/mtab - | tar -tvf -")
            #expect(mtab.status == 0 && mtab.stdout.hasPrefix("lrwxrwxrwx 0/0") && mtab.stdout.hasSuffix(" mtab -> /proc/mounts\n"), "\(mtab)")
            let hostname = Self.shell(daemon, "DOCKER cp cpn:/etc/hostname - | tar -tvf -")
            #expect(hostname.stdout.split(separator: " ", omittingEmptySubsequences: true).prefix(3) == ["-rwxr-xr-x", "0/0", "0"], "\(hostname)")
            let names = Self.shell(daemon, "DOCKER export cpn | tar -tf -").stdout.split(separator: "\n").map(String.init)
            for expected in [".dockerenv", "dev/console", "dev/pts/", "dev/shm/", "etc/mtab", "etc/hosts", "etc/resolv.conf"] {
                #expect(names.contains(expected), "\(expected) missing from the export")
            }
            #expect(daemon.docker(["diff", "cpn"]).stdout == "")
            // Started, /etc/mtab is the mount table.
            let run = daemon.docker(["start", "-a", "cpn"])
            #expect(run.status == 0 && run.stdout.contains(" / overlay "), "\(run)")
            #expect(daemon.docker(["rm", "cpn"]).status == 0)
        }
    }

    /// dockerd's events around copies: the volumes' mount and unmount for each request (the
    /// CLI's HEAD too), archive-path and extract-to-dir in between; export once written.
    @Test func copiesTellOfThemselvesAsDockerd() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let host = try HostDirectory()
            try "x\n".write(toFile: host.path + "/file", atomically: true, encoding: .utf8)
            #expect(daemon.docker(["run", "-d", "--name", "cpev", "-v", "cpevol:/data", "busybox", "sleep", "300"]).status == 0)
            EventsTests.nextSecond()
            let since = EventsTests.sinceNow()
            #expect(daemon.docker(["cp", host.path + "/file", "cpev:/data/"]).status == 0)
            #expect(Self.shell(daemon, "DOCKER cp cpev:/data/file - >/dev/null").status == 0)
            #expect(daemon.docker(["cp", "cpev:/nope", host.path + "/out"]).status == 1)
            #expect(Self.shell(daemon, "DOCKER export cpev >/dev/null").status == 0)
            EventsTests.nextSecond()
            let events = daemon.docker(["events", "--since", since, "--until", "0s", "--format", "{{.Type}} {{.Action}}"])
            #expect(events.stdout.split(separator: "\n").map(String.init) == [
                "volume mount", "volume unmount",
                "volume mount", "container extract-to-dir", "volume unmount",
                "volume mount", "container archive-path", "volume unmount",
                "volume mount", "volume unmount",
                "container export",
            ], "\(events)")
            #expect(daemon.docker(["rm", "-f", "-v", "cpev"]).status == 0)
            #expect(daemon.docker(["volume", "rm", "cpevol"]).status == 0)
        }
    }

    /// A file name is bytes, not necessarily UTF-8: copied in and out as it is, as Go's tar does.
    @Test func namesThatAreNotUTF8TravelAsTheyAre() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let host = try HostDirectory()
            let make = Harness.run("/bin/sh", ["-c", "mkdir '\(host.path)/in' && cd '\(host.path)/in' && touch \"$(printf 'x\\377y')\" && ln -s \"$(printf 'x\\377y')\" link"])
            #expect(make.status == 0, "\(make)")
            #expect(daemon.docker(["run", "-d", "--name", "cpu8", "busybox", "sleep", "300"]).status == 0)
            #expect(daemon.docker(["cp", host.path + "/in", "cpu8:/tmp/in"]).status == 0)
            // The names' and the link's bytes in hex: "link x\377y" (the shell's glob, not ls, which
            // shows "?"), then the link's target "x\377y".
            let expected = "6c696e6b20" + "78ff790a" + "78ff790a"
            func hex(_ text: String) -> String { text.filter { !$0.isWhitespace } }
            let inside = daemon.docker(["exec", "cpu8", "sh", "-c", "cd /tmp/in && echo * | od -An -tx1; readlink link | od -An -tx1"])
            #expect(hex(inside.stdout) == expected, "\(inside)")
            #expect(daemon.docker(["cp", "cpu8:/tmp/in", host.path + "/out"]).status == 0)
            let back = Harness.run("/bin/sh", ["-c", "cd '\(host.path)/out' && echo * | od -An -tx1; readlink link | od -An -tx1"])
            #expect(hex(back.stdout) == expected, "\(back)")
            #expect(daemon.docker(["rm", "-f", "cpu8"]).status == 0)
        }
    }

    /// The archive's extended attributes are set on what is unpacked, as dockerd does (a
    /// user.* on a symlink, which the kernel does not permit, is left out).
    @Test func extendedAttributesOfTheArchiveAreSet() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let host = try HostDirectory()
            let archive = """
                import sys, tarfile, io
                with tarfile.open(sys.argv[1] + '/xattr.tar', 'w', format=tarfile.PAX_FORMAT) as t:
                    i = tarfile.TarInfo('x'); i.size = 2; i.pax_headers = {'SCHILY.xattr.user.note': 'hi'}
                    t.addfile(i, io.BytesIO(b'x\\n'))
                    l = tarfile.TarInfo('l'); l.type = tarfile.SYMTYPE; l.linkname = 'x'; l.pax_headers = {'SCHILY.xattr.user.note': 'no'}
                    t.addfile(l)
                """
            #expect(Harness.run("/usr/bin/python3", ["-c", archive, host.path]).status == 0)
            #expect(daemon.docker(["run", "-d", "--name", "cpx", "busybox", "sleep", "300"]).status == 0)
            let copy = Self.shell(daemon, "DOCKER cp - cpx:/tmp < '\(host.path)/xattr.tar'")
            #expect(copy.status == 0, "\(copy)")
            let id = daemon.docker(["inspect", "-f", "{{.Id}}", "cpx"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            var value = [UInt8](repeating: 0, count: 16)
            let length = getxattr(daemon.directory + "/data/overlay/\(id)/diff/tmp/x", "user.note", &value, value.count)
            #expect(length == 2 && Array(value.prefix(2)) == Array("hi".utf8))
            #expect(daemon.docker(["exec", "cpx", "readlink", "/tmp/l"]).stdout == "x\n")
            #expect(daemon.docker(["rm", "-f", "cpx"]).status == 0)
        }
    }

    /// A copy's view that a crash left mounted is unmounted and removed at the next start,
    /// without a file of what was bound on it deleted.
    @Test func aCrashsLeftoverViewIsUnmountedNotDeleted() throws {
        let first = try TestDaemon(configuration: #"{"cgroup-parent": "/berth-test"}"#)
        let directory = first.directory
        defer { _ = ContainerBehaviourTests.scrub(directory) }
        first.crash()
        let bound = try HostDirectory()
        try "keep\n".write(toFile: bound.path + "/precious", atomically: true, encoding: .utf8)
        let view = directory + "/exec/copies/stale"
        try FileManager.default.createDirectory(atPath: view, withIntermediateDirectories: true)
        #expect(mount(bound.path, view, nil, UInt(MS_BIND), nil) == 0)
        let second = try TestDaemon(directory: directory)
        #expect(!(readProcFile("/proc/self/mounts") ?? "").contains(view))
        #expect(!FileManager.default.fileExists(atPath: view))
        #expect((try? String(contentsOfFile: bound.path + "/precious", encoding: .utf8)) == "keep\n")
        _ = second.stop()
    }
}
