import BerthOCI
import FoundationEssentials
import Glibc

/// dockerd's local cache of a remote driver's records ("dual logging"), which `docker logs`
/// reads: on unless cache-disabled is true; rotated as the local driver's files are.
enum LogCache {
    static let options: Set<String> = ["cache-disabled", "cache-max-size", "cache-max-file", "cache-compress"]

    /// Whether the container keeps a cache; dockerd's error for a bad cache-disabled.
    static func isEnabled(_ options: [String: String]) throws(BerthError) -> Bool {
        guard let text = options["cache-disabled"] else { return true }
        guard let disabled = SecurityOptions.parseGoBool(text) else {
            throw BerthError.invalidArgument("invalid value for option cache-disabled: \(text)")
        }
        return !disabled
    }

    /// The cache's rotation: the local driver's, from the cache-* options.
    static func rotation(_ options: [String: String], defaults: ContainerDefaults) throws(BerthError) -> LogSettings {
        var local: [String: String] = [:]
        for key in ["max-size", "max-file", "compress"] { local[key] = options["cache-" + key] }
        do {
            return try LogSettings(LogConfig(Type: "local", Config: local), defaults: defaults)
        } catch {
            throw (error as? BerthError) ?? BerthError.internalError("\(error)")
        }
    }
}

extension ContainerPaths {
    /// A remote driver's local cache, where dockerd keeps it.
    func logCacheFile(_ id: String) -> String { directory(id) + "/container-cached.log" }
}
