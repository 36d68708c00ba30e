import BerthNetwork
import BerthOCI
import BerthStore
import Dispatch

/// The daemon's domain services: host facts, images and containers; networks and volumes
/// join as they are built (their API routes answer 501 until then).
public final class Engine: Sendable {
    public let system: SystemInfo
    public let images: ImageStore
    public let containers: ContainerService
    public let settings: DaemonSettings
    public let network: NetworkService?
    /// The local volumes (kept by the container service, which mounts them).
    public var volumes: VolumeStore { containers.volumes }

    public init(system: SystemInfo, images: ImageStore, containers: ContainerService, settings: DaemonSettings,
                network: NetworkService? = nil) {
        self.network = network
        self.system = system
        self.images = images
        self.containers = containers
        self.settings = settings
    }

    /// Runs blocking work (disk I/O, archives) off the event loops and the task pool.
    public func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await BlockingWork.run(work)
    }
}
