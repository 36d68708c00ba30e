import BerthOCI
import Testing
@testable import BerthStore

struct ReferenceTests {
    @Test func normalisation() throws {
        let busybox = try ImageReference.parse("busybox")
        #expect(busybox.repository == "docker.io/library/busybox")
        #expect(busybox.tag == "latest")
        #expect(busybox.familiar == "busybox:latest")
        #expect(try ImageReference.parse("user/app:1.0").familiar == "user/app:1.0")
        #expect(try ImageReference.parse("user/app").repository == "docker.io/user/app")
        let local = try ImageReference.parse("localhost:5000/app:v2")
        #expect(local.domain == "localhost:5000")
        #expect(local.familiar == "localhost:5000/app:v2")
        let digest = "sha256:" + String(repeating: "a", count: 64)
        let pinned = try ImageReference.parse("busybox@" + digest)
        #expect(pinned.tag == nil)
        #expect(pinned.digest == digest)
    }

    @Test func invalidReferencesUseDockersWording() {
        #expect(throws: BerthError.invalidArgument("invalid reference format: repository name (library/Busybox) must be lowercase")) {
            try ImageReference.parse("Busybox")
        }
        for bad in ["", "a::b", "busybox:", "busybox@sha256:xyz", "-x", "a//b", "busybox:-tag"] {
            #expect(throws: BerthError.self, "\(bad)") { try ImageReference.parse(bad) }
        }
    }

    @Test func digestsAreValidated() {
        #expect(digestHex("sha256:" + String(repeating: "0", count: 64)) != nil)
        #expect(digestHex("sha256:ABC") == nil)
        #expect(digestHex("md5:" + String(repeating: "0", count: 64)) == nil)
    }
}
