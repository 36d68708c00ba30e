import BerthOCI
import BerthRuntime
import CSystemShims
import FoundationEssentials
import Glibc

/// Starts a container's berth-shim: detached in its own session, so it outlives berthd, and
/// waits for its word on the ready pipe: `listening` once its socket takes connections (before
/// the runtime creates), then `ok PID` when the runtime's create is done, or `error MESSAGE`.
struct ShimLauncher: Sendable {
    let shimPath: String
    let runtimePath: String
    let runtimeRoot: String

    struct Options: Sendable {
        var id: String
        var bundle: String
        var tty: Bool
        var stdin: Bool
        var stdinOnce: Bool
        var logDriver: String
        var logPath: String
        var logMaxSize: Int64
        var logMaxFiles: Int
        var logCompress = false
        var containerName: String
        /// The image as the container names it (IMAGE_NAME of journald entries).
        var imageName: String
        /// The `tag` log option, rendered (journald's CONTAINER_TAG and SYSLOG_IDENTIFIER).
        var logTag: String?
        /// Fields journald entries carry besides the shim's own (the log attributes).
        var logFields: [String: String] = [:]
        /// A remote driver's settings (syslog, fluentd, gelf), as the shim's flags.
        var remoteLogArguments: [String] = []
        /// A remote driver's local cache (json-file records), read back for `docker logs`.
        var logCache: Bool = false
    }

    /// How the shim's log driver failures begin (see SyslogLog.startFailure in the shim).
    static let logDriverFailure = "failed to initialize logging driver: "

    /// Blocks until the shim is ready; returns the container init's pid. `whenListening` runs
    /// on this thread as soon as the shim's socket takes connections.
    func launch(_ options: Options, whenListening: () -> Void = {}) throws -> Int32 {
        var arguments = [shimPath, "--id", options.id, "--bundle", options.bundle, "--state", options.bundle,
                         "--runtime", runtimePath, "--runtime-root", runtimeRoot,
                         "--log-driver", options.logDriver, "--container-name", options.containerName, "--detach"]
        if options.tty { arguments.append("--tty") }
        if options.stdin { arguments.append("--stdin") }
        if options.stdinOnce { arguments.append("--stdin-once") }
        if options.logDriver == "json-file" || options.logDriver == "local" || options.logCache {
            arguments += ["--log-path", options.logPath, "--log-max-size", String(options.logMaxSize),
                          "--log-max-file", String(options.logMaxFiles)]
            if options.logCompress { arguments.append("--log-compress") }
        }
        if options.logDriver == "journald" {
            arguments += ["--image-name", options.imageName]
            if let tag = options.logTag { arguments += ["--log-tag", tag] }
            for (name, value) in options.logFields.sorted(by: { $0.key < $1.key }) {
                arguments += ["--log-field", name + "=" + value]
            }
        }
        arguments += options.remoteLogArguments
        var ready: [Int32] = [0, 0]
        guard pipe(&ready) == 0 else { throw BerthError.internalError("pipe: \(String(cString: strerror(errno)))") }
        // Our ends must not leak into other children spawned meanwhile.
        _ = fcntl(ready[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ready[1], F_SETFD, FD_CLOEXEC)
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        let log = open(options.bundle + "/shim.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        defer {
            close(ready[0])
            if null >= 0 { close(null) }
            if log >= 0 { close(log) }
        }
        let fdMap: [Int32] = [null, 0, null, 1, log >= 0 ? log : null, 2, ready[1], 3]
        let environment = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        let pid = withCStrings(arguments) { argv in
            withCStrings(environment) { envp in
                berth_spawn_detached(shimPath, argv, envp, fdMap, Int32(fdMap.count / 2))
            }
        }
        close(ready[1])
        guard pid > 0 else { throw BerthError.internalError("cannot start \(shimPath): \(String(cString: strerror(errno)))") }
        let answer = Self.readAnswer(ready[0], whenListening: whenListening)
        if answer.hasPrefix("ok "), let initPid = Int32(answer.dropFirst(3)) { return initPid }
        if answer.hasPrefix("error ") {
            let message = String(answer.dropFirst(6))
            // The log driver's own failure is dockerd's, not the runtime's: passed on as it is.
            if message.hasPrefix(Self.logDriverFailure) { throw BerthError.internalError(message) }
            throw ShimRefused(message: message)
        }
        let shimLog = readTextFile(options.bundle + "/shim.log") ?? ""  // mostly empty: see readTextFile
        throw BerthError.internalError("the container's shim exited before it was ready" + (shimLog.isEmpty ? "" : ": " + shimLog))
    }

    /// The ready pipe's last word, read to its end; a leading `listening` line is taken out
    /// and reported as it comes.
    static func readAnswer(_ fd: Int32, whenListening: () -> Void) -> String {
        let listening = Array("listening\n".utf8)
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 512)
        var listeningSeen = false
        while true {
            let count = read(fd, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            received += chunk[0..<count]
            if !listeningSeen && received.starts(with: listening) {
                listeningSeen = true
                received.removeFirst(listening.count)
                whenListening()
            }
        }
        return String(decoding: received, as: UTF8.self).trimmed()
    }
}
