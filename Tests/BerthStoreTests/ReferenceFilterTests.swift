import Testing
@testable import BerthStore

/// `docker images <pattern>`: which of an image's names the reference filter keeps.
struct ReferenceFilterTests {
    @Test func familiarAndFullFormsWithAndWithoutTheTag() {
        let filter = ReferenceFilter(["a"])
        #expect(filter.matches("a:latest"))
        #expect(!filter.matches("b:latest"))
        #expect(ReferenceFilter(["a:1"]).matches("a:1"))
        #expect(!ReferenceFilter(["a:1"]).matches("a:2"))
        #expect(ReferenceFilter(["docker.io/library/a"]).matches("a:latest"))
        #expect(ReferenceFilter(["docker.io/library/a:latest"]).matches("a:latest"))
        #expect(ReferenceFilter(["localhost:5000/app"]).matches("localhost:5000/app:v2"))
    }

    @Test func aStarStopsAtASlash() {
        #expect(ReferenceFilter(["*"]).matches("busybox:latest"))
        #expect(!ReferenceFilter(["*"]).matches("user/app:1"))
        #expect(ReferenceFilter(["*/*"]).matches("user/app:1"))
        #expect(ReferenceFilter(["busy*:1.*"]).matches("busybox:1.36"))
    }

    @Test func digestNamesMatchByRepository() {
        let pinned = "busybox@sha256:" + String(repeating: "a", count: 64)
        #expect(ReferenceFilter(["busybox"]).matches(pinned))
        #expect(!ReferenceFilter(["other"]).matches(pinned))
    }
}
