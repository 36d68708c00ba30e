import BerthOCI
import BerthStore
import FoundationEssentials

/// The classic builder's cache: an image made earlier from the same parent whose container
/// config (the step's command, and the environment, labels, ports ... it ran with) is the
/// same as this step's. COPY and ADD carry their sources' checksum in the command.
enum BuildCache {
    /// `allowed`: with --cache-from, the images a hit must be among (their lineage).
    static func lookup(images: ImageStore, parent: String?, probe: ContainerConfig, allowed: Set<String>? = nil) throws -> String? {
        let wanted = try normalized(probe)
        for child in images.children(of: parent) where allowed?.contains(child.id) ?? true {
            guard let stored = try? JSONDecoder().decode(Stored.self, from: child.data), let config = stored.container_config,
                  let key = try? normalized(config) else { continue }
            if key == wanted { return child.id }
        }
        return nil
    }

    struct Stored: Decodable {
        var container_config: ContainerConfig?
    }

    /// The config as JSON after a round trip, without what differs between two runs of the
    /// same step (the container's hostname, the parent's ID).
    static func normalized(_ config: ContainerConfig) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var copy = try JSONDecoder().decode(ContainerConfig.self, from: encoder.encode(config))
        copy.Hostname = nil
        copy.Image = nil
        copy.Domainname = nil
        return try encoder.encode(copy)
    }
}
