import BerthEngine
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The Engine API over HTTP/1.1 on the daemon's listeners (unix sockets, TCP, fds from systemd).
public final class APIServer: Sendable {
    public enum Listener: Sendable, Equatable {
        case unix(path: String)
        case tcp(host: String, port: Int)
        case descriptor(Int32)
    }

    private let group: MultiThreadedEventLoopGroup
    private let router: Router
    private let logger: Logger
    private let spoolDirectory: String
    private let inFlight = InFlightRequests()
    private let connections = OpenConnections()

    public init(engine: Engine, logger: Logger, spoolDirectory: String, threads: Int = 2) {
        var router = Router()
        SystemRoutes.register(&router, engine: engine)
        ImageRoutes.register(&router, engine: engine)
        ContainerRoutes.register(&router, engine: engine)
        CommitRoutes.register(&router, engine: engine)
        BuildRoutes.register(&router, engine: engine)
        NetworkRoutes.register(&router, engine: engine)
        VolumeRoutes.register(&router, engine: engine)
        EventRoutes.register(&router, engine: engine)
        SwarmRoutes.register(&router)
        PluginRoutes.register(&router)
        NotImplementedRoutes.register(&router)
        self.router = router
        self.logger = logger
        self.spoolDirectory = spoolDirectory
        group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let trim = IdleMemoryTrim(requests: inFlight)
        let period = TimeAmount.seconds(Int64(IdleMemoryTrim.period))
        group.next().scheduleRepeatedTask(initialDelay: period, delay: period) { _ in trim.tick() }
    }

    /// Binds every listener; returns the channels so the daemon can close them on shutdown.
    public func start(_ listeners: [Listener]) async throws -> [Channel] {
        let router = self.router
        let logger = self.logger
        let spoolDirectory = self.spoolDirectory
        let inFlight = self.inFlight
        let connections = self.connections
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // A hijacked stream's client half-closes when its stdin ends; its output must go on.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                connections.track(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(HTTPHandler(router: router, logger: logger, spoolDirectory: spoolDirectory, inFlight: inFlight))
                }
            }
        var channels: [Channel] = []
        for listener in listeners {
            switch listener {
            case .unix(let path):
                channels.append(try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get())
            case .tcp(let host, let port):
                channels.append(try await bootstrap.bind(host: host, port: port).get())
            case .descriptor(let fd):
                channels.append(try await bootstrap.withBoundSocket(fd).get())
            }
        }
        return channels
    }

    /// Call after closing the listeners: lets requests in progress finish (up to `timeout`,
    /// dockerd's 5 s), then closes every connection.
    public func shutdown(timeout: Duration = .seconds(5)) async throws {
        let unfinished = await inFlight.drain(timeout: timeout)
        if unfinished > 0 {
            logger.warning("shutdown: cutting off \(unfinished) unfinished request(s)")
            // Their connections close, which cancels their streams; the event loops stay
            // until those have stopped writing (a write to a loop that is gone is an error).
            connections.closeAll()
            let left = await inFlight.drain(timeout: .seconds(2))
            if left > 0 { logger.warning("shutdown: \(left) request(s) still going after their connections closed") }
        }
        try await group.shutdownGracefully()
    }
}
