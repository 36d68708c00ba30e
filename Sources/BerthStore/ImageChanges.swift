import BerthOCI
import FoundationEssentials
import Glibc

/// Values of Dockerfile instructions as dockerd reads them, shared by the builder and the
/// `--change` instructions of `docker commit` / `docker import`: JSON arrays, WORKDIR paths,
/// EXPOSE port specs.
public enum ImageChanges {
    public static func jsonArray(_ text: String) -> [String]? {
        guard text.hasPrefix("[") else { return nil }
        return try? JSONDecoder().decode([String].self, from: Data(text.utf8))
    }

    /// A relative WORKDIR continues from the one before (from / when there is none).
    public static func workingDirectory(_ path: String, from current: String) -> String {
        if path.hasPrefix("/") { return cleanPath(path) }
        return cleanPath((current.isEmpty ? "/" : current) + "/" + path)
    }

    static func cleanPath(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// "80", "80/udp", "8000-8002/tcp" → "80/tcp" ... (dockerd's nat.ParsePortSpecs wording).
    public static func exposedPorts(_ spec: String) throws -> [String] {
        let parts = spec.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let proto = parts.count == 2 ? parts[1].lowercased() : "tcp"
        guard ["tcp", "udp", "sctp"].contains(proto) else { throw BerthError.invalidArgument("Invalid proto: \(parts[1])") }
        let bounds = parts[0].split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard let low = UInt16(bounds[0]), let high = bounds.count == 2 ? UInt16(bounds[1]) : low, low <= high else {
            throw BerthError.invalidArgument("Invalid containerPort: \(parts[0])")
        }
        return (low...high).map { "\($0)/\(proto)" }
    }
}
