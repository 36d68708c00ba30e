import BerthOCI
import FoundationEssentials

/// A manifest as a registry serves it: an image manifest (config and layers, OCI or docker
/// schema2) or a list of them by platform (OCI index, docker manifest list).
struct RegistryManifest: Decodable {
    struct Platform: Decodable {
        var os: String?
        var architecture: String?
        var variant: String?
    }
    struct Descriptor: Decodable {
        var mediaType: String?
        var digest: String
        var size: Int64
        var platform: Platform?

        /// The id the progress lines show: the blob's digest, 12 hex digits.
        var shortID: String { String(digest.dropFirst(7).prefix(12)) }
    }
    var schemaVersion: Int?
    var mediaType: String?
    var config: Descriptor?
    var layers: [Descriptor]?
    /// A list's entries (`manifests`).
    var entries: [Descriptor]?

    enum CodingKeys: String, CodingKey {
        case schemaVersion, mediaType, config, layers
        case entries = "manifests"
    }

    static func decode(_ data: Data, mediaType: String) throws -> RegistryManifest {
        let manifest: RegistryManifest
        do {
            manifest = try JSONDecoder().decode(RegistryManifest.self, from: data)
        } catch {
            throw BerthError.invalidArgument("unsupported manifest format: \(mediaType)")
        }
        guard manifest.schemaVersion == 2 else {
            throw BerthError.invalidArgument("unsupported manifest format: schema version \(manifest.schemaVersion ?? 0) (\(mediaType))")
        }
        for descriptor in (manifest.layers ?? []) + (manifest.entries ?? []) + (manifest.config.map { [$0] } ?? []) {
            guard descriptor.digest.hasPrefix("sha256:"), descriptor.digest.count == 71,
                  descriptor.digest.dropFirst(7).allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
                throw BerthError.invalidArgument("invalid digest \(descriptor.digest) in the manifest")
            }
        }
        return manifest
    }
}
