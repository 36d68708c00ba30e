import Foundation
import Testing

/// docker search against the test registry's /v1/search on 127.0.0.1: the stock CLI's
/// output, the filters and limit with dockerd's validation texts.
@Suite(.enabled(if: Harness.isRoot, "berthd runs as root"))
struct SearchTests {
    @Test func searchFiltersAndLimit() throws {
        let registry = try TestRegistry()
        let daemon = try TestDaemon()
        let term = registry.name("busybox")
        let all = daemon.docker(["search", "--format", "{{.Name}} {{.StarCount}} {{.IsOfficial}}", term])
        #expect(all.status == 0, "\(all.stderr)")
        #expect(all.stdout == "busybox 3300 [OK]\ndocker/busybox 12 \n", "\(all.stdout)")
        #expect(registry.requests.contains("GET /v1/search?q=busybox&n=25"), "\(registry.requests)")
        let official = daemon.docker(["search", "--filter", "is-official=true", "--format", "{{.Name}}", term])
        #expect(official.stdout == "busybox\n", "\(official.stdout) \(official.stderr)")
        let stars = daemon.docker(["search", "--filter", "stars=5", "--format", "{{.Name}}", registry.name("")])
        #expect(stars.stdout == "busybox\ndocker/busybox\nlabelled\n", "\(stars.stdout) \(stars.stderr)")
        let limited = daemon.docker(["search", "--limit", "1", "--format", "{{.Name}}", registry.name("")])
        #expect(limited.stdout == "busybox\n")
        #expect(registry.requests.contains("GET /v1/search?q=&n=1"))
        let table = daemon.docker(["search", registry.name("zstd")])
        #expect(table.stdout.hasPrefix("NAME"), "\(table.stdout)")
        #expect(table.stdout.contains("Busybox with a zstd layer."))
        let badStars = daemon.docker(["search", "--filter", "stars=many", term])
        #expect(badStars.status == 1)
        #expect(badStars.stderr == "Error response from daemon: invalid filter 'stars=many': strconv.Atoi: parsing \"many\": invalid syntax\n",
                "\(badStars.stderr)")
        let badOfficial = daemon.docker(["search", "--filter", "is-official=maybe", term])
        #expect(badOfficial.stderr == "Error response from daemon: invalid filter 'is-official=[maybe]'\n", "\(badOfficial.stderr)")
        let unknown = daemon.docker(["search", "--filter", "color=red", term])
        #expect(unknown.stderr == "Error response from daemon: invalid filter 'color'\n", "\(unknown.stderr)")
        let tooMany = daemon.docker(["search", "--limit", "101", term])
        #expect(tooMany.status == 1)
        #expect(tooMany.stderr == "Error response from daemon: limit 101 is outside the range of [1, 100]\n", "\(tooMany.stderr)")
        let scheme = daemon.curl(["http://berth/v1.50/images/search?term=http://\(term)"])
        #expect(scheme.stdout.contains("should not have a scheme"), "\(scheme.stdout)")
        let word = daemon.curl(["http://berth/v1.50/images/search?term=\(term)&limit=x"])
        #expect(word.stdout == "{\"message\":\"invalid limit specified: strconv.Atoi: parsing \\\"x\\\": invalid syntax\"}\n", "\(word.stdout)")
        // The raw answer in dockerd's shape and order (Go's SearchResult).
        let raw = daemon.curl(["http://berth/v1.50/images/search?term=\(registry.name("zstd"))"])
        #expect(raw.stdout == #"[{"star_count":1,"is_official":false,"name":"zstd","is_automated":false,"description":"Busybox with a zstd layer."}]"# + "\n", "\(raw.stdout)")
    }
}
