import BerthOCI
import FoundationEssentials

/// `docker commit` on the store's side: the container's image plus one new layer, the
/// container's upper directory written as a layer tar.
extension ImageStore {
    /// `makeConfig` gets the parent image's config and the new layer's diff ID and returns the
    /// new image's config JSON (its digest is the image ID). `including` selects the upper
    /// directory's entries that belong in the layer (see `LayerDiff`).
    public func commit(parent: String, upperDirectory: String, including: Set<String>?, reference: ImageReference?,
                       makeConfig: (_ parent: ImageConfig, _ diffID: String) throws -> Data) throws -> String {
        let parentRecord = try resolve(parent)
        let parentConfig = try decodeConfig(parentRecord.id)
        return try creatingImage {
            // An uncompressed layer: its digest is its diff ID.
            let layer = try content.write(intoFileDescriptor: { fd in
                try LayerDiff.write(upperDirectory: upperDirectory, to: fd, including: including)
            }).digest
            return try addImage(config: makeConfig(parentConfig, layer), layers: parentRecord.layers + [layer], parent: parentRecord.id,
                                reference: reference)
        }
    }
}

extension ImageReference {
    /// The `repo` and `tag` query parameters of commit and import as dockerd reads them: no
    /// repository means no reference (the tag is ignored); a missing tag is `latest`.
    public static func repositoryTag(_ repository: String?, _ tag: String?) throws -> ImageReference? {
        guard let repository, !repository.isEmpty else { return nil }
        var reference = try parse(repository, defaultTag: false)
        guard reference.digest == nil else { throw BerthError.invalidArgument("cannot import digest reference") }
        if let tag, !tag.isEmpty {
            guard isValidTag(tag) else { throw BerthError.invalidArgument("invalid tag format") }
            reference.tag = tag
        }
        if reference.tag == nil { reference.tag = "latest" }
        return reference
    }
}
