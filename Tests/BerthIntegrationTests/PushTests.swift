import Foundation
import Testing

/// docker login, push and search against the test registry on 127.0.0.1, through the stock
/// CLI: output, exit codes and errors as with dockerd; a pushed image pulls back with the
/// same ID. Every `docker login` writes to a configuration directory of the test's own
/// (`docker --config`), never to root's ~/.docker.
@Suite(.enabled(if: Harness.isRoot, "berthd runs as root"))
struct PushTests {
    /// A private CLI configuration directory, removed when the test ends.
    final class CLIConfig {
        let path = NSTemporaryDirectory() + Harness.uniqueID("berth-registry-cli")
        init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
        var file: String { (try? String(contentsOfFile: path + "/config.json", encoding: .utf8)) ?? "" }
    }

    static func loadBusybox(_ daemon: TestDaemon) {
        #expect(daemon.docker(["load", "-q", "-i", Harness.imageDir + "/busybox.tar"]).status == 0)
    }

    static var shortLayer: String { String(ImagesTests.layerID.dropFirst(7).prefix(12)) }

    @Test func loginWithATokenRegistryWrongCredentialsUnreachableAndLogout() throws {
        let registry = try TestRegistry(["--token", "someone:secret"])
        let daemon = try TestDaemon()
        let config = try CLIConfig()
        let host = "127.0.0.1:\(registry.port)"
        func login(_ args: [String], password: String) -> Harness.Result {
            Harness.run(Harness.dockerCLI, ["--config", config.path, "-H", daemon.host, "login"] + args + ["--password-stdin"], stdin: password)
        }
        let wrong = login(["-u", "someone", host], password: "guess")
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("Error response from daemon: Get \"http://\(host)/v2/\": unauthorized: incorrect username or password"), "\(wrong.stderr)")
        #expect(!config.file.contains(host))
        // The raw answer: 401, dockerd's status for refused credentials.
        let raw = daemon.curl(["-w", "\n%{http_code}", "-X", "POST", "-H", "Content-Type: application/json",
                               "-d", #"{"username":"someone","password":"guess","serveraddress":"\#(host)"}"#, "http://berth/v1.50/auth"])
        #expect(raw.stdout.hasSuffix("\n401"), "\(raw.stdout)")
        let good = daemon.curl(["-X", "POST", "-H", "Content-Type: application/json",
                                "-d", #"{"username":"someone","password":"secret","serveraddress":"http://\#(host)"}"#, "http://berth/v1.50/auth"])
        #expect(good.stdout == "{\"Status\":\"Login Succeeded\"}\n", "\(good.stdout)")
        let ok = login(["-u", "someone", host], password: "secret")
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("Login Succeeded"), "\(ok.stdout)")
        #expect(config.file.contains(host), "\(config.file)")
        #expect(registry.requests.contains("GET /token?service=test-registry&offline_token=true&client_id=docker"), "\(registry.requests)")
        // With the stored credentials a push is let in (X-Registry-Auth from the CLI).
        Self.loadBusybox(daemon)
        #expect(daemon.docker(["tag", "busybox", registry.name("mine:1")]).status == 0)
        let push = Harness.run(Harness.dockerCLI, ["--config", config.path, "-H", daemon.host, "push", registry.name("mine:1")])
        #expect(push.status == 0, "\(push.stdout) \(push.stderr)")
        #expect(registry.requests.contains("scope=repository%3Amine%3Apush%2Cpull"), "\(registry.requests)")
        let logout = Harness.run(Harness.dockerCLI, ["--config", config.path, "-H", daemon.host, "logout", host])
        #expect(logout.stdout == "Removing login credentials for \(host)\n", "\(logout.stdout) \(logout.stderr)")
        #expect(!config.file.contains(host))
        // Without credentials the token server refuses the push.
        let refused = Harness.run(Harness.dockerCLI, ["--config", config.path, "-H", daemon.host, "push", registry.name("mine:1")])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("unauthorized: incorrect username or password"), "\(refused.stderr)")
        // Nothing listens on a port just freed: dockerd's dial error.
        let closed = Harness.freePort()
        let unreachable = login(["-u", "someone", "127.0.0.1:\(closed)"], password: "secret")
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.contains("Error response from daemon: Get \"http://127.0.0.1:\(closed)/v2/\": dial tcp 127.0.0.1:\(closed): connect: connection refused"),
                "\(unreachable.stderr)")
    }

