import Foundation
import Testing

/// docker pull (and run's pull of a missing image) from a registry on 127.0.0.1, through the
/// stock CLI: output and exit codes as with dockerd, the image usable, digests recorded.
@Suite(.enabled(if: Harness.isRoot, "berthd runs as root"))
struct PullTests {
    static let indexDigest = "sha256:1950f83391a94580f5f86bed2502c70ad53a554676d1de9debc28500aa3123ba"
    static let layer = "cdaec313afeb"

    @Test func pullFromAnOCIIndexThenRunThenUpToDate() throws {
        let registry = try TestRegistry()
        let daemon = try TestDaemon()
        let name = registry.name("busybox")
        let pull = daemon.docker(["pull", name])
        #expect(pull.status == 0, "\(pull.stderr)")
        #expect(pull.stdout == """
            Using default tag: latest
            latest: Pulling from busybox
            \(Self.layer): Pulling fs layer
            \(Self.layer): Verifying Checksum
            \(Self.layer): Download complete
            \(Self.layer): Pull complete
            Digest: \(Self.indexDigest)
            Status: Downloaded newer image for \(name):latest
            \(name):latest

            """)
        #expect(daemon.docker(["run", "--rm", name, "echo", "pulled"]).stdout == "pulled\n")
        #expect(daemon.docker(["inspect", "-f", "{{.RepoDigests}} {{.RepoTags}} {{.Id}}", name]).stdout
                == "[\(name)@\(Self.indexDigest)] [\(name):latest] \(ImagesTests.imageID)\n")
        #expect(daemon.docker(["images", "--digests", "--format", "{{.Repository}} {{.Tag}} {{.Digest}}"]).stdout
                == "\(name) latest \(Self.indexDigest)\n")
        let again = daemon.docker(["pull", name])
        #expect(again.status == 0)
        #expect(again.stdout == """
            Using default tag: latest
            latest: Pulling from busybox
            Digest: \(Self.indexDigest)
            Status: Image is up to date for \(name):latest
            \(name):latest

            """)
        // rmi of the last tag takes the digest along, as dockerd untags it.
        let remove = daemon.docker(["rmi", name])
        #expect(remove.stdout.hasPrefix("Untagged: \(name):latest\nUntagged: \(name)@\(Self.indexDigest)\nDeleted: "), "\(remove.stdout)")
    }

    @Test func progressStreamAndPullEvent() throws {
        let registry = try TestRegistry()
        let daemon = try TestDaemon()
        let name = registry.name("other")
        let since = Int(Date().timeIntervalSince1970)
        let pull = daemon.curl(["-X", "POST", "http://berth/v1.41/images/create?fromImage=\(name)&tag=latest"])
        let lines = pull.stdout.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.first == #"{"status":"Pulling from other","id":"latest"}"#)
        // The layer is served gzipped here: its id is the compressed blob's digest.
        let layer = lines[1].components(separatedBy: "\"id\":\"").last?.prefix(12) ?? ""
        #expect(lines[1] == #"{"status":"Pulling fs layer","progressDetail":{},"id":"\#(layer)"}"#)
        #expect(lines.contains { $0.hasPrefix(#"{"status":"Downloading","progressDetail":{"current":"#) && $0.contains(#""progress":"["#) })
        #expect(lines.contains(#"{"status":"Download complete","progressDetail":{},"id":"\#(layer)"}"#))
        #expect(lines.contains { $0.hasPrefix(#"{"status":"Extracting","progressDetail":{"current":"#) })
        #expect(lines.contains(#"{"status":"Pull complete","progressDetail":{},"id":"\#(layer)"}"#))
        #expect(lines.last == #"{"status":"Status: Downloaded newer image for \#(name):latest"}"#)
        #expect(lines[lines.count - 2].hasPrefix(#"{"status":"Digest: sha256:"#))
        let events = daemon.docker(["events", "--since", String(since), "--until", String(Int(Date().timeIntervalSince1970) + 1),
                                    "--filter", "event=pull", "--format", "{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}"])
        #expect(events.stdout == "image pull \(name):latest \(name)\n", "\(events.stderr)")
    }

    @Test func aSecondImageWithTheSameLayerSaysAlreadyExists() throws {
        let registry = try TestRegistry()
        let daemon = try TestDaemon()
        #expect(daemon.docker(["pull", "-q", registry.name("other")]).status == 0)
        let pull = daemon.docker(["pull", registry.name("labelled")])
        #expect(pull.status == 0, "\(pull.stderr)")
        let lines = pull.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 6, "\(pull.stdout)")
        #expect(lines[2].hasSuffix(": Already exists"))
        #expect(lines[4] == "Status: Downloaded newer image for \(registry.name("labelled")):latest")
        #expect(!registry.requests.contains("/v2/labelled/blobs/sha256:c3"), "the layer was fetched again")
    }

    @Test func pullByDigestAndFromADockerManifestList() throws {
        let registry = try TestRegistry()
        let daemon = try TestDaemon()
        let name = registry.name("docker/busybox")
        let byTag = daemon.docker(["pull", name + ":latest"])
        #expect(byTag.status == 0, "\(byTag.stderr)")
        #expect(byTag.stdout.hasPrefix("latest: Pulling from docker/busybox\n"))
        let digest = daemon.docker(["inspect", "-f", "{{index .RepoDigests 0}}", name]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(digest.hasPrefix(name + "@sha256:"))
        #expect(daemon.docker(["rmi", name]).status == 0)
        let byDigest = daemon.docker(["pull", digest])
        #expect(byDigest.status == 0, "\(byDigest.stderr)")
        #expect(byDigest.stdout.hasPrefix("\(digest): Pulling from docker/busybox\n"), "\(byDigest.stdout)")
        #expect(byDigest.stdout.hasSuffix("Status: Downloaded newer image for \(digest)\n\(digest)\n"))
        #expect(daemon.docker(["run", "--rm", digest, "true"]).status == 0)
    }

    @Test func allTagsPullsEveryTagOfTheRepository() throws {
        let registry = try TestRegistry()
        let daemon = try TestDaemon()
        let name = registry.name("busybox")
        let pull = daemon.docker(["pull", "--all-tags", name])
        #expect(pull.status == 0, "\(pull.stderr)")
        #expect(pull.stdout == """
            latest: Pulling from busybox
            \(Self.layer): Pulling fs layer
            \(Self.layer): Verifying Checksum
            \(Self.layer): Download complete
            \(Self.layer): Pull complete
            Digest: \(Self.indexDigest)
            stable: Pulling from busybox
            Digest: \(Self.indexDigest)
            Status: Downloaded newer image for \(name)
            \(name)

            """)
        #expect(daemon.docker(["images", "--format", "{{.Tag}}", name]).stdout.split(separator: "\n").sorted() == ["latest", "stable"])
        let again = daemon.docker(["pull", "--all-tags", name])
        #expect(again.stdout.hasSuffix("Status: Image is up to date for \(name)\n\(name)\n"), "\(again.stdout)")
    }

    @Test func aLoopbackRegistryOnHTTPSWithASelfSignedCertificate() throws {
        // Insecure (loopback): HTTPS is tried first, its certificate not checked, as dockerd does.
        let registry = try TestRegistry(["--tls", "--token-anonymous"])
        let daemon = try TestDaemon()
        let pull = daemon.docker(["pull", registry.name("busybox")])
        #expect(pull.status == 0, "\(pull.stderr)")
        #expect(pull.stdout.hasSuffix("Status: Downloaded newer image for \(registry.name("busybox")):latest\n\(registry.name("busybox")):latest\n"))
        #expect(registry.requests.contains("GET /token?"))
    }

    @Test func aClientThatGoesAwayStopsThePull() throws {
        let registry = try TestRegistry(["--slow"])
        let daemon = try TestDaemon()
        // The layer takes about three seconds; the client leaves after one.
        let cut = daemon.curl(["-m", "1", "-X", "POST", "http://berth/v1.41/images/create?fromImage=\(registry.name("busybox"))&tag=latest"])
        #expect(cut.status != 0)
        var stopped = false
        for _ in 0..<100 where !stopped {
            stopped = registry.requests.contains("layer transfer cut")
            if !stopped { usleep(50_000) }
        }
        #expect(stopped, "\(registry.requests)")
        #expect(!registry.requests.contains("layer sent whole"))
        #expect(daemon.docker(["images", "-q"]).stdout.isEmpty)
        usleep(200_000)
        let blobs = (try? FileManager.default.contentsOfDirectory(atPath: daemon.directory + "/data/image/content/blobs/sha256")) ?? []
        #expect(blobs.isEmpty, "\(blobs)")
    }

    @Test func aZstdCompressedLayer() throws {
        let registry = try TestRegistry()
        let daemon = try TestDaemon()
        let pull = daemon.docker(["pull", registry.name("zstd")])
        #expect(pull.status == 0, "\(pull.stderr)")
        #expect(pull.stdout.contains(": Pull complete\n"), "\(pull.stdout)")
        // The same image as the others: the layer's uncompressed content matched its diff ID.
        #expect(daemon.docker(["inspect", "-f", "{{.Id}}", registry.name("zstd")]).stdout == ImagesTests.imageID + "\n")
        #expect(daemon.docker(["run", "--rm", registry.name("zstd"), "cat", "/etc/group"]).stdout.hasPrefix("root:x:0:"))
    }

    @Test func unknownRepositoryTagPlatformAndRegistryErrors() throws {
        let registry = try TestRegistry()
        let daemon = try TestDaemon()
        let repository = daemon.docker(["pull", registry.name("nope")])
        #expect(repository.status == 1)
        #expect(repository.stderr == "Error response from daemon: repository \(registry.name("nope")) not found: name unknown: repository name not known to registry\n")
        let tag = daemon.docker(["pull", registry.name("busybox:nope")])
        #expect(tag.status == 1)
        #expect(tag.stderr == "Error response from daemon: manifest for \(registry.name("busybox:nope")) not found: manifest unknown: manifest unknown\n")
        let platform = daemon.curl(["-X", "POST", "http://berth/v1.41/images/create?fromImage=\(registry.name("busybox"))&tag=latest&platform=linux/arm64"])
        #expect(platform.stdout == #"{"status":"Pulling from busybox","id":"latest"}"# + "\r\n"
                + #"{"errorDetail":{"message":"no matching manifest for linux/arm64 in the manifest list entries"},"error":"no matching manifest for linux/arm64 in the manifest list entries"}"# + "\r\n")
        let closed = Harness.freePort()
        let refused = daemon.docker(["pull", "127.0.0.1:\(closed)/x"])
        #expect(refused.status == 1)
        #expect(refused.stderr == "Error response from daemon: Get \"http://127.0.0.1:\(closed)/v2/\": dial tcp 127.0.0.1:\(closed): connect: connection refused\n")
        #expect(daemon.docker(["images", "-q"]).stdout.isEmpty)
    }

    @Test func aCorruptedLayerIsRefusedAndLeavesNoImage() throws {
        let registry = try TestRegistry(["--corrupt"])
        let daemon = try TestDaemon()
        let pull = daemon.docker(["pull", registry.name("busybox")])
        #expect(pull.status == 1)
        #expect(pull.stderr.contains("filesystem layer verification failed for digest sha256:cdaec313afeb"), "\(pull.stderr)")
        #expect(daemon.docker(["images", "-q"]).stdout.isEmpty)
    }

    @Test func runPullsAMissingImageAndHonoursPullNever() throws {
        let registry = try TestRegistry()
        let daemon = try TestDaemon()
        let name = registry.name("other")
        let never = daemon.docker(["run", "--rm", "--pull", "never", name, "true"])
        #expect(never.status == 125)
        let run = daemon.docker(["run", "--rm", name, "echo", "ran"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("Unable to find image '\(name):latest' locally\nlatest: Pulling from other\n"), "\(run.stderr)")
        #expect(run.stdout == "ran\n")
        let always = daemon.docker(["run", "--rm", "--pull", "always", name, "true"])
        #expect(always.status == 0)
        #expect(always.stderr.contains("Status: Image is up to date for \(name):latest"), "\(always.stderr)")
    }

    @Test func tokenAuthenticationAnonymousAndWithCredentials() throws {
        let anonymous = try TestRegistry(["--token-anonymous"])
        let daemon = try TestDaemon()
        #expect(daemon.docker(["pull", "-q", anonymous.name("busybox")]).status == 0)
        #expect(anonymous.requests.contains("GET /token?service=test-registry&scope=repository%3Abusybox%3Apull"), "\(anonymous.requests)")
        let locked = try TestRegistry(["--token", "someone:secret"])
        let refused = daemon.curl(["-X", "POST", "http://berth/v1.41/images/create?fromImage=\(locked.name("other"))&tag=latest"])
        #expect(refused.stdout.contains("unauthorized: incorrect username or password"), "\(refused.stdout)")
        let auth = Data(#"{"username":"someone","password":"secret"}"#.utf8).base64EncodedString()
        let pull = daemon.curl(["-X", "POST", "-H", "X-Registry-Auth: " + auth,
                                "http://berth/v1.41/images/create?fromImage=\(locked.name("other"))&tag=latest"])
        #expect(pull.stdout.contains("Status: Downloaded newer image for \(locked.name("other")):latest"), "\(pull.stdout)")
    }
}
