// Docker's `mount.Mount` (`--mount type=bind,...`), in HostConfig.Mounts.

public struct ContainerMount: Codable, Sendable, Equatable {
    public var `Type`: String?
    public var Source: String?
    public var Target: String?
    public var ReadOnly: Bool?
    public var Consistency: String?
    public var BindOptions: BindOptions?
    public var VolumeOptions: VolumeOptions?
    public var ImageOptions: ImageOptions?
    public var TmpfsOptions: TmpfsOptions?

    public init(Type: String? = nil, Source: String? = nil, Target: String? = nil, ReadOnly: Bool? = nil) {
        self.`Type` = `Type`
        self.Source = Source
        self.Target = Target
        self.ReadOnly = ReadOnly
    }

    enum CodingKeys: String, CodingKey {
        case `Type`, Source, Target, ReadOnly, Consistency, BindOptions, VolumeOptions, ImageOptions, TmpfsOptions
    }

    /// As dockerd writes it back: ReadOnly only when true and Consistency only when set
    /// (docker-py sends `"ReadOnly": false` with every mount).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(self.`Type`, forKey: .Type)
        try c.encodeIfPresent(self.Source, forKey: .Source)
        try c.encodeIfPresent(self.Target, forKey: .Target)
        if ReadOnly == true { try c.encode(true, forKey: .ReadOnly) }
        if let consistency = self.Consistency, !consistency.isEmpty { try c.encode(consistency, forKey: .Consistency) }
        try c.encodeIfPresent(self.BindOptions, forKey: .BindOptions)
        try c.encodeIfPresent(self.VolumeOptions, forKey: .VolumeOptions)
        try c.encodeIfPresent(self.ImageOptions, forKey: .ImageOptions)
        try c.encodeIfPresent(self.TmpfsOptions, forKey: .TmpfsOptions)
    }

    /// A bind's propagation: the one asked for, else rprivate as dockerd defaults it.
    var bindPropagation: String {
        self.BindOptions?.Propagation.flatMap { $0.isEmpty ? nil : $0 } ?? "rprivate"
    }

    public struct BindOptions: Codable, Sendable, Equatable {
        public var Propagation: String?
        public var NonRecursive: Bool?
        public var CreateMountpoint: Bool?
        public var ReadOnlyNonRecursive: Bool?
        public var ReadOnlyForceRecursive: Bool?
        public init(Propagation: String? = nil, NonRecursive: Bool? = nil) {
            self.Propagation = Propagation
            self.NonRecursive = NonRecursive
        }
    }

    public struct VolumeOptions: Codable, Sendable, Equatable {
        public struct Driver: Codable, Sendable, Equatable {
            public var Name: String?
            public var Options: [String: String]?
        }
        public var NoCopy: Bool?
        public var Labels: [String: String]?
        public var DriverConfig: Driver?
        public var Subpath: String?
        public init() {}
    }

    public struct ImageOptions: Codable, Sendable, Equatable {
        public var Subpath: String?
    }

    public struct TmpfsOptions: Codable, Sendable, Equatable {
        public var SizeBytes: Int64?
        public var Mode: UInt32?
        public var Options: [[String]]?
        public init(SizeBytes: Int64? = nil, Mode: UInt32? = nil) {
            self.SizeBytes = SizeBytes
            self.Mode = Mode
        }
    }
}
