import BerthOCI
import FoundationEssentials

/// What `docker build` needs of the store: an image's whole config JSON (its SHELL and
/// ONBUILD are not in `ImageConfig.Config`), the images made from one parent (the build
/// cache), and new images from a step, with a layer only when the step changed files.
extension ImageStore {
    /// The image's ID and its config JSON as stored.
    public func configJSON(_ name: String) throws -> (id: String, data: Data) {
        let record = try resolve(name)
        return (record.id, try content.read(record.id))
    }

    /// The images whose parent is `parent` (nil: images with no parent), with their configs.
    public func children(of parent: String?) -> [(id: String, data: Data)] {
        let records = lock.withLock { state.images.values.filter { $0.parent == parent } }
        return records.compactMap { record in (try? content.read(record.id)).map { (record.id, $0) } }
    }

    /// A build step's image: the parent's layers plus, when `upperDirectory` is given and
    /// `including` is not empty, one layer of those entries. `makeConfig` gets the new
    /// layer's diff ID (nil: no layer) and returns the config JSON.
    public func buildStep(parent: String?, upperDirectory: String?, including: Set<String>?,
                          makeConfig: (_ diffID: String?) throws -> Data) throws -> String {
        let parentRecord = try parent.map { try resolve($0) }
        return try creatingImage {
            var layers = parentRecord?.layers ?? []
            var diffID: String?
            if let upperDirectory, including.map({ !$0.isEmpty }) ?? true {
                let layer = try content.write(intoFileDescriptor: { fd in
                    try LayerDiff.write(upperDirectory: upperDirectory, to: fd, including: including)
                }).digest
                layers.append(layer)
                diffID = layer
            }
            return try addImage(config: makeConfig(diffID), layers: layers, parent: parentRecord?.id, reference: nil)
        }
    }

    /// The image and the images it was built or committed from, newest first (empty when
    /// `name` names no image).
    public func lineage(_ name: String) -> [String] {
        guard let record = try? resolve(name) else { return [] }
        return lock.withLock {
            var chain: [String] = []
            var current: Record? = record
            while let image = current, !chain.contains(image.id) {
                chain.append(image.id)
                current = image.parent.flatMap { state.images[$0] }
            }
            return chain
        }
    }

    /// Whether the image has a layer to make a container root from (not one built from scratch
    /// with metadata steps only).
    public func hasLayers(_ name: String) throws -> Bool {
        !(try resolve(name).layers.isEmpty)
    }
}

extension ImageStore {
    /// This machine's architecture as images name it, for images built from scratch.
    public static var hostArchitectureName: String { hostArchitecture }
}
