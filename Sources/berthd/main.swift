import BerthAPI
import BerthEngine
import BerthNetwork
import BerthStore
import FoundationEssentials
import Glibc
import Logging
import NIOCore

// berthd: the Docker-compatible daemon. Reads flags and daemon.json, takes the data root's
// lock, serves the Engine API on its listeners, and stops cleanly on SIGTERM/SIGINT.

func fail(_ message: String) -> Never {
    let line = Array("berthd: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(1)
}

let options: DaemonOptions
do {
    options = try DaemonOptions.parse(Array(CommandLine.arguments.dropFirst()))
} catch let failure as DaemonOptions.Failure where failure.description == "usage" {
    print("""
        Usage: berthd [OPTIONS]

          -H, --host list          daemon socket(s) to listen on: unix://PATH, tcp://HOST:PORT, fd://
              --data-root string   root of persistent state (default "/var/lib/berth")
              --exec-root string   root of execution state (default "/run/berth")
              --config-file string daemon configuration file (default "/etc/berth/daemon.json")
          -p, --pidfile string     path of the pid file (default "/run/berth/berthd.pid")
          -G, --group string       group of the unix socket (default "docker")
          -D, --debug              debug logging
          -l, --log-level string   debug, info, warn, error, fatal (default "info")
              --live-restore       keep containers running while the daemon is down (default true)
              --log-driver string  default log driver for containers (default "json-file")
              --log-opt list       default log driver options
              --cgroup-parent string  parent cgroup for all containers (default "/berth")
              --default-shm-size bytes  default /dev/shm size for containers (default 64MiB)
              --default-ipc-mode string  default IPC mode: "private" or "shareable" (default "private")
              --default-ulimit ulimit  default ulimit for containers, name=soft[:hard] (repeatable)
              --init               run an init in each container that forwards signals and reaps processes
              --seccomp-profile string  seccomp profile: "builtin", "unconfined" or a file (default "builtin")
              --host-gateway-ip ip  what host-gateway in --add-host stands for (default: the bridge's gateway)
        """)
    exit(0)
} catch {
    fail("\(error)")
}

// The store writes `docker save` archives into pipes: a client gone away must fail that
// write with EPIPE, not kill the daemon.
signal(SIGPIPE, SIG_IGN)

LogLevel.current = options.debug ? .debug : Logger.Level(dockerName: options.logLevel)
LoggingSystem.bootstrap { label in ReloadableLogHandler(StreamLogHandler.standardError(label: label)) }
let logger = Logger(label: "berthd")

let listeners: [APIServer.Listener]
do {
    listeners = try APIServer.Listener.parse(options.hosts)
    // As sd_listen_fds(unset_environment: 1): the sockets are ours, not our children's.
    unsetenv("LISTEN_PID")
    unsetenv("LISTEN_FDS")
    unsetenv("LISTEN_FDNAMES")
    try FileManager.default.createDirectory(atPath: options.dataRoot, withIntermediateDirectories: true,
                                            attributes: [.posixPermissions: 0o711])
    // 0711: the docker group must reach the socket inside, but not list what else is there.
    try FileManager.default.createDirectory(atPath: options.execRoot, withIntermediateDirectories: true,
                                            attributes: [.posixPermissions: 0o711])
} catch {
    fail("\(error)")
}
let pidFile: PidFile
let dataRootLock: PidFile
do {
    pidFile = try PidFile(path: options.pidFile)
    // A second daemon with another pid file must still not share this data root.
    dataRootLock = try PidFile(path: options.dataRoot + "/berthd.lock")
} catch {
    fail("\(error)")
}

let images: ImageStore
do {
    images = try ImageStore(root: options.dataRoot)
} catch {
    fail("cannot open the image store in \(options.dataRoot): \(error)")
}
// berth-shim, berth-runtime and berth-init are installed beside berthd.
let binDirectory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
// Networks come up before the containers' recovery, which releases the dead ones' addresses.
let network: NetworkService
do {
    network = try NetworkService(options: NetworkSetup.options(from: options, daemonID: DaemonIdentity.load(dataRoot: options.dataRoot)), log: { [logger] in logger.warning("\($0)") })
    try await network.start()
} catch {
    fail("cannot set up networking: \(error)")
}
let containers: ContainerService
let specDefaults: DaemonSpecDefaults
do {
    specDefaults = try options.specDefaults(DaemonSpecDefaults.current())
    OpenFileLimit.raiseToHardLimit()  // after: containers keep the limits berthd was given
} catch {
    fail("\(error)")
}
do {
    containers = try ContainerService(
        dataRoot: options.dataRoot, execRoot: options.execRoot, binDirectory: binDirectory, images: images,
        settings: ContainerDefaults(host: HostFacts.current(), logDriver: options.logDriver, logOptions: options.logOptions,
                                    initPath: binDirectory + "/berth-init", cgroupParent: options.cgroupParent,
                                    specDefaults: specDefaults),
        logger: logger, network: network)
} catch {
    fail("cannot open the containers in \(options.dataRoot): \(error)")
}
await containers.recover(liveRestore: options.liveRestore)
let recovered = await containers.all()
await network.reconcile(running: Set(recovered.filter { $0.0.State.Running }.map(\.0.ID)), known: Set(recovered.map(\.0.ID)))
let engine = Engine(system: SystemInfo(dataRoot: options.dataRoot, daemonID: DaemonIdentity.load(dataRoot: options.dataRoot),
                                       loggingDriver: options.logDriver,
                                       seccompProfile: options.seccompProfileName),
                    images: images, containers: containers, settings: DaemonSettings(debug: options.debug, liveRestore: options.liveRestore,
                                                                                    insecureRegistries: options.insecureRegistries,
                                                                                    maxConcurrentDownloads: options.maxConcurrentDownloads,
                                                                                    maxConcurrentUploads: options.maxConcurrentUploads), network: network)
let spoolDirectory = options.dataRoot + "/tmp"
try? FileManager.default.removeItem(atPath: spoolDirectory)  // uploads a crash left behind
try? FileManager.default.createDirectory(atPath: spoolDirectory, withIntermediateDirectories: true)
let server = APIServer(engine: engine, logger: logger, spoolDirectory: spoolDirectory)
let channels: [Channel]
do {
    channels = try await server.start(listeners)
} catch {
    pidFile.remove()
    dataRootLock.remove()
    fail("failed to listen on \(options.hosts.joined(separator: ", ")): \(error)")
}
for case .unix(let path) in listeners {
    Listeners.secureSocket(path, group: options.group, logger: logger)
}
logger.info("API listening on \(options.hosts.joined(separator: ", "))")
SystemdNotify.ready()

let stop = SignalWaiter()
await stop.waitForTermination(reload: {
    // What can change without a restart: debug and log-level. Anything else is refused then.
    do {
        let reloaded = try DaemonOptions.parse(Array(CommandLine.arguments.dropFirst()))
        LogLevel.current = reloaded.debug ? .debug : Logger.Level(dockerName: reloaded.logLevel)
        engine.reload(from: reloaded)
        logger.info("reloaded \(reloaded.configFile): log level \(LogLevel.current)")
    } catch {
        logger.error("not reloaded: \(error)")
    }
})
logger.info("shutting down")
engine.events.close()  // event streams end now instead of holding the shutdown
for channel in channels { try? await channel.close().get() }
if !engine.settings.liveRestore {
    // Without live-restore the containers stop with the daemon, as with dockerd.
    await containers.stopAllForShutdown()
}
await containers.finishBackgroundWork()
// Bridges and rules stay while containers use them; with none left, they go.
await network.shutdown()
try? await server.shutdown()
for case .unix(let path) in listeners { unlink(path) }
pidFile.remove()
dataRootLock.remove()
exit(0)
