import Foundation
import Glibc
import Testing

/// What the classic builder fetches over the network, served only on 127.0.0.1 by the test:
/// `ADD <URL>` (through the stock CLI) and remote contexts (`remote=` on POST /build, as
/// docker-py sends them; the stock CLI fetches those itself): tarballs, a plain Dockerfile,
/// git repositories over dumb HTTP and git://, with dockerd's output and error texts.
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct BuildRemoteTests {
    /// The served files: `files/` (a text file, context tarballs, a plain Dockerfile, a bare
    /// repository with branches master and other and tag v1, one with it as a submodule).
    final class Fixtures {
        let directory: String
        let files: TestFileServer
        let git: TestGitDaemon

        init(_ daemon: TestDaemon) throws {
            directory = daemon.directory + "/" + Harness.uniqueID("served")
            let setup = """
                set -e
                mkdir -p "$1/files" "$1/ctx/sub" && cd "$1"
                printf 'hello from url\\n' > files/hello.txt && touch -d @1700000000 files/hello.txt
                printf 'FROM busybox\\nCOPY a.txt /a.txt\\nRUN cat /a.txt\\n' > ctx/Dockerfile
                echo A > ctx/a.txt
                printf 'FROM busybox\\nCOPY . /s\\nRUN ls -A /s\\n' > ctx/sub/Dockerfile
                tar -C ctx -czf files/ctx.tar.gz . && tar -C ctx -cf files/ctx.tar . && tar -C ctx -cJf files/ctx.tar.xz .
                tar -C ctx -cjf files/ctx.tar.bz2 . && cp files/ctx.tar.gz files/arch.tar.gz
                printf 'FROM busybox\\nRUN echo plain-dockerfile\\n' > files/Dockerfile.txt
                commit() { repo=$1; shift; git -C "$repo" -c user.email=t@t -c user.name=t commit -q "$@"; }
                git init -q -b master work && cp -r ctx/. work/ && git -C work add -A && commit work -m one
                git -C work tag v1 && git -C work checkout -qb other && echo B > work/a.txt && commit work -am two
                git -C work checkout -q master
                git clone -q --bare work files/repo.git && git -C files/repo.git update-server-info
                """
            let made = Harness.run("/bin/sh", ["-c", setup, "sh", directory])
            guard made.status == 0 else { throw TestFailure("fixtures: \(made.stderr)") }
            files = try TestFileServer(directory: directory + "/files")
            git = try TestGitDaemon(directory: directory + "/files")
            // The submodule is fetched over git:// (shallow, as dockerd asks for it).
            let submodule = """
                set -e
                cd "$1" && git init -q -b master withsub
                printf 'FROM busybox\\nCOPY mod/a.txt /from-submodule\\nRUN cat /from-submodule\\n' > withsub/Dockerfile
                git -C withsub add Dockerfile && git -C withsub submodule add -q "$2" mod
                git -C withsub -c user.email=t@t -c user.name=t commit -qm sub
                git clone -q --bare withsub files/withsub.git
                """
            let added = Harness.run("/bin/sh", ["-c", submodule, "sh", directory, git.url("/repo.git")])
            guard added.status == 0 else { throw TestFailure("submodule fixture: \(added.stderr)") }
        }
    }

    /// POST /build with `remote` (and other query options): the HTTP status and the body.
    static func remoteBuild(_ daemon: TestDaemon, _ remote: String, _ options: [String: String] = [:]) -> (status: Int, body: String) {
        var arguments = ["-X", "POST", "-G", "-w", "\n%{http_code}", "--data-urlencode", "remote=" + remote]
        for (name, value) in options.sorted(by: { $0.key < $1.key }) { arguments += ["--data-urlencode", name + "=" + value] }
        let result = daemon.curl(arguments + ["http://berth/build"])
        var lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.popLast() ?? "") ?? 0
        return (status, lines.joined(separator: "\n"))
    }

    /// An error body's message.
    static func message(_ body: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else { return nil }
        return object["message"] as? String
    }

    /// The build directories a daemon holds (none once its builds are over).
    static func buildDirectories(_ daemon: TestDaemon) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: daemon.directory + "/data")) ?? []).filter { $0.hasPrefix("build-") }
    }

    @Test func addFromAURLDownloadsTheFileAsDockerdDoes() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let served = try Fixtures(daemon)
            let dockerfile = """
                FROM busybox
                ADD \(served.files.url("/hello.txt")) /dl/
                ADD \(served.files.url("/arch.tar.gz")) /dl/
                ADD --chown=12:34 \(served.files.url("/redirect/hello.txt")) /owned.txt
                ADD \(served.files.url("/named/")) /dl/
                RUN stat -c '%n %a %u:%g %Y' /dl/hello.txt /owned.txt /dl/named.txt && stat -c '%n %a %s' /dl/arch.tar.gz && cat /dl/hello.txt
                """
            let directory = try BuildTests.context(daemon, ["Dockerfile": dockerfile])
            let build = daemon.docker(["build", "-t", "added", directory])
            #expect(build.status == 0, "\(build)")
            let size = (try? FileManager.default.attributesOfItem(atPath: served.directory + "/files/arch.tar.gz")[.size] as? Int) ?? -1
            // Mode 0600, the mtime from Last-Modified, --chown, the tarball not unpacked, a
            // redirect followed, the name from Content-Disposition.
            let lines = BuildTests.lines(build.stdout)
            #expect(lines.contains("/dl/hello.txt 600 0:0 1700000000"), "\(build)")
            #expect(lines.contains("/owned.txt 600 12:34 1700000000"), "\(build)")
            #expect(lines.contains { $0.hasPrefix("/dl/named.txt 600 0:0 ") }, "\(build)")
            #expect(lines.contains("/dl/arch.tar.gz 600 \(size)"), "\(build)")
            #expect(lines.contains("hello from url"), "\(build)")
            // The CLI shows no progress bar when it writes to no terminal: only the blank line after it.
            #expect(Array(lines.prefix(4)) == ["Step 1/6 : FROM busybox", " ---> <id>", "Step 2/6 : ADD \(served.files.url("/hello.txt")) /dl/",
                                               " ---> <id>"], "\(build)")
            #expect(build.stdout.contains("/dl/\n\n ---> "), "\(build)")
            // The API's stream has dockerd's progress message (no id, a bar) before that line.
            let small = try BuildTests.context(daemon, ["Dockerfile": "FROM busybox\nADD \(served.files.url("/hello.txt")) /x\n"])
            let raw = Harness.run("/bin/sh", ["-c", "tar -C \"$1\" -cf - . | curl -s --unix-socket \"$2\" -X POST --data-binary @- "
                + "-H 'Content-Type: application/x-tar' http://berth/build", "sh", small, daemon.socket])
            let progress = #"{"status":"Downloading","progressDetail":{"current":15,"total":15},"#
                + #""progress":"[==================================================\u003e]      15B/15B"}"#
            #expect(raw.stdout.components(separatedBy: progress).count == 2, "\(raw)")
            #expect(raw.stdout.contains(progress + "\r\n" + #"{"stream":"\n"}"#), "\(raw)")
            let history = daemon.docker(["history", "--no-trunc", "--format", "{{.CreatedBy}}", "added"])
            #expect(history.stdout.contains("/bin/sh -c #(nop) ADD --chown=12:34file:"), "\(history)")
            // A rebuild downloads again and, the content being the same, uses the cache.
            let before = served.files.requests.components(separatedBy: "GET /hello.txt").count
            let again = daemon.docker(["build", "-t", "added", directory])
            #expect(again.status == 0, "\(again)")
            #expect(again.stdout.components(separatedBy: "Using cache").count == 6, "\(again)")
            #expect(served.files.requests.components(separatedBy: "GET /hello.txt").count == before + 2)
            // A changed file misses the cache from its step on.
            try "changed\n".write(toFile: served.directory + "/files/hello.txt", atomically: true, encoding: .utf8)
            let changed = daemon.docker(["build", directory])
            #expect(changed.status == 0 && changed.stdout.components(separatedBy: "Using cache").count == 1, "\(changed)")
            #expect(changed.stdout.contains("\nchanged\n"), "\(changed)")
            #expect(Self.buildDirectories(daemon).isEmpty)
        }
    }

    @Test func addFromAURLFailsWithDockerdsErrors() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let served = try Fixtures(daemon)
            let closed = Harness.freePort()
            let cases: [(String, String)] = [
                ("ADD \(served.files.url("/missing.txt")) /x",
                 "ADD failed: failed to GET \(served.files.url("/missing.txt")) with status 404 File not found: <!DOCTYPE HTML>"),
                ("ADD http://127.0.0.1:\(closed)/x /x",
                 "ADD failed: Get \"http://127.0.0.1:\(closed)/x\": dial tcp 127.0.0.1:\(closed): connect: connection refused"),
                ("COPY \(served.files.url("/hello.txt")) /x", "COPY failed: source can't be a URL for COPY"),
                ("ADD \(served.files.url("/")) /dir/", "ADD failed: cannot determine filename for source \(served.files.url("/"))"),
                ("ADD \(served.files.url("/huge")) /x",
                 "ADD failed: failed to GET \(served.files.url("/huge")): the download is larger than the limit of 8GiB"),
            ]
            for (step, error) in cases {
                let directory = try BuildTests.context(daemon, ["Dockerfile": "FROM busybox\n\(step)\n"])
                let build = daemon.docker(["build", directory])
                #expect(build.status == 1, "\(build)")
                #expect(build.stderr.contains("\n" + error), "\(build)")
            }
            #expect(daemon.docker(["ps", "-aq"]).stdout == "")
            #expect(Self.buildDirectories(daemon).isEmpty)
        }
    }

    @Test func aRemoteContextIsATarballOrAPlainDockerfile() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let served = try Fixtures(daemon)
            for name in ["ctx.tar.gz", "ctx.tar", "ctx.tar.xz", "ctx.tar.bz2"] {
                let build = Self.remoteBuild(daemon, served.files.url("/" + name), ["t": "fromtar"])
                #expect(build.status == 200, "\(name): \(build)")
                #expect(build.body.contains(#"{"status":"\#(served.files.url("/" + name))","progressDetail":{"current":"#), "\(build)")
                #expect(build.body.contains(#""id":"Downloading context"}"#), "\(build)")
                #expect(build.body.contains("Successfully tagged fromtar:latest"), "\(name): \(build)")
                #expect(daemon.docker(["run", "--rm", "fromtar", "cat", "/a.txt"]).stdout == "A\n", "\(name)")
            }
            // -f names a Dockerfile in the context.
            let sub = Self.remoteBuild(daemon, served.files.url("/ctx.tar.gz"), ["dockerfile": "sub/Dockerfile", "t": "sub"])
            #expect(sub.body.contains("Successfully tagged sub:latest"), "\(sub)")
            #expect(daemon.docker(["run", "--rm", "sub", "cat", "/s/a.txt", "/s/sub/Dockerfile"]).stdout.hasPrefix("A\nFROM busybox\n"))
            // A text/plain answer is the Dockerfile itself.
            let plain = Self.remoteBuild(daemon, served.files.url("/Dockerfile.txt"), ["t": "plain"])
            #expect(plain.status == 200 && plain.body.contains("plain-dockerfile\\n") && plain.body.contains("Successfully tagged plain:latest"),
                    "\(plain)")
            // Once the download is said, a missing Dockerfile is an error in the stream.
            let missing = Self.remoteBuild(daemon, served.files.url("/ctx.tar.gz"), ["dockerfile": "nope"])
            #expect(missing.status == 200 && missing.body.contains(#""error":"Cannot locate specified Dockerfile: nope""#), "\(missing)")
            #expect(Self.buildDirectories(daemon).isEmpty)
        }
    }

    @Test func aRemoteGitContextIsClonedAtItsRefAndSubdirectory() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let served = try Fixtures(daemon)
            let cases: [(String, String)] = [
                (served.files.url("/repo.git"), "A"),  // the dumb HTTP protocol: master
                (served.files.url("/repo.git#other"), "B"),
                (served.files.url("/repo.git#v1"), "A"),
                (served.git.url("/repo.git#other"), "B"),  // git:// (shallow)
                (served.git.url("/withsub.git"), "A"),  // with its submodule
            ]
            for (remote, expected) in cases {
                let build = Self.remoteBuild(daemon, remote, ["t": "cloned", "nocache": "1"])
                #expect(build.status == 200 && build.body.contains("Successfully tagged cloned:latest"), "\(remote): \(build)")
                #expect(build.body.contains(#"{"stream":"\#(expected)\n"}"#), "\(remote): \(build)")
            }
            // A subdirectory is the context (with -f relative to it); the clone keeps its .git, as dockerd's.
            let sub = Self.remoteBuild(daemon, served.git.url("/repo.git#master:sub"), ["t": "gitsub"])
            #expect(sub.body.contains(#"{"stream":"Dockerfile\n"}"#), "\(sub)")
            let whole = Self.remoteBuild(daemon, served.files.url("/repo.git"), ["dockerfile": "sub/Dockerfile", "t": "whole"])
            #expect(whole.body.contains(#"{"stream":".git\n"}"#) && whole.body.contains(#"{"stream":"sub\n"}"#), "\(whole)")
            #expect(Self.buildDirectories(daemon).isEmpty)
        }
    }

    @Test func remoteContextsFailWithDockerdsErrors() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let served = try Fixtures(daemon)
            let closed = Harness.freePort()
            let missing = Self.remoteBuild(daemon, served.files.url("/nope.tar"))
            #expect(missing.status == 404, "\(missing)")
            #expect(Self.message(missing.body)?.hasPrefix("error downloading remote context \(served.files.url("/nope.tar")): failed to GET "
                + "\(served.files.url("/nope.tar")) with status 404 File not found: <!DOCTYPE HTML>") == true, "\(missing)")
            let cases: [(String, Int, (String) -> Bool)] = [
                ("http://127.0.0.1:\(closed)/c.tar", 500, {
                    $0 == "error downloading remote context http://127.0.0.1:\(closed)/c.tar: Get \"http://127.0.0.1:\(closed)/c.tar\": "
                        + "dial tcp 127.0.0.1:\(closed): connect: connection refused"
                }),
                (served.files.url("/"), 500, {
                    $0 == "error detecting content type for remote \(served.files.url("/")): unsupported Content-Type \"text/html; charset=utf-8\""
                }),
                (served.files.url("/repo.git#nosuchref"), 500, { $0 == "error fetching: fatal: couldn't find remote ref nosuchref\n: exit status 128" }),
                (served.git.url("/repo.git#master:nosuch"), 500, { $0.hasPrefix("stat ") && $0.hasSuffix("/nosuch: no such file or directory") }),
                (served.git.url("/repo.git#master:a.txt"), 500, { $0.hasPrefix("error setting git context, not a directory: ") && $0.hasSuffix("/a.txt") }),
                ("http://127.0.0.1:\(closed)/r.git", 500, { $0.hasPrefix("error fetching: fatal: unable to access 'http://127.0.0.1:\(closed)/r.git/'") }),
                (served.files.url("/repo.git#-x"), 500, { $0 == "invalid refspec: -x" }),
                ("nowhere", 500, { $0 == "remoteURL (nowhere) could not be recognized as URL" }),
                ("client-session", 400, { $0.hasPrefix("experimental session with v1 builder is no longer supported") }),
            ]
            for (remote, status, check) in cases {
                let build = Self.remoteBuild(daemon, remote)
                #expect(build.status == status, "\(remote): \(build)")
                #expect(Self.message(build.body).map(check) == true, "\(remote): \(build)")
            }
            #expect(Self.buildDirectories(daemon).isEmpty)
        }
    }

    @Test func downloadsStopWhenTheClientLeaves() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let served = try Fixtures(daemon)
            // ADD <URL> in a build whose CLI is interrupted.
            let directory = try BuildTests.context(daemon, ["Dockerfile": "FROM busybox\nADD \(served.files.url("/slow")) /slow\n"])
            let cli = try daemon.dockerInBackground(["build", directory])
            #expect(served.files.waitFor("GET /slow"))
            kill(cli.processIdentifier, SIGINT)
            cli.waitUntilExit()
            #expect(served.files.waitFor("slow: client gone"), "\(served.files.requests)")
            // A remote context whose client hangs up.
            let client = Process()
            client.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            client.arguments = ["-s", "--unix-socket", daemon.socket, "-X", "POST", "http://berth/build?remote=" + served.files.url("/slow")]
            client.standardOutput = FileHandle.nullDevice
            try client.run()
            var gone = false
            for _ in 0..<100 where !gone {
                gone = served.files.requests.components(separatedBy: "GET /slow").count == 3
                if !gone { usleep(50_000) }
            }
            #expect(gone)
            kill(client.processIdentifier, SIGKILL)
            client.waitUntilExit()
            var stopped = false
            for _ in 0..<200 where !stopped {
                stopped = served.files.requests.components(separatedBy: "slow: client gone").count == 3
                if !stopped { usleep(50_000) }
            }
            #expect(stopped, "\(served.files.requests)")
            // Nothing is left: no container, no download, no build directory.
            var left = ["?"]
            for _ in 0..<100 where !left.isEmpty {
                left = Self.buildDirectories(daemon)
                if !left.isEmpty { usleep(50_000) }
            }
            #expect(left.isEmpty)
            #expect(daemon.docker(["ps", "-aq"]).stdout == "")
        }
    }
}
