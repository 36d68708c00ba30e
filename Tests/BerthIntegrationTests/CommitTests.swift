import Foundation
import Glibc
import Testing

/// `docker commit` through the stock CLI, with dockerd 20.10's answers as the reference: the
/// new image runs with the container's changes, its config, history and events look like
/// dockerd's, and the files Berth makes for its own mounts stay out of the layer.
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct CommitTests {
    static func trimmed(_ text: String) -> String { text.trimmingCharacters(in: .whitespacesAndNewlines) }

    /// The entries of the image's top layer, from `docker save`.
    static func topLayerEntries(_ daemon: TestDaemon, _ image: String) -> [String] {
        let directory = daemon.directory + "/" + Harness.uniqueID("save")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let script = """
            mkdir -p '\(directory)' && DOCKER save \(image) | tar -xf - -C '\(directory)' && \
            layer=$(sed -e 's/.*"Layers":\\[//' -e 's/\\].*//' '\(directory)/manifest.json' | tr ',' '\\n' | tail -n 1 | tr -d '"') && \
            tar -tf "\(directory)/$layer"
            """
        let listing = CopyExportDiffTests.shell(daemon, script)
        #expect(listing.status == 0, "\(listing)")
        return listing.stdout.split(separator: "\n").map(String.init)
    }

    @Test func theNewImageHasTheContainersChanges() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["run", "-d", "--name", "src", "-v", daemon.directory + ":/bound", "--tmpfs", "/scratch", "busybox",
                                   "sh", "-c", "echo hi > /changed; rm /etc/passwd; mkdir /made; touch /ready; sleep 300"]).status == 0)
            CopyExportDiffTests.waitFor { daemon.docker(["exec", "src", "test", "-e", "/ready"]).status == 0 }
            let commit = daemon.docker(["commit", "src", "snap:v1"])
            #expect(commit.status == 0 && commit.stdout.hasPrefix("sha256:") && commit.stdout.count == 72, "\(commit)")
            #expect(Self.trimmed(commit.stdout) == Self.trimmed(daemon.docker(["image", "inspect", "-f", "{{.Id}}", "snap:v1"]).stdout))
            // Named by the commit: tagged now, as dockerd's TagImage records it.
            #expect(daemon.docker(["image", "inspect", "-f", "{{.Metadata.LastTagTime}}", "snap:v1"]).stdout.hasPrefix("20"))
            // The change is in the image, the deleted file stays deleted (a whiteout).
            #expect(daemon.docker(["run", "--rm", "snap:v1", "cat", "/changed"]).stdout == "hi\n")
            let passwd = daemon.docker(["run", "--rm", "snap:v1", "ls", "/etc/passwd"])
            #expect(passwd.status != 0 && passwd.stderr.contains("No such file"), "\(passwd)")
            // The layer is what `docker diff` shows, as dockerd writes it: the mount points of
            // binds and tmpfs are in it, /.dockerenv and the /etc files made for mounts are not.
            #expect(Self.topLayerEntries(daemon, "snap:v1") == ["bound/", "changed", "etc/", "etc/.wh.passwd", "made/", "ready", "scratch/"])
            // The container was paused for the commit only.
            #expect(ContainerBehaviourTests.inspect(daemon, "{{.State.Status}}", "src") == "running\n")
            // The image config names the container and keeps its config as container_config.
            let id = Self.trimmed(ContainerBehaviourTests.inspect(daemon, "{{.Id}}", "src"))
            let config = daemon.docker(["image", "inspect", "-f", "{{json .Config.Cmd}} {{.Config.Hostname}} {{.Architecture}} {{.Os}} {{len .RootFS.Layers}}", "snap:v1"])
            #expect(config.stdout == #"["sh","-c","echo hi > /changed; rm /etc/passwd; mkdir /made; touch /ready; sleep 300"] "#
                    + id.prefix(12) + " amd64 linux 2\n", "\(config)")
            #expect(daemon.docker(["rm", "-f", "src"]).status == 0)
        }
    }

    /// `rm -rf DIR && mkdir -p DIR/sub` makes DIR opaque in the layer: what it holds now must
    /// be in the image even where it equals the lower copy, or the image loses it.
    @Test func aRecreatedDirectoryKeepsItsContentInTheImage() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["run", "--name", "rec", "busybox", "sh", "-c", "rm -rf /usr && mkdir -p /usr/sbin /usr/new"]).status == 0)
            #expect(daemon.docker(["commit", "rec", "recreated"]).status == 0)
            #expect(daemon.docker(["run", "--rm", "recreated", "ls", "/usr"]).stdout == "new\nsbin\n")
            #expect(daemon.docker(["diff", "rec"]).stdout == "C /usr\nD /usr/bin\nA /usr/new\n")
            #expect(daemon.docker(["rm", "rec"]).status == 0)
        }
    }

    @Test func changesAuthorAndMessageGoIntoConfigAndHistory() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["create", "--name", "base", "-e", "KEEP=1", "busybox", "sleep", "1"]).status == 0)
            let commit = daemon.docker(["commit", "-a", "Jane <jane@example.com>", "-m", "a message",
                                        "-c", #"CMD ["sh", "-c", "echo $A $KEEP; pwd"]"#, "-c", "ENV A=1",
                                        "-c", "WORKDIR /tmp", "-c", "EXPOSE 8080", "-c", "LABEL team=x",
                                        "-c", "HEALTHCHECK --interval=5s --retries=2 CMD true", "base", "changed"])
            #expect(commit.status == 0, "\(commit)")
            #expect(daemon.docker(["run", "--rm", "changed"]).stdout == "1 1\n/tmp\n")
            let inspect = daemon.docker(["image", "inspect", "-f",
                                         "{{json .Config.Env}}|{{.Config.WorkingDir}}|{{json .Config.ExposedPorts}}|{{json .Config.Labels}}|{{.Author}}|{{.Comment}}",
                                         "changed"])
            #expect(inspect.stdout == #"["KEEP=1","PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","A=1"]|/tmp|{"8080/tcp":{}}|{"team":"x"}|Jane <jane@example.com>|a message"#
                    + "\n", "\(inspect)")
            #expect(daemon.docker(["image", "inspect", "-f", "{{json .Config.Healthcheck}}", "changed"]).stdout
                    == #"{"Test":["CMD-SHELL","true"],"Interval":5000000000,"Retries":2}"# + "\n")
            // One new history row: the container's command, the message; the layer is empty.
            let history = daemon.docker(["history", "--no-trunc", "--format", "{{.CreatedBy}}|{{.Size}}|{{.Comment}}", "changed"])
            let rows = history.stdout.split(separator: "\n").map(String.init)
            #expect(rows.count == 2 && rows[0] == "sleep 1|0B|a message", "\(history)")
            // A commit with no changes at all still adds a layer.
            #expect(daemon.docker(["commit", "base", "plain"]).status == 0)
            #expect(daemon.docker(["image", "inspect", "-f", "{{len .RootFS.Layers}} {{json .Config.Cmd}}", "plain"]).stdout == "2 [\"sleep\",\"1\"]\n")
            #expect(Self.topLayerEntries(daemon, "plain") == [])
            #expect(daemon.docker(["rm", "base"]).status == 0)
        }
    }

    @Test func pausesARunningContainerUnlessToldNot() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let started = daemon.docker(["run", "-d", "--name", "pz", "busybox", "sleep", "300"])
            #expect(started.status == 0, "\(started)")
            let since = EventsTests.sinceNow()
            #expect(daemon.docker(["commit", "-m", "first", "pz", "paused:one"]).status == 0)
            #expect(daemon.docker(["commit", "--pause=false", "pz"]).status == 0)
            #expect(daemon.docker(["pause", "pz"]).status == 0)
            #expect(daemon.docker(["commit", "pz"]).status == 0)
            // A paused container stays paused.
            #expect(ContainerBehaviourTests.inspect(daemon, "{{.State.Status}}", "pz") == "paused\n")
            EventsTests.nextSecond()
            let events = daemon.docker(["events", "--since", since, "--until", "0s", "--format", "{{.Type}} {{.Action}}"])
            #expect(events.stdout.split(separator: "\n").map(String.init) == [
                "container pause", "image create", "image tag", "container commit", "container unpause",
                "image create", "container commit",
                "container pause", "image create", "container commit",
            ], "\(events)")
            // Clients before API 1.46 are not told of image creation.
            let old = daemon.curl(["http://berth/v1.45/events?since=\(since)&until=\(Int(Date().timeIntervalSince1970))"]).stdout
            #expect(old.contains(#""Action":"commit""#) && !old.contains(#""Action":"create""#), "\(old)")
            let id = Self.trimmed(daemon.docker(["image", "inspect", "-f", "{{.Id}}", "paused:one"]).stdout)
            let attributes = daemon.docker(["events", "--since", since, "--until", "0s", "--filter", "event=commit",
                                            "--format", "{{.Actor.Attributes.comment}}|{{.Actor.Attributes.imageID}}|{{.Actor.Attributes.imageRef}}|{{.Actor.Attributes.name}}"])
            #expect(attributes.stdout.split(separator: "\n").first.map(String.init) == "first|\(id)|paused:one|pz", "\(attributes)")
            let tag = daemon.docker(["events", "--since", since, "--until", "0s", "--filter", "event=tag", "--format", "{{.Actor.ID}} {{.Actor.Attributes.name}}"])
            #expect(tag.stdout == "\(id) paused:one\n", "\(tag)")
            #expect(daemon.docker(["rm", "-f", "pz"]).status == 0)
        }
    }

    /// Pruning an image frees only its own layers: the one it shares with busybox stays, and
    /// the space reclaimed (in the answer and in the prune event) is that of the freed layer.
    @Test func pruneCountsOnlyTheLayersItFrees() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["run", "--name", "pr", "busybox", "sh", "-c", "echo hello > /x"]).status == 0)
            #expect(daemon.docker(["commit", "--change", "LABEL drop=yes", "pr", "child:1"]).status == 0)
            #expect(daemon.docker(["rm", "pr"]).status == 0)
            func size(_ image: String) -> Int { Int(Self.trimmed(daemon.docker(["image", "inspect", "-f", "{{.Size}}", image]).stdout)) ?? -1 }
            let own = size("child:1") - size("busybox")
            #expect(own > 0 && own < size("busybox"))
            let since = EventsTests.sinceNow()
            let prune = daemon.curl(["-X", "POST", "-G", "--data-urlencode", #"filters={"label":["drop=yes"],"dangling":["false"]}"#,
                                     "http://berth/v1.50/images/prune"])
            #expect(prune.stdout.contains(#""SpaceReclaimed":\#(own)}"#), "\(prune.stdout)")
            #expect(size("busybox") > 0)
            EventsTests.nextSecond()
            let event = daemon.docker(["events", "--since", since, "--until", "0s", "--filter", "event=prune",
                                       "--format", "{{.Actor.Attributes.reclaimed}}"])
            #expect(event.stdout == "\(own)\n", "\(event)")
        }
    }

    @Test func theImageCommittedFromIsItsParent() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["run", "--name", "one", "busybox", "touch", "/one"]).status == 0)
            #expect(daemon.docker(["commit", "one", "first"]).status == 0)
            #expect(daemon.docker(["run", "--name", "two", "first", "touch", "/two"]).status == 0)
            #expect(daemon.docker(["commit", "two", "second"]).status == 0)
            #expect(daemon.docker(["rm", "one", "two"]).status == 0)
            func id(_ name: String) -> String { Self.trimmed(daemon.docker(["image", "inspect", "-f", "{{.Id}}", name]).stdout) }
            let (busybox, first, second) = (id("busybox"), id("first"), id("second"))
            #expect(daemon.docker(["image", "inspect", "-f", "{{.Parent}}", "second"]).stdout == first + "\n")
            #expect(daemon.docker(["image", "inspect", "-f", "{{.Parent}}", "busybox"]).stdout == "\n")
            // Each image of the chain names its row in the history, as dockerd shows.
            let history = daemon.docker(["history", "--no-trunc", "--format", "{{.ID}} {{.CreatedBy}}", "second"])
            let rows = history.stdout.split(separator: "\n").map(String.init)
            #expect(rows.map { String($0.prefix(71)) } == [second, first, busybox], "\(history)")
            #expect(rows.count == 3 && rows[0].hasSuffix(" touch /two") && rows[1].hasSuffix(" touch /one"), "\(history)")
            // Untagged, the parent is an intermediate image: kept, listed with -a only, not deletable by ID.
            #expect(daemon.docker(["rmi", "first"]).stdout == "Untagged: first:latest\n")
            #expect(!daemon.docker(["images", "-q", "--no-trunc"]).stdout.contains(first))
            #expect(daemon.docker(["images", "-a", "-q", "--no-trunc"]).stdout.contains(first))
            let refused = daemon.docker(["rmi", "-f", first])
            #expect(refused.status == 1 && refused.stderr == "Error response from daemon: conflict: unable to delete \(first.dropFirst(7).prefix(12)) (cannot be forced) - image has dependent child images\n", "\(refused)")
            // Deleting the child takes the untagged parent along.
            // Each image is followed by its own layer, as dockerd lists them.
            let lines = daemon.docker(["rmi", "second"]).stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 5 && lines[0] == "Untagged: second:latest" && lines[1] == "Deleted: \(second)" && lines[3] == "Deleted: \(first)", "\(lines)")
            #expect([lines[2], lines[4]].allSatisfy { $0.range(of: "^Deleted: sha256:[0-9a-f]{64}$", options: .regularExpression) != nil }, "\(lines)")
            #expect(daemon.docker(["images", "-a", "-q", "--no-trunc"]).stdout == busybox + "\n")
        }
    }

    @Test func errorsAreDockers() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["create", "--name", "ee", "busybox", "true"]).status == 0)
            let missing = daemon.docker(["commit", "nosuch"])
            #expect(missing.status == 1 && missing.stderr == "Error response from daemon: No such container: nosuch\n", "\(missing)")
            for (change, message) in [("FOO bar", "foo is not a valid change command"), ("FROM busybox", "from is not a valid change command"),
                                      ("RUN true", "run is not a valid change command"), ("EXPOSE abc", "Invalid containerPort: abc"),
                                      ("ENV", "ENV requires at least one argument"), ("ENV a", "ENV must have two arguments"),
                                      ("STOPSIGNAL SIGINT", "stopsignal is not a valid change command"),
                                      ("HEALTHCHECK --bogus=1 CMD true", "Unknown flag: bogus"),
                                      ("ONBUILD FROM x", "FROM isn't allowed as an ONBUILD trigger")] {
                let refused = daemon.docker(["commit", "-c", change, "ee"])
                #expect(refused.status == 1 && refused.stderr == "Error response from daemon: \(message)\n", "\(change): \(refused)")
            }
            // What the CLI does not check itself, the daemon refuses in dockerd's words.
            #expect(daemon.curl(["-X", "POST", "http://berth/v1.50/commit?container=ee&repo=x&tag=a:b"]).stdout == #"{"message":"invalid tag format"}"# + "\n")
            let noName = daemon.curl(["-X", "POST", "http://berth/v1.50/commit"]).stdout
            #expect(noName.hasPrefix(#"{"message":"invalid name or ID supplied: \"\""}"#), "\(noName)")
            // A config in the body replaces the container's; the rest of the query still applies.
            let body = daemon.curl(["-X", "POST", "-H", "Content-Type: application/json", "-d", #"{"Cmd":["echo","from the body"]}"#,
                                    "-w", " %{http_code}", "http://berth/v1.50/commit?container=ee&repo=bodied&comment=c"]).stdout
            #expect(body.hasPrefix(#"{"Id":"sha256:"#) && body.hasSuffix(" 201"), "\(body)")
            #expect(daemon.docker(["run", "--rm", "bodied"]).stdout == "from the body\n")
            // Nothing was made by the refused commits: the image and the body's one only.
            #expect(daemon.docker(["images", "-q"]).stdout.split(separator: "\n").count == 2)
            #expect(daemon.docker(["rm", "ee"]).status == 0)
        }
    }
}
