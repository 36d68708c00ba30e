import Foundation
import Glibc
import Testing

/// `docker build` through the stock CLI (the classic builder, as the CLI here has no buildx),
/// with dockerd 20.10's output as the reference: the step lines, the cache, the errors and
/// exit codes, multi-stage builds, .dockerignore and -q.
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct BuildTests {
    /// A context directory with these files (path → contents).
    static func context(_ daemon: TestDaemon, _ files: [String: String]) throws -> String {
        let directory = daemon.directory + "/" + Harness.uniqueID("ctx")
        for (path, contents) in files {
            let file = directory + "/" + path
            try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try contents.write(toFile: file, atomically: true, encoding: .utf8)
        }
        return directory
    }

    /// The progress lines with container and image IDs replaced, as they are random.
    static func lines(_ text: String) -> [String] {
        text.replacingOccurrences(of: "\r", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).map { line in
            String(line).replacingOccurrences(of: "[0-9a-f]{12}", with: "<id>", options: .regularExpression)
        }.filter { !$0.isEmpty && !$0.hasPrefix("Sending build context") }
    }

    @Test func aBuildRunsItsStepsAndTheImageRuns() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let directory = try Self.context(daemon, [
                "Dockerfile": """
                    # a comment
                    FROM busybox
                    ENV GREETING=hello \\
                        WHO="the world"
                    WORKDIR /app
                    COPY msg.txt sub ./
                    RUN echo "$GREETING, $WHO" > /app/out && cat msg.txt
                    CMD ["sh", "-c", "cat /app/out /app/msg.txt /app/inner.txt; pwd"]
                    """,
                "msg.txt": "from the context\n",
                "sub/inner.txt": "inner\n",
            ])
            let build = daemon.docker(["build", "-t", "built:v1", directory])
            #expect(build.status == 0, "\(build)")
            #expect(Self.lines(build.stdout) == [
                "Step 1/6 : FROM busybox", " ---> <id>",
                "Step 2/6 : ENV GREETING=hello     WHO=\"the world\"", " ---> Running in <id>", "Removing intermediate container <id>", " ---> <id>",
                "Step 3/6 : WORKDIR /app", " ---> Running in <id>", "Removing intermediate container <id>", " ---> <id>",
                "Step 4/6 : COPY msg.txt sub ./", " ---> <id>",
                "Step 5/6 : RUN echo \"$GREETING, $WHO\" > /app/out && cat msg.txt", " ---> Running in <id>", "from the context",
                "Removing intermediate container <id>", " ---> <id>",
                "Step 6/6 : CMD [\"sh\", \"-c\", \"cat /app/out /app/msg.txt /app/inner.txt; pwd\"]", " ---> Running in <id>",
                "Removing intermediate container <id>", " ---> <id>",
                "Successfully built <id>", "Successfully tagged built:v1",
            ], "\(build)")
            let run = daemon.docker(["run", "--rm", "built:v1"])
            #expect(run.stdout == "hello, the world\nfrom the context\ninner\n/app\n", "\(run)")
            // The history and config look like dockerd's.
            let history = daemon.docker(["history", "--no-trunc", "--format", "{{.CreatedBy}}", "built:v1"])
            let rows = history.stdout.split(separator: "\n").map(String.init)
            #expect(Array(rows.prefix(4)) == [
                #"/bin/sh -c #(nop)  CMD ["sh" "-c" "cat /app/out /app/msg.txt /app/inner.txt; pwd"]"#,
                #"/bin/sh -c echo "$GREETING, $WHO" > /app/out && cat msg.txt"#,
                rows.count > 2 && rows[2].hasPrefix("/bin/sh -c #(nop) COPY multi:") ? rows[2] : "a COPY row",
                "/bin/sh -c #(nop) WORKDIR /app",
            ], "\(history)")
            let config = daemon.docker(["image", "inspect", "-f", "{{json .Config.Env}} {{.Config.WorkingDir}} {{len .RootFS.Layers}}", "built:v1"])
            #expect(config.stdout == #"["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","GREETING=hello","WHO=the world"] /app 4"# + "\n", "\(config)")
            // No build container is left.
            #expect(daemon.docker(["ps", "-aq"]).stdout == "")
        }
    }

    @Test func aRebuildUsesTheCacheUntilAFileChanges() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let directory = try Self.context(daemon, [
                "Dockerfile": "FROM busybox\nCOPY f /f\nRUN cat /f\nLABEL a=b\n",
                "f": "one\n",
            ])
            let since = EventsTests.sinceNow()
            let first = daemon.docker(["build", "-t", "cached", directory])
            #expect(first.status == 0, "\(first)")
            let again = daemon.docker(["build", "-t", "cached", directory])
            // Each committed step is an image `create` (API 1.46); a step from the cache is not.
            EventsTests.nextSecond()
            let events = daemon.docker(["events", "--since", since, "--until", "0s", "-f", "type=image", "--format", "{{.Action}}"])
            #expect(events.stdout == "create\ncreate\ncreate\ntag\ntag\n", "\(events)")
            #expect(Self.lines(again.stdout) == [
                "Step 1/4 : FROM busybox", " ---> <id>",
                "Step 2/4 : COPY f /f", " ---> Using cache", " ---> <id>",
                "Step 3/4 : RUN cat /f", " ---> Using cache", " ---> <id>",
                "Step 4/4 : LABEL a=b", " ---> Using cache", " ---> <id>",
                "Successfully built <id>", "Successfully tagged cached:latest",
            ], "\(again)")
            #expect(first.stdout.split(separator: "\n").last == again.stdout.split(separator: "\n").last)
            // A changed file misses the cache from its COPY on.
            try "two\n".write(toFile: directory + "/f", atomically: true, encoding: .utf8)
            let changed = daemon.docker(["build", directory])
            #expect(!changed.stdout.contains("Using cache") && changed.stdout.contains("two\n"), "\(changed)")
            // --no-cache runs every step.
            let fresh = daemon.docker(["build", "--no-cache", directory])
            #expect(fresh.status == 0 && !fresh.stdout.contains("Using cache"), "\(fresh)")
            // --cache-from: only steps in the lineage of the images named are reused.
            #expect(daemon.docker(["build", "-t", "cachesource", directory]).status == 0)
            let fromSource = daemon.docker(["build", "--cache-from", "cachesource", directory])
            #expect(fromSource.stdout.components(separatedBy: "Using cache").count == 4, "\(fromSource)")
            let fromNothing = daemon.docker(["build", "--cache-from", "nosuchimage", directory])
            #expect(fromNothing.status == 0 && !fromNothing.stdout.contains("Using cache"), "\(fromNothing)")
        }
    }

    @Test func aFailingRunEndsTheBuildWithItsCode() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let directory = try Self.context(daemon, ["Dockerfile": "FROM busybox\nRUN echo out; exit 3\nRUN echo never\n"])
            let build = daemon.docker(["build", "--force-rm", directory])
            #expect(build.status == 3, "\(build)")
            #expect(build.stdout.contains("out\n") && !build.stdout.contains("never"), "\(build)")
            #expect(build.stderr.contains("The command '/bin/sh -c echo out; exit 3' returned a non-zero code: 3"), "\(build)")
            #expect(daemon.docker(["ps", "-aq"]).stdout == "")
            // Without --force-rm the failed step's container stays, as with dockerd.
            let kept = daemon.docker(["build", directory])
            #expect(kept.status == 3, "\(kept)")
            #expect(daemon.docker(["ps", "-aq", "--filter", "status=exited"]).stdout.split(separator: "\n").count == 1)
        }
    }

    @Test func onbuildTriggersRunInTheNextBuild() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let base = try Self.context(daemon, ["Dockerfile": "FROM busybox\nONBUILD RUN echo triggered > /trigger\n"])
            #expect(daemon.docker(["build", "-t", "withtrigger", base]).status == 0)
            let child = try Self.context(daemon, ["Dockerfile": "FROM withtrigger\nCMD [\"cat\", \"/trigger\"]\n"])
            let build = daemon.docker(["build", "-t", "triggered", child])
            #expect(Self.lines(build.stdout).prefix(4) == ["Step 1/2 : FROM withtrigger", "# Executing 1 build trigger",
                                                            " ---> Running in <id>", "Removing intermediate container <id>"], "\(build)")
            #expect(daemon.docker(["run", "--rm", "triggered"]).stdout == "triggered\n")
            // The new image does not pass the trigger on.
            #expect(daemon.docker(["image", "inspect", "-f", "{{json .Config.OnBuild}}", "triggered"]).stdout == "null\n")
        }
    }

    /// dockerd says the image a step ended with once per step: a FROM whose base has two
    /// triggers gets one ` ---> <id>` line, after both triggers ran.
    @Test func twoOnbuildTriggersEndTheirFromStepWithOneImageLine() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let base = try Self.context(daemon, ["Dockerfile": "FROM busybox\nONBUILD RUN echo one > /one\nONBUILD RUN echo two > /two\n"])
            #expect(daemon.docker(["build", "-t", "twotriggers", base]).status == 0)
            let child = try Self.context(daemon, ["Dockerfile": "FROM twotriggers\nCMD [\"cat\", \"/one\", \"/two\"]\n"])
            let build = daemon.docker(["build", "-t", "bothtriggered", child])
            #expect(build.status == 0, "\(build)")
            #expect(Self.lines(build.stdout) == [
                "Step 1/2 : FROM twotriggers", "# Executing 2 build triggers",
                " ---> Running in <id>", "Removing intermediate container <id>",
                " ---> Running in <id>", "Removing intermediate container <id>", " ---> <id>",
                "Step 2/2 : CMD [\"cat\", \"/one\", \"/two\"]", " ---> Running in <id>", "Removing intermediate container <id>", " ---> <id>",
                "Successfully built <id>", "Successfully tagged bothtriggered:latest",
            ], "\(build)")
            #expect(daemon.docker(["run", "--rm", "bothtriggered"]).stdout == "one\ntwo\n")
        }
    }

    @Test func runStepsTakeTheBuildsContainerOptions() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let directory = try Self.context(daemon, ["Dockerfile": "FROM busybox\nRUN grep myhost /etc/hosts; ip -o addr | grep -c inet\n"])
            let build = daemon.docker(["build", "--network", "none", "--add-host", "myhost:1.2.3.4", directory])
            #expect(build.status == 0, "\(build)")
            // Only the loopback address: no network but its own.
            #expect(build.stdout.contains("1.2.3.4\tmyhost\n1\n"), "\(build)")
        }
    }

    /// As dockerd's builder: a base image that is not here is pulled (and an image COPY --from
    /// names), and `--pull` pulls it even when it is, the pull's progress in the build's output.
    @Test func aMissingBaseImageIsPulledAndPullAsksTheRegistryAgain() throws {
        let registry = try TestRegistry()
        try ContainerBehaviourTests.withDaemon { daemon in
            let name = registry.name("busybox")
            let directory = try Self.context(daemon, ["Dockerfile": "FROM \(name)\nRUN echo built from the pull\n"])
            let build = daemon.docker(["build", "-q", directory])
            #expect(build.status == 0, "\(build)")
            // The test image is busybox itself: one image, both tags.
            #expect(daemon.docker(["image", "inspect", "-f", "{{.RepoTags}}", name]).stdout.contains("\(name):latest"))
            func manifestRequests() -> Int { registry.requests.components(separatedBy: "/manifests/").count - 1 }
            let afterFirst = manifestRequests()
            #expect(afterFirst > 0, "\(registry.requests)")
            // Here now: a build without --pull does not ask the registry.
            #expect(daemon.docker(["build", "-q", directory]).status == 0)
            #expect(manifestRequests() == afterFirst)
            let again = daemon.docker(["build", "--pull", directory])
            #expect(again.status == 0, "\(again)")
            #expect(again.stdout.contains("Status: Image is up to date for \(name):latest"), "\(again)")
            #expect(manifestRequests() > afterFirst, "\(registry.requests)")
            // COPY --from an image not here pulls it too.
            let other = registry.name("other")
            let copying = try Self.context(daemon, ["Dockerfile": "FROM busybox\nCOPY --from=\(other) /bin/busybox /copied\nRUN test -x /copied\n"])
            let copy = daemon.docker(["build", copying])
            #expect(copy.status == 0, "\(copy)")
            #expect(copy.stdout.contains("Pulling from other"), "\(copy)")
            #expect(daemon.docker(["image", "inspect", "-f", "{{.RepoTags}}", other]).stdout.contains("\(other):latest"))
        }
    }

    @Test func aRunAfterVolumeWritesIntoAVolumeThatGoesWithItsContainer() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let directory = try Self.context(daemon, ["Dockerfile": "FROM busybox\nVOLUME /data\nRUN echo x > /data/x\nRUN ls -A /data; echo listed\n"])
            let build = daemon.docker(["build", "-t", "withvolume", directory])
            #expect(build.status == 0, "\(build)")
            // As with dockerd, what a step writes under a VOLUME is not in the image ...
            #expect(build.stdout.contains(" ---> Running in ") && build.stdout.contains("\nlisted\n"), "\(build)")
            #expect(!build.stdout.contains("\nx\nlisted"), "\(build)")
            // ... and the steps' anonymous volumes are removed with their containers.
            #expect(daemon.docker(["volume", "ls", "-q"]).stdout == "")
            #expect(daemon.docker(["ps", "-aq"]).stdout == "")
        }
    }

    @Test func aBuildWhoseClientLeavesStopsAndLeavesNothing() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let directory = try Self.context(daemon, ["Dockerfile": "FROM busybox\nRUN echo started; sleep 60\n"])
            // The CLI is interrupted (as Ctrl-C does) once the step is announced, while its
            // container is made and started, and once the step's own output came.
            for awaited in ["-q 'Step 2/2'", "-qx started"] {
                let script = "DOCKER build '\(directory)' > '\(directory)/out' 2>&1 & pid=$!; "
                    + "for i in $(seq 100); do grep \(awaited) '\(directory)/out' && break; sleep 0.1; done; kill -INT $pid; wait $pid"
                let interrupted = CopyExportDiffTests.shell(daemon, script)
                #expect(interrupted.status != 0, "\(interrupted)")
                // The step's process is killed and its container removed.
                var left = "?"
                for _ in 0..<50 {
                    left = daemon.docker(["ps", "-aq"]).stdout
                    if left.isEmpty { break }
                    usleep(100_000)
                }
                #expect(left == "", "interrupted after grep \(awaited)")
            }
        }
    }

    @Test func badDockerfilesGetDockerdsErrors() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let cases: [(String, String)] = [
                ("FROM busybox\nFOO bar\n", "Error response from daemon: dockerfile parse error line 2: unknown instruction: FOO"),
                ("RUN true\n", "Error response from daemon: no build stage in current context"),
                ("FROM busybox\nCOPY a\n", "Error response from daemon: dockerfile parse error line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined"),
                ("FROM busybox\nENV A\n", "Error response from daemon: failed to parse Dockerfile: ENV must have two arguments"),
                ("# just a comment\n", "Error response from daemon: failed to parse Dockerfile: file with no instructions"),
            ]
            for (text, message) in cases {
                let directory = try Self.context(daemon, ["Dockerfile": text])
                let build = daemon.docker(["build", directory])
                #expect(build.status == 1 && build.stderr.contains(message), "\(text): \(build)")
            }
            // After the stream began: the message and exit code 1.
            let missing = try Self.context(daemon, ["Dockerfile": "FROM busybox\nCOPY nosuch /x\n"])
            let build = daemon.docker(["build", missing])
            #expect(build.status == 1, "\(build)")
            #expect(build.stderr.contains("COPY failed: file not found in build context or excluded by .dockerignore: stat nosuch: file does not exist"), "\(build)")
            #expect(daemon.docker(["ps", "-aq"]).stdout == "")
            // What the classic builder cannot do here is said, not skipped.
            for (text, message) in [
                ("FROM busybox\nCOPY --chmod=755 Dockerfile /x\n", "the --chmod option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled"),
                ("FROM busybox\nRUN --mount=type=cache,target=/c true\n", "the --mount option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled"),
            ] {
                let refused = daemon.docker(["build", try Self.context(daemon, ["Dockerfile": text])])
                #expect(refused.status == 1 && refused.stderr.contains(message), "\(text): \(refused)")
            }
            // A base image that is not here, from a registry that does not answer (loopback).
            let absent = try Self.context(daemon, ["Dockerfile": "FROM 127.0.0.1:9/nosuchimage\nRUN true\n"])
            let pull = daemon.docker(["build", absent])
            #expect(pull.status == 1, "\(pull)")
            #expect(pull.stderr.contains("connection refused"), "\(pull)")
        }
    }

    @Test func multiStageBuildsCopyFromEarlierStages() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let directory = try Self.context(daemon, [
                "Dockerfile": """
                    ARG BASE=busybox
                    FROM $BASE AS builder
                    ARG WORD
                    RUN mkdir /out && echo "made with $WORD" > /out/result
                    FROM scratch AS files
                    COPY --from=builder /out/result /result
                    FROM busybox AS final
                    COPY --from=files /result /copied
                    CMD ["cat", "/copied"]
                    FROM busybox
                    RUN echo not built
                    """,
            ])
            let build = daemon.docker(["build", "--target", "final", "--build-arg", "WORD=care", "--build-arg", "UNUSED=1",
                                       "--label", "note=$HOME as typed", "-t", "staged", directory])
            #expect(build.status == 0, "\(build)")
            // The --label is one more step of the target stage, its value not substituted.
            #expect(build.stdout.contains("Step 1/10 : ARG BASE=busybox\n") && !build.stdout.contains("not built"), "\(build)")
            #expect(build.stdout.contains("Step 10/10 : LABEL note=$HOME as typed\n"), "\(build)")
            #expect(daemon.docker(["image", "inspect", "-f", "{{index .Config.Labels \"note\"}}", "staged"]).stdout == "$HOME as typed\n")
            #expect(build.stdout.contains("[Warning] One or more build-args [UNUSED] were not consumed\n"), "\(build)")
            #expect(daemon.docker(["run", "--rm", "staged"]).stdout == "made with care\n")
            let target = daemon.docker(["build", "--target", "nosuch", directory])
            #expect(target.status == 1 && target.stderr.contains("failed to reach build target nosuch in Dockerfile"), "\(target)")
        }
    }

    /// Owners as dockerd's copier leaves them: a stage's files keep theirs, the context's are
    /// root's, and --chown reaches the directories the copy makes (a file's parents, a
    /// directory's new target) but not the ones that were there.
    @Test func copyOwnersFollowDockerdsRules() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let directory = try Self.context(daemon, [
                "Dockerfile": """
                    FROM busybox AS s
                    RUN mkdir -p /src/sub && echo a > /src/sub/a && chown -R 77:88 /src && chmod 4755 /src/sub/a
                    FROM busybox
                    COPY --from=s /src /fromstage
                    COPY --from=s --chown=9:9 /src/sub/a /chowned
                    COPY --chown=1001:1002 d /chown-ids
                    COPY --chown=1001:1002 a.txt /newdir/deeper/
                    COPY --chown=1003:1004 d /cd/x/
                    COPY --chown=1005 d /tmp/
                    COPY d /plain
                    RUN ln -s /nope/x /dangling
                    COPY a.txt /dangling
                    """,
                "a.txt": "a\n",
                "d/f": "f\n",
            ])
            let build = daemon.docker(["build", "-q", "-t", "owners", directory])
            #expect(build.status == 0, "\(build)")
            let owners = daemon.docker(["run", "--rm", "owners", "stat", "-c", "%u:%g %n", "/fromstage", "/fromstage/sub/a",
                                        "/chown-ids", "/chown-ids/f", "/newdir", "/newdir/deeper", "/newdir/deeper/a.txt",
                                        "/cd", "/cd/x", "/tmp", "/tmp/f", "/plain", "/plain/f"])
            #expect(owners.stdout == """
                77:88 /fromstage
                77:88 /fromstage/sub/a
                1001:1002 /chown-ids
                1001:1002 /chown-ids/f
                1001:1002 /newdir
                1001:1002 /newdir/deeper
                1001:1002 /newdir/deeper/a.txt
                0:0 /cd
                1003:1004 /cd/x
                0:0 /tmp
                1005:1005 /tmp/f
                0:0 /plain
                0:0 /plain/f

                """, "\(owners)")
            // A file given an owner loses its set-id bits, as after dockerd's chown; kept otherwise.
            let modes = daemon.docker(["run", "--rm", "owners", "stat", "-c", "%a %n", "/fromstage/sub/a", "/chowned"])
            #expect(modes.stdout == "4755 /fromstage/sub/a\n755 /chowned\n", "\(modes)")
            // A target that is a symlink is followed, to where it points even if that is missing.
            let followed = daemon.docker(["run", "--rm", "owners", "sh", "-c", "readlink /dangling; cat /nope/x"])
            #expect(followed.stdout == "/nope/x\na\n", "\(followed)")
            // A target below a file: dockerd's words, not an internal error's.
            let bad = try Self.context(daemon, ["Dockerfile": "FROM busybox\nCOPY a.txt /etc/passwd/x\n", "a.txt": "a\n"])
            let failed = daemon.docker(["build", "-q", bad])
            #expect(failed.status == 1 && failed.stderr.contains("failed to copy files: mkdir /etc/passwd: not a directory"), "\(failed)")
            // A source symlink whose target is not in the context is not found there.
            let escape = try Self.context(daemon, ["Dockerfile": "FROM busybox\nCOPY escape /escape\n"])
            try FileManager.default.createSymbolicLink(atPath: escape + "/escape", withDestinationPath: "../../../../../etc/hostname")
            let escaped = daemon.docker(["build", "-q", escape])
            #expect(escaped.status == 1 && escaped.stderr.contains(
                "COPY failed: file not found in build context or excluded by .dockerignore: stat escape: file does not exist"), "\(escaped)")
        }
    }

    /// Small things dockerd's builder does: `ENTRYPOINT []` stored as null, EXPOSE's history
    /// line sorted, a note when a HEALTHCHECK replaces another, an absolute WORKDIR kept as
    /// written, and CRLF line ends read.
    @Test func metadataStepsAsDockerdWritesThem() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let directory = try Self.context(daemon, [
                "Dockerfile": "FROM busybox\r\nENTRYPOINT []\r\nEXPOSE 9000 100 80/udp\r\n"
                    + "HEALTHCHECK CMD true\r\nHEALTHCHECK CMD false\r\nWORKDIR /abs/$NOPE/x\r\n",
            ])
            let build = daemon.docker(["build", "-t", "meta", directory])
            #expect(build.status == 0 && build.stdout.contains("Step 5/6 : HEALTHCHECK CMD false\nNote: overriding previous HEALTHCHECK: [CMD-SHELL true]\n"),
                    "\(build)")
            #expect(daemon.docker(["image", "inspect", "-f", "{{json .Config.Entrypoint}} {{.Config.WorkingDir}}", "meta"]).stdout == "null /abs//x\n")
            let history = daemon.docker(["history", "--no-trunc", "--format", "{{.CreatedBy}}", "meta"]).stdout
            #expect(history.contains("/bin/sh -c #(nop)  EXPOSE 100 80/udp 9000\n"), "\(history)")
        }
    }

    @Test func dockerignoreAndQuietAndAnotherDockerfile() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let directory = try Self.context(daemon, [
                "build.Dockerfile": "FROM busybox\nCOPY . /ctx/\nRUN find /ctx -type f | sort\n",
                ".dockerignore": "*.log\nsecret/\n!keep.log\n",
                "a.txt": "a", "debug.log": "x", "keep.log": "k", "secret/key": "s",
            ])
            let build = daemon.docker(["build", "-f", directory + "/build.Dockerfile", directory])
            #expect(build.status == 0, "\(build)")
            #expect(build.stdout.contains("/ctx/a.txt\n/ctx/build.Dockerfile\n/ctx/keep.log\n"), "\(build)")
            #expect(!build.stdout.contains("debug.log") && !build.stdout.contains("secret"), "\(build)")
            // A Dockerfile from outside the context: the CLI adds it under a hidden name, which
            // stays out of the context.
            let outside = try Self.context(daemon, ["Dockerfile.out": "FROM busybox\nCOPY . /ctx/\nRUN ls -A /ctx\n"])
            // (--compress: the CLI gzips that context.)
            let other = daemon.docker(["build", "--compress", "-f", outside + "/Dockerfile.out", directory])
            #expect(other.status == 0, "\(other)")
            #expect(other.stdout.contains("\n.dockerignore\na.txt\nbuild.Dockerfile\nkeep.log\nRemoving"), "\(other)")
            // -q prints the image ID only.
            let quiet = daemon.docker(["build", "-q", "-f", directory + "/build.Dockerfile", directory])
            #expect(quiet.status == 0 && quiet.stdout.hasPrefix("sha256:") && quiet.stdout.count == 72, "\(quiet)")
            let id = daemon.docker(["image", "inspect", "-f", "{{.Id}}", String(quiet.stdout.dropLast())])
            #expect(id.stdout == quiet.stdout, "\(id)")
        }
    }
}
