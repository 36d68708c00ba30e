import BerthOCI
import BerthStore
import FoundationEssentials

/// GET /distribution/{name}/json (`docker manifest inspect`'s and `docker buildx`'s look at a
/// remote image): the manifest a tag or digest names on its registry, as a descriptor, and
/// the platforms it serves — a list's entries, or a schema2 image's config — as dockerd
/// answers it (an OCI image manifest gives no platforms there either).
extension Engine {
    public struct DistributionInspect: Encodable, Sendable {
        public struct RemoteDescriptor: Encodable, Sendable {
            var mediaType: String
            var digest: String
            var size: Int
        }
        public struct RemotePlatform: Encodable, Sendable {
            var architecture: String
            var os: String
            var osVersion: String?
            var osFeatures: [String]?
            var variant: String?

            enum CodingKeys: String, CodingKey {
                case architecture, os, variant
                case osVersion = "os.version"
                case osFeatures = "os.features"
            }

            public func encode(to encoder: Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(architecture, forKey: .architecture)
                try container.encode(os, forKey: .os)
                if let osVersion, !osVersion.isEmpty { try container.encode(osVersion, forKey: .osVersion) }
                if let osFeatures, !osFeatures.isEmpty { try container.encode(osFeatures, forKey: .osFeatures) }
                if let variant, !variant.isEmpty { try container.encode(variant, forKey: .variant) }
            }
        }
        var Descriptor: RemoteDescriptor
        var Platforms: [RemotePlatform]?

        enum CodingKeys: String, CodingKey { case Descriptor, Platforms }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(Descriptor, forKey: .Descriptor)
            // Go writes a nil slice as null.
            if let Platforms { try container.encode(Platforms, forKey: .Platforms) } else { try container.encodeNil(forKey: .Platforms) }
        }
    }

    public func distributionInspect(_ name: String, registryAuth: String?) throws -> DistributionInspect {
        let bare = name.hasPrefix("sha256:") ? String(name.dropFirst(7)) : name
        if bare.count == 64, bare.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) {
            throw BerthError.internalError("no manifest found for full image ID")
        }
        let reference = try ImageReference.parse(name)
        let client = RegistryClient(reference: reference, credentials: RegistryCredentials.decode(registryAuth),
                                    insecureRegistries: settings.insecureRegistries)
        try client.ping()
        let (data, mediaType, digest) = try client.manifest(reference.digest ?? reference.tag ?? "latest")
        let manifest = try RegistryManifest.decode(data, mediaType: mediaType)
        var inspect = DistributionInspect(Descriptor: .init(mediaType: mediaType, digest: digest, size: data.count), Platforms: nil)
        struct PlatformFields: Decodable {
            var os: String?
            var architecture: String?
            var variant: String?
            var osVersion: String?
            var osFeatures: [String]?
            enum CodingKeys: String, CodingKey {
                case os, architecture, variant
                case osVersion = "os.version"
                case osFeatures = "os.features"
            }
        }
        if let entries = manifest.entries {
            // Each entry's platform as the list states it (os.version and features too).
            struct List: Decodable {
                struct Entry: Decodable { var platform: PlatformFields? }
                var manifests: [Entry]
            }
            let list = (try? JSONDecoder().decode(List.self, from: data))?.manifests ?? []
            inspect.Platforms = zip(entries, list).map { _, entry in
                .init(architecture: entry.platform?.architecture ?? "", os: entry.platform?.os ?? "", osVersion: entry.platform?.osVersion,
                      osFeatures: entry.platform?.osFeatures, variant: entry.platform?.variant)
            }
        } else if mediaType == Self.schema2Manifest, let config = manifest.config {
            var bytes = Data()
            try? client.blob(config.digest) { chunk in
                guard bytes.count + chunk.count <= RegistryHTTP.keptBodyLimit else { throw BerthError.internalError("config too large") }
                bytes.append(contentsOf: chunk)
            }
            if let platform = try? JSONDecoder().decode(PlatformFields.self, from: bytes), platform.os != nil || platform.architecture != nil {
                inspect.Platforms = [.init(architecture: platform.architecture ?? "", os: platform.os ?? "", osVersion: platform.osVersion,
                                           osFeatures: platform.osFeatures, variant: platform.variant)]
            }
        }
        return inspect
    }
}
