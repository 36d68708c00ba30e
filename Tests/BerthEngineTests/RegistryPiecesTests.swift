import FoundationEssentials
import Testing
@testable import BerthEngine

/// The pure parts of pulling: the auth challenge, credentials, platform choice and the
/// progress messages as dockerd writes them.
struct RegistryPiecesTests {
    @Test func bearerChallenge() {
        let challenge = AuthChallenge.parse(#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#)
        #expect(challenge == AuthChallenge(scheme: "bearer", parameters: [
            "realm": "https://auth.example/token", "service": "registry.example", "scope": "repository:a/b:pull,push"]))
        #expect(AuthChallenge.parse(#"Basic realm="x \"y\"""#) == AuthChallenge(scheme: "basic", parameters: ["realm": #"x "y""#]))
        #expect(AuthChallenge.parse("Bearer realm=plain, service=s")?.parameters == ["realm": "plain", "service": "s"])
        #expect(AuthChallenge.parse("") == nil)
    }

    @Test func registryAuthHeader() {
        let basic = Data(#"{"username":"u","password":"p:w","serveraddress":"r"}"#.utf8).base64EncodedString()
        #expect(RegistryCredentials.decode(basic).basic == "u:p:w")
        // The CLI's base64url, without padding, and the `auth` form.
        let auth = Data("me:pw".utf8).base64EncodedString()
        let urlSafe = Data(#"{"auth":"\#(auth)"}"#.utf8).base64EncodedString()
            .replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        #expect(RegistryCredentials.decode(urlSafe).basic == "me:pw")
        #expect(RegistryCredentials.decode("e30=").isAnonymous)
        #expect(RegistryCredentials.decode(nil).isAnonymous)
        #expect(RegistryCredentials.decode("not base64!").isAnonymous)
    }

    @Test func platformChoice() {
        let host = PlatformMatch.parse(nil, hostArchitecture: "amd64")
        #expect(host == PlatformMatch(os: "linux", architecture: "amd64"))
        #expect(host?.matches(os: "linux", architecture: "amd64", variant: nil) == true)
        #expect(host?.matches(os: "linux", architecture: "arm64", variant: nil) == false)
        let arm = PlatformMatch.parse("linux/aarch64/v8", hostArchitecture: "amd64")
        #expect(arm == PlatformMatch(os: "linux", architecture: "arm64"))
        #expect(arm?.matches(os: "linux", architecture: "arm64", variant: "v8") == true)
        let armv7 = PlatformMatch.parse("linux/arm/v7", hostArchitecture: "amd64")
        #expect(armv7?.matches(os: "linux", architecture: "arm", variant: "v6") == false)
        #expect(armv7?.description == "linux/arm/v7")
        #expect(PlatformMatch.parse("linux//", hostArchitecture: "amd64") == nil)
    }

    @Test func progressMessagesAsDockerdWritesThem() {
        #expect(PullMessage.header("Pulling from library/busybox", id: "latest").json
                == #"{"status":"Pulling from library/busybox","id":"latest"}"#)
        #expect(PullMessage.layer("Pulling fs layer", id: "c310043e0421").json
                == #"{"status":"Pulling fs layer","progressDetail":{},"id":"c310043e0421"}"#)
        // Seen from dockerd 20.10 for the same sizes.
        #expect(PullMessage.progress("Downloading", id: "c310043e0421", current: 36564, total: 1031657).json
                == #"{"status":"Downloading","progressDetail":{"current":36564,"total":1031657},"progress":"[=\u003e                                                 ]  36.56kB/1.032MB","id":"c310043e0421"}"#)
        #expect(ProgressBar.text(current: 98304, total: 1031657) == "[====>                                              ]   98.3kB/1.032MB")
        #expect(ProgressBar.text(current: 1031657, total: 1031657) == "[==================================================>]  1.032MB/1.032MB")
        #expect(PullMessage.line("Status: Downloaded newer image for 127.0.0.1:5000/a:latest").json
                == #"{"status":"Status: Downloaded newer image for 127.0.0.1:5000/a:latest"}"#)
        #expect(PullMessage.failure("no matching manifest").json
                == #"{"errorDetail":{"message":"no matching manifest"},"error":"no matching manifest"}"#)
    }

    @Test func pullReferenceFromTheCLIsQuery() throws {
        let tagged = try Engine.pullReference(fromImage: "127.0.0.1:5000/busybox", tag: "1.36")
        #expect(tagged.reference.familiar == "127.0.0.1:5000/busybox:1.36" && !tagged.allTags)
        let digest = "sha256:" + String(repeating: "a", count: 64)
        #expect(try Engine.pullReference(fromImage: "busybox", tag: digest).reference.familiar == "busybox@" + digest)
        #expect(try Engine.pullReference(fromImage: "busybox", tag: "").allTags)
        #expect(try Engine.pullReference(fromImage: "busybox:musl", tag: nil).reference.tag == "musl")
        #expect(RegistryClient.isInsecure("127.0.0.1:5000") && RegistryClient.isInsecure("[::1]:5000") && RegistryClient.isInsecure("localhost"))
        #expect(!RegistryClient.isInsecure("registry.example:5000") && !RegistryClient.isInsecure("10.0.0.1:5000"))
        // daemon.json's insecure-registries: a CIDR or the host[:port] itself.
        #expect(RegistryClient.isInsecure("10.1.2.3:5000", listed: ["10.0.0.0/8"]))
        #expect(!RegistryClient.isInsecure("11.1.2.3:5000", listed: ["10.0.0.0/8"]))
        #expect(RegistryClient.isInsecure("registry.example:5000", listed: ["registry.example:5000"]))
        #expect(!RegistryClient.isInsecure("registry.example:5001", listed: ["registry.example:5000"]))
    }
}
