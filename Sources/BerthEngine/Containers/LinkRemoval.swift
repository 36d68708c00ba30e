import BerthOCI
import FoundationEssentials

extension ContainerService {
    /// `docker rm --link parent/alias`: the parent forgets the legacy link (its HostConfig.Links,
    /// and, running, the alias's /etc/hosts lines), as dockerd does. A name without a parent is
    /// the container's own, which cannot go this way.
    public func removeLink(_ name: String) throws {
        let full = name.hasPrefix("/") ? name : "/" + name
        let slash = full.lastIndex(of: "/")!
        let parentName = String(full[..<slash])
        let alias = String(full[full.index(after: slash)...])
        guard !parentName.isEmpty else {
            _ = try resolve(name)
            throw BerthError.internalError("Conflict, cannot remove the default link name of the container")
        }
        // dockerd finds the link by its name ("parent/alias"), as it finds a container.
        guard let parentID = try? resolve(parentName), let links = entries[parentID]?.hostConfig.Links,
              let index = links.firstIndex(where: { Self.linkAlias($0) == alias }) else {
            throw BerthError.notFound("No such container: \(name)")
        }
        entries[parentID]!.hostConfig.Links!.remove(at: index)
        try persistHostConfig(parentID)
        stateVersion += 1
        let record = entries[parentID]!.record
        if record.State.Running, !record.HostsPath.isEmpty, let data = FileManager.default.contents(atPath: record.HostsPath) {
            let text = String(decoding: data, as: UTF8.self)
            let updated = LinkedHosts.removing(from: text, alias: alias)
            if updated != text { BindMountedFile.rewrite(record.HostsPath, with: updated) }
        }
    }
}
