import BerthOCI
import BerthStore
import FoundationEssentials

extension ContainerService {
    /// `docker diff`: the container's layer against its image's.
    public func changes(_ nameOrID: String) async throws -> [OverlayChanges.Change] {
        let id = try resolve(nameOrID)
        let record = entries[id]!.record
        let images = self.images
        return try await blocking {
            guard let parent = try images.topLayer(record.Image) else { return [] }
            let options = try images.snapshotter.mount(key: id, parent: parent).options ?? []
            let lowers = options.first { $0.hasPrefix("lowerdir=") }.map { $0.dropFirst("lowerdir=".count).split(separator: ":").map(String.init) } ?? []
            let upper = options.first { $0.hasPrefix("upperdir=") }.map { String($0.dropFirst("upperdir=".count)) } ?? ""
            return try OverlayChanges.changes(upper: upper, lowers: lowers)
        }
    }
}
