import BerthOCI
import FoundationEssentials
import Glibc

/// dockerd's check, at start, that a bind asking for shared or slave propagation sits on a
/// host mount that can give it (its ensureShared / ensureSharedOrSlave): otherwise the
/// propagation asked for could not happen, and dockerd refuses rather than run without it.
enum MountPropagationCheck {
    static func check(source: String, propagation: String,
                      mountInfo: @autoclosure () -> String = readProcFile("/proc/self/mountinfo") ?? "") throws {
        let shared = ["shared", "rshared"].contains(propagation)
        guard shared || ["slave", "rslave"].contains(propagation) else { return }
        guard let resolvedPointer = realpath(source, nil) else { return }  // a source made at start has nothing to check yet
        let resolved = String(cString: resolvedPointer)
        free(resolvedPointer)
        guard let (mountPoint, optional) = sourceMount(of: resolved, in: mountInfo()) else { return }
        let prefixes = shared ? ["shared:"] : ["shared:", "master:"]
        guard optional.contains(where: { field in prefixes.contains { field.hasPrefix($0) } }) else {
            throw BerthError.internalError("path \(source) is mounted on \(mountPoint) but it is not a "
                + (shared ? "shared mount" : "shared or slave mount"))
        }
    }

    /// The mount point holding `path` (the longest that is a prefix of it) and its optional
    /// fields ("shared:1", "master:2").
    static func sourceMount(of path: String, in mountInfo: String) -> (String, [String])? {
        var best: (String, [String])?
        for line in mountInfo.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count > 6 else { continue }
            let mountPoint = fields[4].replacing("\\040", with: " ")
            let inside = mountPoint == "/" || path == mountPoint || path.hasPrefix(mountPoint + "/")
            guard inside, mountPoint.count >= (best?.0.count ?? 0) else { continue }
            best = (mountPoint, Array(fields[6...].prefix { $0 != "-" }))
        }
        return best
    }
}
