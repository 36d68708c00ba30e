import BerthOCI
import Testing

/// PathWalk, the bookkeeping of the path resolvers (the runtime's secure join, ScopedPath,
/// the layered lookup, a volume subpath's walk), over a made-up table of links.
struct PathWalkTests {
    func resolve(_ path: String, links: [String: String]) -> (String, Int) {
        var walk = PathWalk(path)
        while let component = walk.next() {
            let candidate = "/" + (walk.resolved + [component]).joined(separator: "/")
            if walk.links < 255, let target = links[candidate] {
                walk.follow(target)
            } else {
                walk.accept(component)
            }
        }
        return ("/" + walk.resolved.joined(separator: "/"), walk.links)
    }

    @Test func dotsNeverClimbAboveTheTop() {
        #expect(resolve("/a/./b/../../../c//d/.", links: [:]) == ("/c/d", 0))
        #expect(resolve("../..", links: [:]) == ("/", 0))
    }

    @Test func linksTakeTheirPlaceRelativeOrFromTheTop() {
        let links = ["/etc": "private/etc", "/private/etc/x": "/usr/lib/y", "/usr/lib": "../opt/lib"]
        #expect(resolve("/etc/x/z", links: links) == ("/opt/lib/y/z", 3))
        #expect(resolve("/etc/../etc/x", links: links) == ("/opt/lib/y", 3))
    }

    @Test func aLoopStopsAtTheLimit() {
        let (_, followed) = resolve("/a", links: ["/a": "/a"])
        #expect(followed == 255)
    }

    @Test func whatRemainsIsInOrder() {
        var walk = PathWalk("/a/b/./c")
        #expect(walk.next() == "a")
        #expect(walk.remaining == ["b", ".", "c"])
        walk.follow("x/y")
        #expect(walk.remaining == ["x", "y", "b", ".", "c"])
        #expect(walk.next() == "x")
    }
}
