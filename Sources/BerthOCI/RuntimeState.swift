// The JSON `state` prints, in the shape runc prints it (the OCI state plus runc's extras).

public struct ContainerState: Codable, Sendable, Equatable {
    public var ociVersion: String
    public var id: String
    public var pid: Int32
    public var status: String          // created, running, paused, stopped
    public var bundle: String
    public var rootfs: String
    public var created: String         // RFC 3339 with nanoseconds
    public var owner: String
    public var annotations: [String: String]?

    public init(ociVersion: String, id: String, pid: Int32, status: String, bundle: String,
                rootfs: String, created: String, owner: String = "", annotations: [String: String]? = nil) {
        self.ociVersion = ociVersion
        self.id = id
        self.pid = pid
        self.status = status
        self.bundle = bundle
        self.rootfs = rootfs
        self.created = created
        self.owner = owner
        self.annotations = annotations
    }
}
