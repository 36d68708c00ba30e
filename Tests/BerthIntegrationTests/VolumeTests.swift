import BerthOCI
import Foundation
import Testing

/// `docker volume …` and volumes in `docker run`, through the stock CLI, with dockerd 20.10's
/// outputs (measured on the same machine) as the reference; Mountpoint paths differ.
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct VolumeTests {
    static func withDaemon(_ body: (TestDaemon) throws -> Void) throws {
        try ContainerBehaviourTests.withDaemon(#"{"cgroup-parent": "/berth-test"}"#, body)
    }

    static func error(_ message: String) -> String { "Error response from daemon: \(message)\n" }

    @Test func createListInspectRemove() throws {
        try Self.withDaemon { daemon in
            #expect(daemon.docker(["volume", "create", "--label", "a=b", "vt1"]).stdout == "vt1\n")
            // Creating an existing name answers that volume again.
            #expect(daemon.docker(["volume", "create", "vt1"]).stdout == "vt1\n")
            #expect(daemon.docker(["volume", "create", "vt2"]).status == 0)
            #expect(daemon.docker(["volume", "ls"]).stdout == "DRIVER    VOLUME NAME\nlocal     vt1\nlocal     vt2\n")
            let inspect = daemon.docker(["volume", "inspect", "--format",
                                         "{{.Name}} {{.Driver}} {{.Scope}} {{json .Labels}} {{json .Options}} {{.Mountpoint}}", "vt1"])
            #expect(inspect.stdout == "vt1 local local {\"a\":\"b\"} null \(daemon.directory)/data/volumes/vt1/_data\n", "\(inspect)")
            let created = daemon.docker(["volume", "inspect", "--format", "{{.CreatedAt}}", "vt2"]).stdout
            #expect(created.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$"#, options: .regularExpression) != nil, "\(created)")
            let raw = daemon.curl(["http://berth/volumes/vt2"]).stdout
            #expect(raw.contains("\"Labels\":null") && raw.contains("\"Options\":null") && raw.contains("\"Scope\":\"local\""), "\(raw)")
            #expect(daemon.curl(["http://berth/volumes?filters=%7B%22name%22%3A%5B%22vt2%22%5D%7D"]).stdout.hasSuffix("\"Warnings\":null}\n"))

            // Filters.
            #expect(daemon.docker(["volume", "ls", "-q", "-f", "label=a"]).stdout == "vt1\n")
            #expect(daemon.docker(["volume", "ls", "-q", "-f", "label=a=c"]).stdout == "")
            #expect(daemon.docker(["volume", "ls", "-q", "-f", "name=2"]).stdout == "vt2\n")
            #expect(daemon.docker(["volume", "ls", "-q", "-f", "driver=local"]).stdout == "vt1\nvt2\n")
            let badFilter = daemon.docker(["volume", "ls", "-f", "foo=bar"])
            #expect(badFilter.status == 1 && badFilter.stderr == Self.error("invalid filter 'foo'"))
            #expect(daemon.docker(["volume", "ls", "-f", "dangling=maybe"]).stderr == Self.error("invalid filter 'dangling=[maybe]'"))

            #expect(daemon.docker(["volume", "rm", "vt1", "vt2"]).stdout == "vt1\nvt2\n")
            #expect(!FileManager.default.fileExists(atPath: daemon.directory + "/data/volumes/vt1"))
            let missing = daemon.docker(["volume", "rm", "vt1"])
            #expect(missing.status == 1 && missing.stderr == Self.error("get vt1: no such volume"), "\(missing)")
            #expect(daemon.docker(["volume", "rm", "-f", "vt1"]).status == 0)
            let inspectMissing = daemon.docker(["volume", "inspect", "vt1"])
            #expect(inspectMissing.status == 1 && inspectMissing.stderr == Self.error("get vt1: no such volume"))
        }
    }

    @Test func badNamesAreRefusedWithDockerdsText() throws {
        try Self.withDaemon { daemon in
            let short = daemon.docker(["volume", "create", "a"])
            #expect(short.status == 1)
            #expect(short.stderr == Self.error("create a: volume name is too short, names should be at least two alphanumeric characters"))
            let slash = daemon.docker(["volume", "create", "a/b"])
            #expect(slash.stderr == Self.error("create a/b: \"a/b\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"))
            let run = daemon.docker(["run", "--rm", "-v", "bad$name:/x", "busybox", "true"])
            #expect(run.status == 125)
            #expect(run.stderr == ContainerBehaviourTests.runError("create bad$name: \"bad$name\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"), "\(run)")
            #expect(daemon.docker(["volume", "create", "-o", "foo=bar", "opt"]).stderr == Self.error("create opt: invalid option: \"foo\""))
            // A relative path through the API (the CLI makes it absolute, docker-py does not) is
            // a volume name as given, and refused, not cleaned into the volume "rel".
            for source in ["./rel", "../up"] {
                let created = daemon.curl(["-s", "-w", "\n%{http_code}", "-X", "POST", "-H", "Content-Type: application/json",
                                           "-d", #"{"Image":"busybox","HostConfig":{"Binds":["\#(source):/b"]}}"#,
                                           "http://berth/v1.50/containers/create"]).stdout
                #expect(created.hasPrefix(#"{"message":"create \#(source): \"\#(source)\" includes invalid characters for a local volume name"#)
                        && created.hasSuffix("\n400"), "\(created)")
            }
            #expect(daemon.docker(["volume", "ls", "-q"]).stdout == "")
        }
    }

    @Test func namedVolumeDataOutlivesTheContainer() throws {
        try Self.withDaemon { daemon in
            #expect(daemon.docker(["run", "--rm", "-v", "keep:/data", "busybox", "sh", "-c", "echo kept > /data/f"]).status == 0)
            #expect(daemon.docker(["volume", "ls", "-q"]).stdout == "keep\n")
            #expect(daemon.docker(["run", "--rm", "--mount", "type=volume,src=keep,dst=/other", "busybox", "cat", "/other/f"]).stdout == "kept\n")
            // Read-only, both ways of asking.
            let ro = daemon.docker(["run", "--rm", "-v", "keep:/data:ro", "busybox", "sh", "-c", "echo x > /data/g"])
            #expect(ro.status != 0 && ro.stderr.contains("Read-only file system"), "\(ro)")
            let mountRO = daemon.docker(["run", "--rm", "--mount", "type=volume,src=keep,dst=/data,readonly", "busybox",
                                         "sh", "-c", "echo x > /data/g"])
            #expect(mountRO.status != 0 && mountRO.stderr.contains("Read-only file system"))
            #expect(daemon.docker(["volume", "rm", "keep"]).stdout == "keep\n")
        }
    }

    @Test func emptyVolumeIsFilledFromTheImageUnlessNocopy() throws {
        try Self.withDaemon { daemon in
            let group = daemon.docker(["run", "--rm", "busybox", "cat", "/etc/group"]).stdout
            #expect(!group.isEmpty)
            #expect(daemon.docker(["run", "--rm", "-v", "etc:/etc", "busybox", "cat", "/etc/group"]).stdout == group)
            #expect(FileManager.default.fileExists(atPath: daemon.directory + "/data/volumes/etc/_data/group"))
            // A volume with content is not filled again.
            #expect(daemon.docker(["run", "--rm", "-v", "etc:/etc", "busybox", "rm", "/etc/group"]).status == 0)
            #expect(daemon.docker(["run", "--rm", "-v", "etc:/etc", "busybox", "test", "-e", "/etc/group"]).status == 1)
            #expect(daemon.docker(["run", "--rm", "-v", "bare:/etc:nocopy", "busybox", "test", "-e", "/etc/group"]).status == 1)
            #expect(daemon.docker(["run", "--rm", "--mount", "type=volume,src=bare2,dst=/etc,volume-nocopy", "busybox",
                                   "test", "-e", "/etc/group"]).status == 1)
            // Anonymous volumes are filled too.
            #expect(daemon.docker(["run", "--rm", "-v", "/etc", "busybox", "cat", "/etc/group"]).stdout == group)
            // The volume's top directory takes the image directory's times, an empty one's too.
            // (Not /etc's: the container's /etc/hosts and the like are made in it at each start.)
            let imageTimes = daemon.docker(["run", "--rm", "busybox", "stat", "-c", "%Y", "/bin", "/home"]).stdout
            #expect(!imageTimes.isEmpty)
            #expect(daemon.docker(["run", "--rm", "-v", "/bin", "-v", "/home", "busybox", "stat", "-c", "%Y", "/bin", "/home"]).stdout == imageTimes)
        }
    }

    @Test func inspectShowsTheMountsAsDockerd() throws {
        try Self.withDaemon { daemon in
            #expect(daemon.docker(["create", "--name", "mounts", "-v", "named:/data", "-v", "/anon", "-v", "ro3:/f:ro,nocopy",
                                   "--mount", "type=volume,src=mnt,dst=/d,readonly", "busybox", "true"]).status == 0)
            let anonymous = daemon.docker(["volume", "ls", "-q"]).stdout.split(separator: "\n").map(String.init)
                .filter { $0.count == 64 }
            try #require(anonymous.count == 1)
            let root = daemon.directory + "/data/volumes/"
            func entry(_ name: String, _ destination: String, _ mode: String, _ rw: Bool) -> String {
                "{\"Type\":\"volume\",\"Name\":\"\(name)\",\"Source\":\"\(root)\(name)/_data\",\"Destination\":\"\(destination)\",\"Driver\":\"local\",\"Mode\":\"\(mode)\",\"RW\":\(rw),\"Propagation\":\"\"}"
            }
            // The CLI sends -v entries in no fixed order, and dockerd lists mounts in none: compared as sets.
            let mounts = ContainerBehaviourTests.inspect(daemon, "{{range .Mounts}}{{json .}}{{println}}{{end}}", "mounts")
                .split(separator: "\n").map(String.init).sorted()
            let expected = [entry("named", "/data", "z", true), entry("ro3", "/f", "ro,nocopy", false),
                            entry("mnt", "/d", "z", false), entry(anonymous[0], "/anon", "", true)].sorted()
            #expect(mounts == expected, "\(mounts)")
            // docker ps: the volume filter knows them by name or destination, anonymous ones too.
            for filter in ["volume=named", "volume=/anon", "volume=\(anonymous[0])", "volume=/d"] {
                #expect(daemon.docker(["ps", "-aq", "--no-trunc", "-f", filter]).stdout.count == 65, "\(filter)")
            }
            let shown = daemon.docker(["ps", "-a", "--format", "{{.Mounts}}"]).stdout.split(separator: ",")
            #expect(Set(shown.prefix(3)) == ["named", "ro3", "mnt"] && shown.count == 4, "\(shown)")
            #expect(daemon.docker(["rm", "mounts"]).status == 0)
        }
    }

    @Test func anonymousVolumesGoWithRmVAndRunRm() throws {
        try Self.withDaemon { daemon in
            #expect(daemon.docker(["run", "--rm", "-v", "/anon", "-v", "named:/named", "busybox", "true"]).status == 0)
            #expect(daemon.docker(["volume", "ls", "-q"]).stdout == "named\n")
            #expect(daemon.docker(["create", "--name", "cv", "-v", "/anon", "-v", "named:/named", "busybox", "true"]).status == 0)
            #expect(daemon.docker(["volume", "ls", "-q"]).stdout.split(separator: "\n").count == 2)
            // Without -v the anonymous volume stays, dangling.
            #expect(daemon.docker(["create", "--name", "dk", "-v", "/kept", "busybox", "true"]).status == 0)
            #expect(daemon.docker(["rm", "dk"]).status == 0)
            let dangling = daemon.docker(["volume", "ls", "-q", "-f", "dangling=true"]).stdout.split(separator: "\n").map(String.init)
            #expect(dangling.count == 1 && dangling[0].count == 64, "\(dangling)")  // named and cv's are in use
            #expect(daemon.docker(["rm", "-v", "cv"]).status == 0)
            // cv's anonymous volume went; dk's and the named one stay.
            #expect(daemon.docker(["volume", "ls", "-q"]).stdout.split(separator: "\n").map(String.init).sorted() == (dangling + ["named"]).sorted())
        }
    }

    @Test func removingAVolumeInUseIsRefused() throws {
        try Self.withDaemon { daemon in
            let id = daemon.docker(["create", "-v", "busy:/data", "busybox", "true"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            try #require(id.count == 64)
            let refused = daemon.docker(["volume", "rm", "busy"])
            #expect(refused.status == 1)
            #expect(refused.stderr == Self.error("remove busy: volume is in use - [\(id)]"), "\(refused)")
            #expect(daemon.docker(["volume", "rm", "-f", "busy"]).stderr == Self.error("remove busy: volume is in use - [\(id)]"))
            #expect(daemon.docker(["volume", "ls", "-q", "-f", "dangling=false"]).stdout == "busy\n")
            #expect(daemon.docker(["rm", id]).status == 0)
            #expect(daemon.docker(["volume", "rm", "busy"]).stdout == "busy\n")
        }
    }

    @Test func pruneRemovesUnusedAnonymousVolumesOrAllWithAll() throws {
        try Self.withDaemon { daemon in
            #expect(daemon.docker(["volume", "prune", "-f"]).stdout == "Total reclaimed space: 0B\n")
            #expect(daemon.docker(["volume", "create", "named"]).status == 0)
            #expect(daemon.docker(["volume", "create", "--label", "keep=1", "labelled"]).status == 0)
            #expect(daemon.docker(["create", "--name", "user", "-v", "used:/u", "busybox", "true"]).status == 0)
            #expect(daemon.docker(["create", "--name", "anon", "-v", "/a", "busybox", "true"]).status == 0)
            #expect(daemon.docker(["run", "--rm", "-v", "filled:/f", "busybox", "sh", "-c", "printf abc > /f/x"]).status == 0)
            let anonymous = daemon.docker(["volume", "ls", "-q"]).stdout.split(separator: "\n").map(String.init).filter { $0.count == 64 }
            try #require(anonymous.count == 1)
            #expect(daemon.docker(["rm", "anon"]).status == 0)
            #expect(daemon.docker(["volume", "prune", "-f"]).stdout == "Deleted Volumes:\n\(anonymous[0])\n\nTotal reclaimed space: 0B\n")
            #expect(daemon.docker(["volume", "prune", "-f", "--all", "--filter", "label!=keep"]).stdout
                == "Deleted Volumes:\nfilled\nnamed\n\nTotal reclaimed space: 3B\n")
            #expect(daemon.docker(["volume", "ls", "-q"]).stdout == "labelled\nused\n")
            let df = daemon.docker(["system", "df", "-v", "--format", "{{range .Volumes}}{{.Name}} {{.Links}} {{.Size}};{{end}}"])
            #expect(df.stdout == "labelled 0 0B;used 1 0B;", "\(df)")
            let bad = daemon.docker(["volume", "prune", "-f", "--filter", "foo=1"])
            #expect(bad.status == 1 && bad.stderr == Self.error("invalid filter 'foo'"))
            #expect(daemon.docker(["rm", "user"]).status == 0)
            // A volume made without a name is anonymous, as with current dockerd: prune takes it.
            let unnamed = daemon.docker(["volume", "create"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(daemon.docker(["volume", "inspect", "-f", "{{json .Labels}}", unnamed]).stdout == #"{"com.docker.volume.anonymous":""}"# + "\n")
            #expect(daemon.docker(["volume", "prune", "-f"]).stdout == "Deleted Volumes:\n\(unnamed)\n\nTotal reclaimed space: 0B\n")
        }
    }

    @Test func volumesFromAnotherContainer() throws {
        try Self.withDaemon { daemon in
            #expect(daemon.docker(["create", "--name", "source", "-v", "shared:/v", "-v", "/anon", "busybox", "true"]).status == 0)
            #expect(daemon.docker(["run", "--rm", "--volumes-from", "source", "busybox", "sh", "-c", "echo s > /v/f; ls -d /anon"]).stdout == "/anon\n")
            let readOnly = daemon.docker(["run", "--rm", "--volumes-from", "source:ro", "busybox", "sh", "-c", "cat /v/f; touch /v/g"])
            #expect(readOnly.status == 1 && readOnly.stdout == "s\n" && readOnly.stderr == "touch: /v/g: Read-only file system\n", "\(readOnly)")
            #expect(daemon.docker(["create", "--name", "sink", "--volumes-from", "source:ro", "busybox", "true"]).status == 0)
            let mode = ContainerBehaviourTests.inspect(daemon, "{{range .Mounts}}{{.Name}} {{.Mode}} {{.RW}};{{end}}", "sink")
            // As dockerd: an inherited mount shows an empty Mode.
            #expect(mode.hasPrefix("shared  false;") && mode.hasSuffix("  false;\n"), "\(mode)")
            // ":rw" does not make what is read-only in the first container writable.
            #expect(daemon.docker(["create", "--name", "rosrc", "-v", "shared:/v:ro", "busybox", "true"]).status == 0)
            #expect(ContainerBehaviourTests.inspect(daemon, "{{range .Mounts}}{{.RW}}{{end}}", daemon.docker(
                ["create", "--volumes-from", "rosrc:rw", "busybox", "true"]).stdout.trimmingCharacters(in: .newlines)) == "false\n")
            #expect(daemon.docker(["rm", "-f", "rosrc"]).status == 0)
            let badMode = daemon.docker(["run", "--rm", "--volumes-from", "source:xx", "busybox", "true"])
            #expect(badMode.stderr == ContainerBehaviourTests.runError("invalid mode: xx"))
            let missing = daemon.docker(["run", "--rm", "--volumes-from", "nosuch", "busybox", "true"])
            #expect(missing.stderr == ContainerBehaviourTests.runError("No such container: nosuch"))
            // The anonymous volume stays while the source holds it, and goes with it.
            #expect(daemon.docker(["rm", "-v", "sink", "source"]).status == 0)
            #expect(daemon.docker(["volume", "ls", "-q"]).stdout == "shared\n")
        }
    }

    /// dockerd copies every mount point of the other container: its binds too, which the
    /// new container's HostConfig.Binds does not list.
    @Test func volumesFromCarriesBindMounts() throws {
        try Self.withDaemon { daemon in
            let directory = try CopyExportDiffTests.HostDirectory()
            let host = directory.path
            try "from the host\n".write(toFile: host + "/file", atomically: true, encoding: .utf8)
            #expect(daemon.docker(["create", "--name", "binder", "-v", host + ":/b", "--mount", "type=bind,src=\(host),dst=/m,readonly",
                                   "-v", "named:/n", "busybox", "true"]).status == 0)
            let read = daemon.docker(["run", "--rm", "--volumes-from", "binder", "busybox", "sh", "-c", "cat /b/file; echo w > /b/new; touch /m/x"])
            #expect(read.stdout == "from the host\n" && read.stderr == "touch: /m/x: Read-only file system\n", "\(read)")
            #expect(FileManager.default.fileExists(atPath: host + "/new"))
            let readOnly = daemon.docker(["run", "--rm", "--volumes-from", "binder:ro", "busybox", "touch", "/b/y"])
            #expect(readOnly.status == 1 && readOnly.stderr == "touch: /b/y: Read-only file system\n", "\(readOnly)")
            // Taken on by a third container; the new container's own mount wins at the same place.
            #expect(daemon.docker(["create", "--name", "middle", "--volumes-from", "binder", "busybox", "true"]).status == 0)
            #expect(daemon.docker(["create", "--name", "last", "--volumes-from", "middle:ro", "--tmpfs", "/m", "busybox", "true"]).status == 0)
            let mounts = ContainerBehaviourTests.inspect(daemon, "{{range .Mounts}}{{.Type}} {{.Destination}} {{.Mode}} {{.RW}};{{end}} {{json .HostConfig.Binds}}", "last")
            #expect(mounts == "volume /n  false;bind /b  false; null\n", "\(mounts)")
            #expect(daemon.docker(["start", "-a", "last"]).status == 0)
            #expect(daemon.docker(["run", "--rm", "--volumes-from", "last", "busybox", "cat", "/b/file"]).stdout == "from the host\n")
            #expect(daemon.docker(["rm", "last", "middle", "binder"]).status == 0)
        }
    }

    @Test func eventsAsDockerdSendsThem() throws {
        try Self.withDaemon { daemon in
            let since = String(Int(Date().timeIntervalSince1970))
            let run = daemon.docker(["run", "-d", "-v", "ev:/d", "busybox", "true"])
            let id = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(daemon.docker(["wait", id]).stdout == "0\n")
            #expect(daemon.docker(["rm", id]).status == 0)
            #expect(daemon.docker(["volume", "rm", "ev"]).status == 0)
            #expect(daemon.docker(["volume", "prune", "-f"]).status == 0)
            let until = String(Int(Date().timeIntervalSince1970) + 1)
            let events = daemon.docker(["events", "--since", since, "--until", until, "--filter", "type=volume",
                                        "--format", "{{.Action}} {{.Actor.ID}} {{json .Actor.Attributes}}"])
            #expect(events.stdout == """
                create ev {"driver":"local"}
                mount ev {"container":"\(id)","destination":"/d","driver":"local","propagation":"","read/write":"true"}
                unmount ev {"container":"\(id)","driver":"local"}
                destroy ev {"driver":"local"}
                prune  {"reclaimed":"0"}

                """, "\(events)")
            // At the exit, dockerd's order: die, the network's disconnect, the volume's unmount.
            let exit = daemon.docker(["events", "--since", since, "--until", until, "--filter", "event=die", "--filter", "event=disconnect",
                                      "--filter", "event=unmount", "--format", "{{.Type}} {{.Action}}"])
            #expect(exit.stdout == "container die\nnetwork disconnect\nvolume unmount\n", "\(exit)")
        }
    }

    /// The local driver's options: a filesystem mounted on the volume while containers use it.
    @Test func driverOptionsMountAFilesystemWhileInUse() throws {
        try Self.withDaemon { daemon in
            #expect(daemon.docker(["volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=1m,uid=1000", "tv"]).status == 0)
            #expect(daemon.docker(["volume", "inspect", "-f", "{{json .Options}}", "tv"]).stdout
                == "{\"device\":\"tmpfs\",\"o\":\"size=1m,uid=1000\",\"type\":\"tmpfs\"}\n")
            let inside = daemon.docker(["run", "--rm", "-v", "tv:/d", "busybox", "sh", "-c", "grep ' /d ' /proc/mounts; stat -c %u /d"])
            #expect(inside.stdout == "tmpfs /d tmpfs rw,relatime,size=1024k,uid=1000 0 0\n1000\n", "\(inside)")
            let data = daemon.directory + "/data/volumes/tv/_data"
            let mounted = { (readProcFile("/proc/self/mountinfo") ?? "").contains(" \(data) ") }
            #expect(!mounted(), "unmounted when the last container ended")

            // A bind of a host directory: its files are seen, and removing the volume keeps them.
            let host = daemon.directory + "/hostdir"
            try FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true)
            try "from host\n".write(toFile: host + "/h", atomically: true, encoding: .utf8)
            #expect(daemon.docker(["volume", "create", "-o", "type=none", "-o", "o=bind", "-o", "device=\(host)", "bv"]).status == 0)
            #expect(daemon.docker(["run", "--rm", "-v", "bv:/d", "busybox", "sh", "-c", "cat /d/h; echo c > /d/c"]).stdout == "from host\n")
            #expect(daemon.docker(["run", "--rm", "--mount", "type=volume,src=mv,dst=/m,volume-opt=type=tmpfs,volume-opt=device=tmpfs",
                                   "busybox", "sh", "-c", "grep -c ' /m tmpfs' /proc/mounts"]).stdout == "1\n")
            #expect(daemon.docker(["volume", "rm", "tv", "bv", "mv"]).status == 0)
            #expect(try FileManager.default.contentsOfDirectory(atPath: host).sorted() == ["c", "h"])

            #expect(daemon.docker(["volume", "create", "-o", "type=bogus", "-o", "device=x", "badv"]).status == 0)
            let bad = daemon.docker(["run", "--rm", "-v", "badv:/d", "busybox", "true"])
            let path = daemon.directory + "/data/volumes/badv/_data"
            #expect(bad.stderr == ContainerBehaviourTests.runError("error while mounting volume '\(path)': failed to mount local volume: mount x:\(path): no such device"), "\(bad)")
            #expect(daemon.docker(["volume", "rm", "badv"]).status == 0)
        }
    }

    /// A mounted volume stays mounted for a container that outlives the daemon, and is
    /// unmounted when that container ends under the next daemon.
    @Test func volumeMountsAreReconciledAtDaemonStart() throws {
        let first = try ContainersTests.daemonWithImage()
        let directory = first.directory
        let data = directory + "/data/volumes/tv/_data"
        let mounted = { (readProcFile("/proc/self/mountinfo") ?? "").contains(" \(data) ") }
        #expect(first.docker(["volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "tv"]).status == 0)
        #expect(first.docker(["run", "-d", "--name", "holder", "-v", "tv:/d", "busybox", "sleep", "60"]).status == 0)
        #expect(mounted())
        first.crash()
        let second = try TestDaemon(directory: directory)
        #expect(mounted(), "the running container still holds it")
        #expect(second.docker(["rm", "-f", "holder"]).status == 0)
        #expect(!mounted())
        #expect(second.docker(["volume", "rm", "tv"]).stdout == "tv\n")
    }

    @Test func volumesAreThereAfterARestart() throws {
        let first = try ContainersTests.daemonWithImage()
        let directory = first.directory
        #expect(first.docker(["volume", "create", "--label", "x=y", "durable"]).status == 0)
        #expect(first.docker(["create", "--name", "holder", "-v", "durable:/d", "busybox", "true"]).status == 0)
        first.crash()
        let second = try TestDaemon(directory: directory)
        #expect(second.docker(["volume", "inspect", "--format", "{{.Name}} {{json .Labels}}", "durable"]).stdout == "durable {\"x\":\"y\"}\n")
        // Its user was reloaded with the containers.
        #expect(second.docker(["volume", "rm", "durable"]).status == 1)
        #expect(second.docker(["rm", "holder"]).status == 0)
        #expect(second.docker(["volume", "rm", "durable"]).stdout == "durable\n")
    }
}