    @Test func pushThenASecondPushUploadsNothingAndTheImagePullsBackWithTheSameID() throws {
        let registry = try TestRegistry()
        let daemon = try TestDaemon()
        Self.loadBusybox(daemon)
        let name = registry.name("pushed")
        #expect(daemon.docker(["tag", "busybox", name]).status == 0)
        let push = daemon.docker(["push", name])
        #expect(push.status == 0, "\(push.stderr)")
        let lines = push.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(Array(lines.prefix(3)) == ["Using default tag: latest", "The push refers to repository [\(name)]",
                                           "\(Self.shortLayer): Preparing"], "\(push.stdout)")
        #expect(lines.contains("\(Self.shortLayer): Pushed"), "\(push.stdout)")
        let digestLine = lines.first { $0.hasPrefix("latest: digest: sha256:") } ?? ""
        #expect(digestLine.contains(" size: "), "\(push.stdout)")
        #expect(registry.requests.contains("PATCH /v2/pushed/blobs/uploads/"))
        #expect(registry.requests.contains("PUT /v2/pushed/manifests/latest"))
        let digest = String(digestLine.dropFirst("latest: digest: ".count).prefix(71))
        // The digest is recorded, as dockerd does after a push.
        #expect(daemon.docker(["inspect", "-f", "{{.RepoDigests}}", name]).stdout == "[\(name)@\(digest)]\n")
        let again = daemon.docker(["push", name])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout == """
            Using default tag: latest
            The push refers to repository [\(name)]
            \(Self.shortLayer): Preparing
            \(Self.shortLayer): Layer already exists
            \(digestLine)

            """, "\(again.stdout)")
        #expect(registry.requests.components(separatedBy: "PATCH ").count == 2, "one upload only: \(registry.requests)")
        // A second daemon pulls it back: the same image ID, runnable.
        let other = try TestDaemon()
        let pull = other.docker(["pull", name])
        #expect(pull.status == 0, "\(pull.stderr)")
        #expect(pull.stdout.contains("Digest: \(digest)"), "\(pull.stdout)")
        #expect(other.docker(["inspect", "-f", "{{.Id}}", name]).stdout == "\(ImagesTests.imageID)\n")
        #expect(other.docker(["run", "--rm", name, "echo", "round trip"]).stdout == "round trip\n")
        // And the same daemon, after rmi.
        #expect(daemon.docker(["rmi", name]).status == 0)
        #expect(daemon.docker(["pull", "-q", name]).status == 0)
        #expect(daemon.docker(["inspect", "-f", "{{.Id}}", name]).stdout == "\(ImagesTests.imageID)\n")
    }

    @Test func progressStreamAuxAndPushEvent() throws {
        let registry = try TestRegistry()
        let daemon = try TestDaemon()
        Self.loadBusybox(daemon)
        let name = registry.name("streamed")
        #expect(daemon.docker(["tag", "busybox", name + ":v1"]).status == 0)
        let since = Int(Date().timeIntervalSince1970)
        let push = daemon.curl(["-X", "POST", "-H", "X-Registry-Auth: e30=", "http://berth/v1.50/images/\(name)/push?tag=v1"])
        let lines = push.stdout.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        let id = Self.shortLayer
        #expect(lines.first == #"{"status":"The push refers to repository [\#(name)]"}"#, "\(push.stdout)")
        #expect(lines.contains(#"{"status":"Preparing","progressDetail":{},"id":"\#(id)"}"#))
        #expect(lines.contains { $0.hasPrefix(#"{"status":"Pushing","progressDetail":{"current":"#) && $0.contains(#""progress":"["#) })
        #expect(lines.contains(#"{"status":"Pushed","progressDetail":{},"id":"\#(id)"}"#))
        #expect(lines.count >= 3)
        let status = lines[lines.count - 2]
        #expect(status.hasPrefix(#"{"status":"v1: digest: sha256:"#), "\(push.stdout)")
        let last = lines.last ?? ""
        #expect(last.hasPrefix(#"{"progressDetail":{},"aux":{"Tag":"v1","Digest":"sha256:"#), "\(last)")
        // The aux names the manifest the registry stored.
        let digest = status.components(separatedBy: "digest: ").last?.prefix(71) ?? ""
        #expect(last.contains(#""Digest":"\#(digest)","Size":"#))
        #expect(registry.requests.contains("PUT /v2/streamed/manifests/v1"))
        let events = daemon.docker(["events", "--since", String(since), "--until", String(Int(Date().timeIntervalSince1970) + 1),
                                    "--filter", "event=push", "--format", "{{.Type}} {{.Action}} {{.Actor.ID}}"])
        #expect(events.stdout == "image push \(name):v1\n", "\(events.stderr)")
    }

    @Test func crossRepositoryMountAndAllTags() throws {
        let registry = try TestRegistry()
        let daemon = try TestDaemon()
        Self.loadBusybox(daemon)
        #expect(daemon.docker(["tag", "busybox", registry.name("first")]).status == 0)
        #expect(daemon.docker(["push", "-q", registry.name("first")]).status == 0)
        for tag in ["one", "two"] { #expect(daemon.docker(["tag", "busybox", registry.name("second:") + tag]).status == 0) }
        let push = daemon.docker(["push", "--all-tags", registry.name("second")])
        #expect(push.status == 0, "\(push.stderr)")
        let lines = push.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "The push refers to repository [\(registry.name("second"))]", "\(push.stdout)")
        // The layer is mounted from the repository it went to first; the second tag finds it there.
        #expect(lines.contains("\(Self.shortLayer): Mounted from first"), "\(push.stdout)")
        #expect(lines.contains("\(Self.shortLayer): Layer already exists"), "\(push.stdout)")
        #expect(lines.filter { $0.hasPrefix("one: digest: sha256:") || $0.hasPrefix("two: digest: sha256:") }.count == 2, "\(push.stdout)")
        #expect(registry.requests.contains("mounted "), "\(registry.requests)")
        #expect(registry.requests.components(separatedBy: "PATCH ").count == 2, "one upload only: \(registry.requests)")
        // A pulled gzip layer is pushed as it is: known to the registry already.
        let other = try TestDaemon()
        #expect(other.docker(["pull", "-q", registry.name("other")]).status == 0)
        #expect(other.docker(["tag", registry.name("other"), registry.name("third")]).status == 0)
        let third = other.docker(["push", registry.name("third")])
        #expect(third.status == 0, "\(third.stderr)")
        #expect(third.stdout.contains(": Mounted from other"), "\(third.stdout)")
    }

    @Test func pushErrorsInDockerdsWords() throws {
        let registry = try TestRegistry()
        let daemon = try TestDaemon()
        let missing = daemon.docker(["push", registry.name("absent:1")])
        #expect(missing.status == 1)
        #expect(missing.stdout == "The push refers to repository [\(registry.name("absent"))]\n", "\(missing.stdout)")
        #expect(missing.stderr == "An image does not exist locally with the tag: \(registry.name("absent"))\n", "\(missing.stderr)")
        Self.loadBusybox(daemon)
        #expect(daemon.docker(["tag", "busybox", registry.name("present:1")]).status == 0)
        let noTag = daemon.docker(["push", registry.name("present:2")])
        #expect(noTag.status == 1)
        #expect(noTag.stderr == "tag does not exist: \(registry.name("present:2"))\n", "\(noTag.stderr)")
        let closed = Harness.freePort()
        #expect(daemon.docker(["tag", "busybox", "127.0.0.1:\(closed)/nowhere"]).status == 0)
        let refused = daemon.docker(["push", "127.0.0.1:\(closed)/nowhere"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("Get \"http://127.0.0.1:\(closed)/v2/\": dial tcp 127.0.0.1:\(closed): connect: connection refused"), "\(refused.stderr)")
        let digest = daemon.curl(["-X", "POST", "http://berth/v1.50/images/\(registry.name("present"))@sha256:\(String(repeating: "a", count: 64))/push"])
        #expect(digest.stdout.contains("cannot push a digest reference"), "\(digest.stdout)")
    }

    @Test func distributionDescriptorAndPlatforms() throws {
        let registry = try TestRegistry()
        let daemon = try TestDaemon()
        func inspect(_ name: String) throws -> [String: Any] {
            let answer = daemon.curl(["http://berth/v1.50/distribution/\(name)/json"])
            return try JSONSerialization.jsonObject(with: Data(answer.stdout.utf8)) as? [String: Any] ?? [:]
        }
        let index = try inspect(registry.name("busybox"))
        let descriptor = index["Descriptor"] as? [String: Any] ?? [:]
        #expect(descriptor["mediaType"] as? String == "application/vnd.oci.image.index.v1+json", "\(index)")
        #expect(descriptor["digest"] as? String == PullTests.indexDigest)
        let platforms = (index["Platforms"] as? [[String: Any]] ?? []).map { "\($0["os"] ?? "")/\($0["architecture"] ?? "")" }
        #expect(platforms == ["linux/s390x", "linux/amd64"], "\(index)")
        // A schema2 image: its config names the platform.
        let single = try inspect(registry.name("other:stable"))
        #expect((single["Descriptor"] as? [String: Any])?["mediaType"] as? String == "application/vnd.docker.distribution.manifest.v2+json")
        #expect((single["Platforms"] as? [[String: Any]])?.first?["os"] as? String == "linux", "\(single)")
        // An OCI image manifest: no platforms, as dockerd answers (null).
        let oci = daemon.curl(["http://berth/v1.50/distribution/\(registry.name("zstd"))/json"])
        #expect(oci.stdout.contains("\"Platforms\":null"), "\(oci.stdout)")
        let unknown = daemon.curl(["-w", "\n%{http_code}", "http://berth/v1.50/distribution/\(registry.name("busybox:nope"))/json"])
        #expect(unknown.stdout.contains("manifest unknown") && unknown.stdout.hasSuffix("\n404"), "\(unknown.stdout)")
        let id = daemon.curl(["-w", "\n%{http_code}", "http://berth/v1.50/distribution/\(String(repeating: "a", count: 64))/json"])
        #expect(id.stdout == "{\"message\":\"no manifest found for full image ID\"}\n\n500", "\(id.stdout)")
    }
}
