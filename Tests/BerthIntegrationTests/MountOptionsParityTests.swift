import BerthOCI
import Foundation
import Glibc
import Testing

/// `-v`, `--mount`, `--volumes-from` and `-w` as a user types them, through the stock CLI.
/// The reference is dockerd: 20.10 on this machine for what it knows, current moby (v28) for
/// the newer options (volume-subpath, bind-recursive, CreateMountpoint, the API gates).
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct MountOptionsParityTests {
    static func withDaemon(_ body: (TestDaemon) throws -> Void) throws {
        try ContainerBehaviourTests.withDaemon(#"{"cgroup-parent": "/berth-test"}"#, body)
    }

    static func runError(_ message: String) -> String { ContainerBehaviourTests.runError(message) }
    static func daemonError(_ message: String) -> String { "Error response from daemon: \(message)\n" }

    /// POST /containers/create with a raw body; answers the body and the status code.
    static func create(_ daemon: TestDaemon, _ json: String, version: String = "1.50", name: String? = nil) -> (body: String, code: String) {
        let query = name.map { "?name=" + $0 } ?? ""
        let result = daemon.curl(["-X", "POST", "-H", "Content-Type: application/json", "-w", "\n%{http_code}",
                                  "http://berth/v\(version)/containers/create\(query)", "-d", json])
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (lines.dropLast().joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines), String(lines.last ?? ""))
    }

    // MARK: volume-subpath

    @Test func volumeSubpathMountsThePartOfTheVolumeItNames() throws {
        try Self.withDaemon { daemon in
            let fill = daemon.docker(["run", "--rm", "-v", "sv:/d", "busybox", "sh", "-c",
                                      "mkdir -p /d/sub && echo hi > /d/sub/f && echo top > /d/top && ln -s sub /d/in && ln -s /etc /d/out && ln -s .. /d/up"])
            #expect(fill.status == 0, "\(fill.stderr)")
            let sub = daemon.docker(["run", "--rm", "--mount", "type=volume,src=sv,dst=/m,volume-subpath=sub", "busybox", "cat", "/m/f"])
            #expect(sub.status == 0 && sub.stdout == "hi\n", "\(sub)")
            // A symlink that stays inside the volume is followed; a file can be the subpath.
            #expect(daemon.docker(["run", "--rm", "--mount", "type=volume,src=sv,dst=/m,volume-subpath=in", "busybox", "ls", "/m"]).stdout == "f\n")
            #expect(daemon.docker(["run", "--rm", "--mount", "type=volume,src=sv,dst=/m,volume-subpath=top", "busybox", "cat", "/m"]).stdout == "top\n")
            let readOnly = daemon.docker(["run", "--rm", "--mount", "type=volume,src=sv,dst=/m,volume-subpath=sub,readonly",
                                          "busybox", "touch", "/m/x"])
            #expect(readOnly.status == 1 && readOnly.stderr == "touch: /m/x: Read-only file system\n", "\(readOnly)")

            // What docker inspect shows: the volume's data as Source, the subpath in HostConfig.
            #expect(daemon.docker(["create", "--name", "subc", "--mount", "type=volume,src=sv,dst=/m,volume-subpath=sub", "busybox"]).status == 0)
            let data = daemon.directory + "/data/volumes/sv/_data"
            let mounts = daemon.docker(["inspect", "--format", "{{json .Mounts}} {{json .HostConfig.Mounts}}", "subc"]).stdout
            #expect(mounts == #"[{"Type":"volume","Name":"sv","Source":"\#(data)","Destination":"/m","Driver":"local","Mode":"z","RW":true,"Propagation":""}] [{"Type":"volume","Source":"sv","Target":"/m","VolumeOptions":{"Subpath":"sub","DriverConfig":{}}}]"# + "\n", "\(mounts)")
            // What was checked is what is mounted: pinned beside the root while it runs, gone after.
            #expect(daemon.docker(["run", "-d", "--name", "pinned", "--mount", "type=volume,src=sv,dst=/m,volume-subpath=in",
                                   "busybox", "sleep", "60"]).status == 0)
            #expect(Self.sideMounts(daemon, "/subpath-") == 1)
            #expect(daemon.docker(["exec", "pinned", "cat", "/m/f"]).stdout == "hi\n")
            #expect(daemon.docker(["rm", "-f", "pinned"]).status == 0)
            // The removal's unmounts run after its answer: wait for them.
            #expect(ContainerBehaviourTests.eventually(5) { Self.sideMounts(daemon, "/subpath-") == 0 })
            // --volumes-from takes the subpath along.
            #expect(daemon.docker(["run", "--rm", "--volumes-from", "subc", "busybox", "cat", "/m/f"]).stdout == "hi\n")
            #expect(daemon.docker(["rm", "subc"]).status == 0)
        }
    }

    @Test func volumeSubpathErrorsAsDockerd() throws {
        try Self.withDaemon { daemon in
            #expect(daemon.docker(["run", "--rm", "-v", "sv:/d", "busybox", "sh", "-c", "ln -s /etc /d/out && ln -s .. /d/up"]).status == 0)
            let data = daemon.directory + "/data/volumes/sv/_data"
            // Checked at create: lexically outside the volume, or no volume name.
            for subpath in ["/abs", "../x", "a/../../x"] {
                let bad = daemon.docker(["create", "--mount", "type=volume,src=sv,dst=/m,volume-subpath=" + subpath, "busybox"])
                #expect(bad.status == 1 && bad.stderr == Self.daemonError(
                    "invalid mount config for type \"volume\": subpath must be a relative path within the volume"), "\(subpath): \(bad)")
            }
            let anonymous = daemon.docker(["create", "--mount", "type=volume,dst=/m,volume-subpath=sub", "busybox"])
            #expect(anonymous.stderr == Self.daemonError("invalid mount config for type \"volume\": must not set Subpath when using anonymous volumes"))
            // Checked at start against the volume: a symlink out of it, a missing path.
            for link in ["out", "up"] {
                let escape = daemon.docker(["run", "--rm", "--mount", "type=volume,src=sv,dst=/m,volume-subpath=" + link, "busybox", "true"])
                #expect(escape.status == 125 && escape.stderr == Self.runError(
                    "path concatenation escapes the base directory, base: \(data), subpath: \(link)"), "\(escape)")
            }
            let missing = daemon.docker(["run", "--rm", "--mount", "type=volume,src=sv,dst=/m,volume-subpath=no/such", "busybox", "true"])
            // The CLI's 127 for "no such file or directory", as with dockerd.
            #expect(missing.status == 127 && missing.stderr == Self.runError(
                "cannot access path \(data)/no/such: lstat \(data)/no: no such file or directory"), "\(missing)")
            #expect(daemon.docker(["ps", "-aq"]).stdout.isEmpty, "the --rm containers that failed are gone")
            // Clients before API 1.45 cannot ask for it.
            let old = Self.create(daemon, #"{"Image":"busybox","HostConfig":{"Mounts":[{"Type":"volume","Source":"sv","Target":"/m","VolumeOptions":{"Subpath":"x"}}]}}"#,
                                  version: "1.44")
            #expect(old.body == #"{"message":"VolumeOptions.Subpath needs API v1.45 or newer"}"# && old.code == "400", "\(old)")
        }
    }

    // MARK: bind options

    /// A host directory with a tmpfs mounted at `sub` inside it, unmounted afterwards.
    static func withNestedMount(_ body: (String) throws -> Void) throws {
        let host = NSTemporaryDirectory() + Harness.uniqueID("rro")
        try FileManager.default.createDirectory(atPath: host + "/sub", withIntermediateDirectories: true)
        guard mount("tmpfs", host + "/sub", "tmpfs", 0, "size=1m") == 0 else { throw TestFailure("mount tmpfs: \(errno)") }
        defer {
            umount2(host + "/sub", Int32(MNT_DETACH))
            try? FileManager.default.removeItem(atPath: host)
        }
        try body(host)
    }

    /// How /h and /h/sub are mounted in a container given `mountArgs`: "ro ro", "ro rw", "ro".
    static func modes(_ daemon: TestDaemon, _ mountArgs: [String]) -> Harness.Result {
        daemon.docker(["run", "--rm"] + mountArgs + ["busybox", "sh", "-c",
                       #"grep -E " /h(/sub)? " /proc/self/mountinfo | cut -d" " -f6 | cut -d, -f1 | tr '\n' ' '"#])
    }

    @Test func readOnlyBindsAreRecursiveUnlessAskedOtherwise() throws {
        try Self.withDaemon { daemon in
            try Self.withNestedMount { host in
                // Read-only all the way down by default (API 1.44+), for -v and --mount.
                #expect(Self.modes(daemon, ["-v", host + ":/h:ro"]).stdout == "ro ro ")
                #expect(Self.modes(daemon, ["--mount", "type=bind,src=\(host),dst=/h,readonly"]).stdout == "ro ro ")
                // bind-recursive=writable: only the top is read-only.
                #expect(Self.modes(daemon, ["--mount", "type=bind,src=\(host),dst=/h,readonly,bind-recursive=writable"]).stdout == "ro rw ")
                #expect(Self.modes(daemon, ["--mount", "type=bind,src=\(host),dst=/h,readonly,bind-recursive=readonly,bind-propagation=rprivate"]).stdout
                        == "ro ro ")
                // bind-recursive=disabled: no submounts at all.
                #expect(Self.modes(daemon, ["--mount", "type=bind,src=\(host),dst=/h,readonly,bind-recursive=disabled"]).stdout == "ro ")
                #expect(Self.modes(daemon, ["--mount", "type=bind,src=\(host),dst=/h"]).stdout == "rw rw ")
                // The OCI spec says so as runc would be told it (`rro`).
                let started = daemon.docker(["run", "-d", "--name", "rroc", "-v", host + ":/h:ro", "busybox", "sleep", "60"])
                #expect(started.status == 0, "\(started)")
                let id = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                let config = try Data(contentsOf: URL(fileURLWithPath: daemon.directory + "/exec/containers/\(id)/config.json"))
                let spec = try JSONDecoder().decode(Spec.self, from: config)
                #expect(spec.mounts?.first { $0.destination == "/h" }?.options == ["rbind", "rro", "rprivate"])

                // A client before API 1.44 gets the old non-recursive read-only bind, and cannot force a recursive one.
                let old = Self.create(daemon, #"{"Image":"busybox","Cmd":["sh","-c","grep ' /h/sub ' /proc/self/mountinfo | cut -d' ' -f6"],"HostConfig":{"Mounts":[{"Type":"bind","Source":"\#(host)","Target":"/h","ReadOnly":true}]}}"#,
                                      version: "1.43", name: "oldapi")
                #expect(old.code == "201", "\(old)")
                #expect(daemon.docker(["start", "-a", "oldapi"]).stdout.hasPrefix("rw,"))
                let oldBind = Self.create(daemon, #"{"Image":"busybox","Cmd":["sh","-c","grep ' /h/sub ' /proc/self/mountinfo | cut -d' ' -f6"],"HostConfig":{"Binds":["\#(host):/h:ro"]}}"#,
                                          version: "1.43", name: "oldbind")
                #expect(oldBind.code == "201", "\(oldBind)")
                #expect(daemon.docker(["start", "-a", "oldbind"]).stdout.hasPrefix("rw,"))
                // dockerd notes it in the BindOptions a mount came with (and only there).
                let noted = Self.create(daemon, #"{"Image":"busybox","HostConfig":{"Mounts":[{"Type":"bind","Source":"\#(host)","Target":"/h","ReadOnly":true,"BindOptions":{}},{"Type":"bind","Source":"\#(host)","Target":"/h2","ReadOnly":true}]}}"#,
                                        version: "1.43", name: "noted")
                #expect(noted.code == "201", "\(noted)")
                #expect(daemon.docker(["inspect", "-f", "{{json .HostConfig.Mounts}}", "noted"]).stdout
                        == #"[{"Type":"bind","Source":"\#(host)","Target":"/h","ReadOnly":true,"BindOptions":{"ReadOnlyNonRecursive":true}},{"Type":"bind","Source":"\#(host)","Target":"/h2","ReadOnly":true}]"# + "\n")
                let force = Self.create(daemon, #"{"Image":"busybox","HostConfig":{"Mounts":[{"Type":"bind","Source":"\#(host)","Target":"/h","ReadOnly":true,"BindOptions":{"ReadOnlyForceRecursive":true}}]}}"#,
                                        version: "1.43")
                #expect(force.body == #"{"message":"BindOptions.ReadOnlyForceRecursive needs API v1.44 or newer"}"# && force.code == "400", "\(force)")
                #expect(daemon.docker(["rm", "-f", "rroc", "oldapi", "oldbind", "noted"]).status == 0)
            }
        }
    }

    @Test func bindOptionConflictsFailTheStartWithDockerdsTexts() throws {
        try Self.withDaemon { daemon in
            let cases = [
                (#"{"ReadOnlyNonRecursive":true}"#, "false", "mount options conflict: !ReadOnly && BindOptions.ReadOnlyNonRecursive"),
                (#"{"ReadOnlyForceRecursive":true}"#, "false", "mount options conflict: !ReadOnly && BindOptions.ReadOnlyForceRecursive"),
                (#"{"ReadOnlyNonRecursive":true,"ReadOnlyForceRecursive":true}"#, "true",
                 "mount options conflict: ReadOnlyNonRecursive && BindOptions.ReadOnlyForceRecursive"),
            ]
            for (index, (options, readOnly, message)) in cases.enumerated() {
                let made = Self.create(daemon, #"{"Image":"busybox","HostConfig":{"Mounts":[{"Type":"bind","Source":"/tmp","Target":"/h","ReadOnly":\#(readOnly),"BindOptions":\#(options)}]}}"#,
                                       name: "conflict\(index)")
                #expect(made.code == "201", "\(made)")
                let start = daemon.docker(["start", "conflict\(index)"])
                #expect(start.status == 1 && start.stderr == Self.daemonError(message) + "Error: failed to start containers: conflict\(index)\n", "\(start)")
                #expect(daemon.docker(["rm", "conflict\(index)"]).status == 0)
            }
            // Options of another type, as current dockerd refuses them for API 1.42+.
            let mixed = Self.create(daemon, #"{"Image":"busybox","HostConfig":{"Mounts":[{"Type":"bind","Source":"/tmp","Target":"/h","VolumeOptions":{}}]}}"#)
            #expect(mixed.body == #"{"message":"VolumeOptions must not be specified on mount type \"bind\""}"# && mixed.code == "400", "\(mixed)")
            // An API 1.41 client gets what dockerd 20.10 (its daemon) answers.
            let mixedOld = Self.create(daemon, #"{"Image":"busybox","HostConfig":{"Mounts":[{"Type":"bind","Source":"/tmp","Target":"/h","VolumeOptions":{}}]}}"#,
                                       version: "1.41")
            #expect(mixedOld.body == #"{"message":"invalid mount config for type \"bind\": field VolumeOptions must not be specified"}"#, "\(mixedOld)")
            let image = Self.create(daemon, #"{"Image":"busybox","HostConfig":{"Mounts":[{"Type":"image","Source":"busybox","Target":"/i"}]}}"#, version: "1.47")
            #expect(image.body == #"{"message":"Mount type \"Image\" needs API v1.48 or newer"}"#, "\(image)")
        }
    }

    @Test func createMountpointMakesAMissingBindSource() throws {
        try Self.withDaemon { daemon in
            let source = NSTemporaryDirectory() + Harness.uniqueID("bindsrc") + "/deep"
            defer { try? FileManager.default.removeItem(atPath: (source as NSString).deletingLastPathComponent) }
            let body = #"{"Image":"busybox","Cmd":["ls","-d","/h"],"HostConfig":{"Mounts":[{"Type":"bind","Source":"\#(source)","Target":"/h"CREATE}]}}"#
            let refused = Self.create(daemon, body.replacingOccurrences(of: "CREATE", with: ""))
            #expect(refused.body == #"{"message":"invalid mount config for type \"bind\": bind source path does not exist: \#(source)"}"#, "\(refused)")
            // Before API 1.42 the option did not exist, and is ignored.
            let old = Self.create(daemon, body.replacingOccurrences(of: "CREATE", with: #","BindOptions":{"CreateMountpoint":true}"#), version: "1.41")
            #expect(old.code == "400", "\(old)")
            let made = Self.create(daemon, body.replacingOccurrences(of: "CREATE", with: #","BindOptions":{"CreateMountpoint":true}"#), name: "mkp")
            #expect(made.code == "201", "\(made)")
            #expect(daemon.docker(["start", "-a", "mkp"]).stdout == "/h\n")
            var isDirectory: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) && isDirectory.boolValue)
            #expect(daemon.docker(["rm", "mkp"]).status == 0)
        }
    }

    // MARK: image mounts

    /// How many of this daemon's image stacks are mounted where it runs.
    static func stackedImages(_ daemon: TestDaemon) -> Int { sideMounts(daemon, "/image-") }

    /// How many mounts beside its containers' roots (`/image-`, `/subpath-`) the daemon has.
    static func sideMounts(_ daemon: TestDaemon, _ kind: String) -> Int {
        let pid = ((try? String(contentsOfFile: daemon.directory + "/berthd.pid", encoding: .utf8)) ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // Read as a stream: /proc files have no size for a whole-file read.
        let table = readProcFile("/proc/\(pid)/mountinfo") ?? ""
        return table.split(separator: "\n").filter { $0.contains(daemon.directory + "/data/overlay/") && $0.contains(kind) }.count
    }

    @Test func imageMountsStackTheImageReadOnly() throws {
        try Self.withDaemon { daemon in
            // An image of two layers, the top one deleting /bin/ls: the mount shows the image as it is.
            #expect(daemon.docker(["run", "--name", "base", "busybox", "sh", "-c", "echo two > /etc/marker && rm /bin/ls"]).status == 0)
            #expect(daemon.docker(["commit", "base", "two"]).status == 0)
            #expect(daemon.docker(["rm", "base"]).status == 0)
            let look = daemon.docker(["run", "--rm", "--mount", "type=image,src=two,dst=/img", "busybox", "sh", "-c",
                                      "cat /img/etc/marker; [ -e /img/bin/ls ] || echo gone; touch /img/x"])
            #expect(look.status == 1 && look.stdout == "two\ngone\n" && look.stderr == "touch: /img/x: Read-only file system\n", "\(look)")
            let single = daemon.docker(["run", "--rm", "--mount", "type=image,src=busybox,dst=/img,image-subpath=etc", "busybox", "test", "-f", "/img/passwd"])
            #expect(single.status == 0, "\(single)")

            // Held while a container uses it, as the container's own image is.
            #expect(daemon.docker(["create", "--name", "user", "--mount", "type=image,src=two,dst=/img", "busybox"]).status == 0)
            let id = daemon.docker(["inspect", "-f", "{{.Id}}", "user"]).stdout.prefix(12)
            let imageID = daemon.docker(["image", "inspect", "-f", "{{.Id}}", "two"]).stdout.dropFirst(7).prefix(12)
            let rmi = daemon.docker(["rmi", "two"])
            #expect(rmi.status == 1 && rmi.stderr == Self.daemonError(
                "conflict: unable to remove repository reference \"two\" (must force) - container \(id) is using its referenced image \(imageID)"), "\(rmi)")
            let mounts = daemon.docker(["inspect", "-f", "{{json .Mounts}}", "user"]).stdout
            #expect(mounts.hasPrefix(#"[{"Type":"image","Name":"two","Source":"\#(daemon.directory)/data/overlay/"#)
                    && mounts.hasSuffix(#"/image-0","Destination":"/img","Mode":"","RW":false,"Propagation":"rprivate"}]"# + "\n"), "\(mounts)")

            // Stacked while it runs, taken down when it stops.
            #expect(daemon.docker(["start", "user"]).status == 0)
            #expect(daemon.docker(["run", "-d", "--name", "runner", "--mount", "type=image,src=two,dst=/img", "busybox", "sleep", "60"]).status == 0)
            #expect(Self.stackedImages(daemon) == 1)
            // docker cp sees it as the container does: readable, a read-only mount point.
            let copied = daemon.docker(["cp", "runner:/img/etc/marker", "-"])
            #expect(copied.status == 0 && copied.stdout.contains("two\n"), "\(copied)")
            let into = daemon.docker(["cp", "/etc/hostname", "runner:/img/"])
            #expect(into.status == 1 && into.stderr == Self.daemonError("mounted volume is marked read-only"), "\(into)")
            #expect(daemon.docker(["rm", "-f", "runner", "user"]).status == 0)
            // The removal answers first; the roots and their stacked images go right after.
            #expect(ContainerBehaviourTests.eventually { Self.stackedImages(daemon) == 0 })
            #expect(daemon.docker(["rmi", "two"]).status == 0)

            // dockerd's checks.
            let escape = daemon.docker(["create", "--mount", "type=image,src=busybox,dst=/img,image-subpath=../x", "busybox"])
            #expect(escape.stderr == Self.daemonError("invalid mount config for type \"image\": subpath must be a relative path within the volume"), "\(escape)")
            let missing = Self.create(daemon, #"{"Image":"busybox","HostConfig":{"Mounts":[{"Type":"image","Source":"nosuch","Target":"/img"}]}}"#)
            #expect(missing.body == #"{"message":"No such image: nosuch:latest"}"# && missing.code == "404", "\(missing)")
            let noSource = Self.create(daemon, #"{"Image":"busybox","HostConfig":{"Mounts":[{"Type":"image","Target":"/img"}]}}"#)
            #expect(noSource.body == #"{"message":"invalid mount config for type \"image\": field Source must not be empty"}"#, "\(noSource)")
            #expect(daemon.docker(["ps", "-aq"]).stdout.isEmpty)
        }
    }

    // MARK: the working directory, at create

    @Test func workingDirectoryIsMadeOrRefusedAtCreate() throws {
        try Self.withDaemon { daemon in
            let file = daemon.docker(["create", "-w", "/etc/passwd", "busybox"])
            #expect(file.status == 1 && file.stderr == Self.daemonError("Cannot mkdir: /etc/passwd is not a directory"), "\(file)")
            let run = daemon.docker(["run", "-w", "/etc/passwd", "busybox", "true"])
            #expect(run.status == 125 && run.stderr == Self.runError("Cannot mkdir: /etc/passwd is not a directory"), "\(run)")
            #expect(daemon.docker(["ps", "-aq"]).stdout.isEmpty, "no container is left of a refused create")
            // Made in the container's layer at create, as `docker diff` shows before any start.
            #expect(daemon.docker(["create", "--name", "wd", "-w", "/srv/app/data", "busybox"]).status == 0)
            #expect(daemon.docker(["diff", "wd"]).stdout == "A /srv\nA /srv/app\nA /srv/app/data\n")
            #expect(daemon.docker(["create", "--name", "wd2", "-w", "/usr/sbin/x", "busybox"]).status == 0)
            #expect(daemon.docker(["diff", "wd2"]).stdout == "C /usr\nC /usr/sbin\nA /usr/sbin/x\n")
            // The directories it passes through keep the image's times, as overlayfs's copy-up.
            let times = daemon.docker(["run", "--rm", "-w", "/usr/sbin/x", "busybox", "sh", "-c",
                                       "[ $(stat -c %Y /usr) -lt 1000000000 -o $(stat -c %Y /usr) = $(stat -c %Y /bin) ] && pwd"])
            #expect(times.stdout == "/usr/sbin/x\n", "\(times)")
            #expect(daemon.docker(["rm", "wd", "wd2"]).status == 0)
        }
    }

    // MARK: -v, --volumes-from, --tmpfs

    @Test func volumesFromModesAndDuplicateTargetsAsDockerd() throws {
        try Self.withDaemon { daemon in
            #expect(daemon.docker(["create", "--name", "src", "-v", "vf:/data", "busybox"]).status == 0)
            // Any -v mode but a propagation or copy one.
            let rw = daemon.docker(["run", "--rm", "--volumes-from", "src:rw,z", "busybox", "touch", "/data/x"])
            #expect(rw.status == 0, "\(rw)")
            let ro = daemon.docker(["run", "--rm", "--volumes-from", "src:ro,Z", "busybox", "touch", "/data/y"])
            #expect(ro.status == 1 && ro.stderr == "touch: /data/y: Read-only file system\n", "\(ro)")
            for bad in ["rslave", "nocopy", "bogus"] {
                let refused = daemon.docker(["run", "--rm", "--volumes-from", "src:" + bad, "busybox", "true"])
                #expect(refused.status == 125 && refused.stderr == Self.runError("invalid mode: \(bad)"), "\(refused)")
            }
            let empty = daemon.docker(["run", "--rm", "--volumes-from", "", "busybox", "true"])
            #expect(empty.stderr == Self.runError("volumes-from specification cannot be an empty string"), "\(empty)")

            // Two mounts on one target: refused at create, as dockerd does.
            for args in [["-v", "/tmp:/c", "-v", "/var:/c"], ["-v", "/tmp:/c", "--mount", "type=bind,src=/var,dst=/c"],
                         ["-v", "/tmp:/c", "--tmpfs", "/c"]] {
                let duplicate = daemon.docker(["create"] + args + ["busybox"])
                #expect(duplicate.status == 1 && duplicate.stderr == Self.daemonError("Duplicate mount point: /c"), "\(args): \(duplicate)")
            }
            // A --tmpfs may share a --mount's target; the tmpfs is what the container sees.
            let shared = daemon.docker(["run", "--rm", "--mount", "type=bind,src=/var,dst=/c", "--tmpfs", "/c", "busybox", "sh", "-c",
                                        "grep ' /c ' /proc/self/mountinfo | cut -d' ' -f9"])
            #expect(shared.status == 0 && shared.stdout == "tmpfs\n", "\(shared)")
            #expect(daemon.docker(["ps", "-aq"]).stdout.split(separator: "\n").count == 1)
            #expect(daemon.docker(["rm", "-v", "src"]).status == 0)
        }
    }
}
