/// A path resolved one component at a time, as the kernel walks one: "." is skipped, ".."
/// climbs the resolved part (never above its top), and a symlink's target takes the link's
/// place in what remains (an absolute one from the top). The caller looks at each component
/// (in a root, on the host, through layers) and says whether it is a link; this keeps the
/// bookkeeping that every such resolver shares.
public struct PathWalk {
    /// The components resolved so far.
    public private(set) var resolved: [String] = []
    /// How many links were followed (each caller has its limit).
    public private(set) var links = 0
    /// What is still to walk, next first: a stack, its next component last.
    private var pending: [String]

    public init(_ path: String) {
        pending = path.split(separator: "/").reversed().map(String.init)
    }

    /// What remains after the current component, in order (as given: "." and ".." too).
    public var remaining: [String] { pending.reversed() }

    /// The next component to look at; nil once the whole path is walked.
    public mutating func next() -> String? {
        while let component = pending.popLast() {
            if component == "." { continue }
            if component == ".." {
                _ = resolved.popLast()
                continue
            }
            return component
        }
        return nil
    }

    /// The component looked at is not a link: it is resolved.
    public mutating func accept(_ component: String) {
        resolved.append(component)
    }

    /// The component looked at is a link to `target`, walked in its place.
    public mutating func follow(_ target: String) {
        links += 1
        if target.hasPrefix("/") { resolved = [] }
        pending.append(contentsOf: target.split(separator: "/").reversed().map(String.init))
    }
}
