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
            guard try images.topLayer(record.Image) != nil else { return [] }
            let directories = try Self.overlayDirectories(id, image: record.Image, images: images)
            return try OverlayChanges.changes(upper: directories.upper, lowers: directories.lowers)
        }
    }

    /// The container's writable layer and its image's layers (topmost first). For diff and commit.
    static func overlayDirectories(_ id: String, image: String, images: ImageStore) throws -> (upper: String, lowers: [String]) {
        guard let parent = try images.topLayer(image) else {
            throw BerthError.internalError("the image of container \(id) has no layers")
        }
        let options = try images.snapshotter.mount(key: id, parent: parent).options ?? []
        let lowers = options.first { $0.hasPrefix("lowerdir=") }.map { $0.dropFirst("lowerdir=".count).split(separator: ":").map(String.init) } ?? []
        let upper = options.first { $0.hasPrefix("upperdir=") }.map { String($0.dropFirst("upperdir=".count)) } ?? ""
        return (upper, lowers)
    }
}
