/// A Docker/OCI image configuration (the JSON whose sha256 is the image ID), as far as Berth
/// reads it. Unknown fields are kept in the stored bytes, which are never re-encoded.
public struct ImageConfig: Codable, Sendable, Equatable {
    public struct Config: Codable, Sendable, Equatable {
        public var Hostname: String?
        public var Domainname: String?
        public var User: String?
        public var Env: [String]?
        public var Cmd: [String]?
        public var Entrypoint: [String]?
        public var WorkingDir: String?
        public var Labels: [String: String]?
        public var ExposedPorts: [String: EmptyObject]?
        public var Volumes: [String: EmptyObject]?
        public var StopSignal: String?
        public var OnBuild: [String]?
        public var Healthcheck: HealthConfig?
        /// SHELL of a Dockerfile: what the shell forms of later builds run through.
        public var Shell: [String]?
        public init() {}
    }

    public struct RootFS: Codable, Sendable, Equatable {
        public var type: String
        public var diff_ids: [String]
        public init(type: String = "layers", diff_ids: [String]) {
            self.type = type
            self.diff_ids = diff_ids
        }
    }

    public struct History: Codable, Sendable, Equatable {
        public var created: String?
        public var created_by: String?
        public var comment: String?
        public var author: String?
        public var empty_layer: Bool?
        public init(created: String? = nil, created_by: String? = nil, comment: String? = nil,
                    author: String? = nil, empty_layer: Bool? = nil) {
            self.created = created
            self.created_by = created_by
            self.comment = comment
            self.author = author
            self.empty_layer = empty_layer
        }
    }

    public var architecture: String?
    public var variant: String?
    public var os: String?
    public var created: String?
    public var author: String?
    public var comment: String?
    public var docker_version: String?
    public var config: Config?
    /// The container an old-style build or `docker commit` made the image from, and its
    /// config; API clients below 1.45 see them.
    public var container: String?
    public var container_config: Config?
    public var rootfs: RootFS
    public var history: [History]?

    public init(architecture: String?, os: String?, created: String?, config: Config?, rootfs: RootFS,
                history: [History]?, comment: String? = nil) {
        self.architecture = architecture
        self.os = os
        self.created = created
        self.config = config
        self.rootfs = rootfs
        self.history = history
        self.comment = comment
    }
}

/// `{}` in JSON (ExposedPorts and Volumes map to empty objects).
public struct EmptyObject: Codable, Sendable, Equatable {
    public init() {}
}

/// One entry of a docker-archive's manifest.json.
public struct ArchiveManifestEntry: Codable, Sendable {
    public var Config: String
    public var RepoTags: [String]?
    public var Layers: [String]
    public init(Config: String, RepoTags: [String]?, Layers: [String]) {
        self.Config = Config
        self.RepoTags = RepoTags
        self.Layers = Layers
    }
}

/// An OCI content descriptor (what `docker save` writes into its manifests and index).
public struct OCIDescriptor: Codable, Sendable {
    public var mediaType: String
    public var digest: String
    public var size: Int64
    public var annotations: [String: String]?

    public init(mediaType: String, digest: String, size: Int64, annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
    }
}

/// An OCI image manifest, schema 2.
public struct OCIManifest: Codable, Sendable {
    public var schemaVersion = 2
    public var mediaType = "application/vnd.oci.image.manifest.v1+json"
    public var config: OCIDescriptor
    public var layers: [OCIDescriptor]

    public init(config: OCIDescriptor, layers: [OCIDescriptor]) {
        self.config = config
        self.layers = layers
    }
}

/// An OCI image index, schema 2.
public struct OCIIndex: Codable, Sendable {
    public var schemaVersion = 2
    public var mediaType = "application/vnd.oci.image.index.v1+json"
    public var manifests: [OCIDescriptor]

    public init(manifests: [OCIDescriptor]) {
        self.manifests = manifests
    }
}
