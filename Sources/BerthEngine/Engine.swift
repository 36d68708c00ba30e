import BerthOCI

/// The daemon's domain services. This first part holds the host facts; images, containers,
/// networks and volumes join it as they are built (their API routes answer 501 until then).
public final class Engine: Sendable {
    public let system: SystemInfo

    public init(system: SystemInfo) {
        self.system = system
    }
}
