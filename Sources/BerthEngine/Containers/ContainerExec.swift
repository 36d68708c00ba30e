import BerthOCI
import BerthRuntime
import Dispatch
import FoundationEssentials
import Glibc
import NIOCore

/// `POST /containers/{id}/exec`'s body.
public struct ExecCreateRequest: Codable, Sendable {
    public var AttachStdin: Bool?
    public var AttachStdout: Bool?
    public var AttachStderr: Bool?
    public var ConsoleSize: [Int]?
    public var DetachKeys: String?
    public var Tty: Bool?
    public var Env: [String]?
    public var Cmd: [String]?
    public var Privileged: Bool?
    public var User: String?
    public var WorkingDir: String?
}

/// An exec instance, as `GET /exec/{id}/json` shows it.
public struct ExecRecord: Encodable, Sendable {
    public struct ProcessConfig: Encodable, Sendable {
        public var tty: Bool
        public var entrypoint: String
        public var arguments: [String]
        public var privileged: Bool
        public var user: String

        enum CodingKeys: String, CodingKey { case tty, entrypoint, arguments, privileged, user }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(tty, forKey: .tty)
            try container.encode(entrypoint, forKey: .entrypoint)
            try container.encode(arguments, forKey: .arguments)
            try container.encode(privileged, forKey: .privileged)
            if !user.isEmpty { try container.encode(user, forKey: .user) }  // omitted when empty, as dockerd
        }
    }
    public var CanRemove = false
    public var ContainerID: String
    public var DetachKeys = ""
    public var ExitCode: Int32? = nil
    public var ID: String
    public var OpenStderr: Bool
    public var OpenStdin: Bool
    public var OpenStdout: Bool
    public var ProcessConfig: ProcessConfig
    public var Running = false
    public var Pid: Int32 = 0
    var env: [String]
    var workingDir: String
    var started = false
    /// When it ended (uptime nanoseconds), for the clean-up of old records.
    var endedUptime: UInt64?
    /// When it was created (uptime nanoseconds): one never started is cleaned up from then.
    var createdUptime: UInt64 = DispatchTime.now().uptimeNanoseconds

    /// How long an ended exec stays inspectable: dockerd's clean-up drops it within 5 to 10
    /// minutes. Without one, a container exec'd into every few seconds would grow for ever.
    static let endedLifetime: UInt64 = 5 * 60 * 1_000_000_000

    /// Ended long ago, or created long ago and never started (a client that created it and
    /// left): either way nobody will start or read it any more.
    func isExpired(now: UInt64) -> Bool {
        guard let since = endedUptime ?? (started ? nil : createdUptime), now >= since else { return false }
        return now - since > Self.endedLifetime
    }

    /// The fields of dockerd's `GET /exec/{id}/json`, ExitCode null until the end.
    enum CodingKeys: String, CodingKey {
        case ID, Running, ExitCode, ProcessConfig, OpenStdin, OpenStderr, OpenStdout, CanRemove, ContainerID, DetachKeys, Pid
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ID, forKey: .ID)
        try container.encode(Running, forKey: .Running)
        try container.encode(ExitCode, forKey: .ExitCode)
        try container.encode(self.ProcessConfig, forKey: .ProcessConfig)
        try container.encode(OpenStdin, forKey: .OpenStdin)
        try container.encode(OpenStderr, forKey: .OpenStderr)
        try container.encode(OpenStdout, forKey: .OpenStdout)
        try container.encode(CanRemove, forKey: .CanRemove)
        try container.encode(ContainerID, forKey: .ContainerID)
        try container.encode(DetachKeys, forKey: .DetachKeys)
        try container.encode(Pid, forKey: .Pid)
    }
}

extension ContainerService {
    public func createExec(_ nameOrID: String, _ request: ExecCreateRequest) async throws -> String {
        let id = try resolve(nameOrID)
        // An exec that comes during the start is made once the process runs.
        let state = try await stateAfterStartInProgress(id, nameOrID)
        guard let command = request.Cmd, !command.isEmpty else { throw BerthError.invalidArgument("No exec command specified") }
        if state.Restarting { throw BerthError.containerRestarting(id) }
        guard state.Running else { throw BerthError.conflict("Container \(id) is not running") }
        guard !state.Paused else { throw BerthError.conflict("Container \(nameOrID) is paused, unpause the container before exec") }
        if let keys = request.DetachKeys, !keys.isEmpty { _ = try DetachKeyScanner.parse(keys) }
        forgetOldExecs()
        let execID = ContainerIdentity.newID()
        execs[execID] = ExecRecord(
            ContainerID: id, DetachKeys: request.DetachKeys ?? "", ID: execID,
            OpenStderr: request.AttachStderr ?? false, OpenStdin: request.AttachStdin ?? false,
            OpenStdout: request.AttachStdout ?? false,
            ProcessConfig: .init(tty: request.Tty ?? false, entrypoint: command[0], arguments: Array(command.dropFirst()),
                                 privileged: request.Privileged ?? false, user: request.User ?? ""),
            env: request.Env ?? [], workingDir: request.WorkingDir ?? "")
        entries[id]!.execs.insert(execID)
        emitExec("exec_create", execID: execID)
        return execID
    }

    public func inspectExec(_ execID: String) throws -> ExecRecord {
        guard let exec = execs[execID] else { throw BerthError.notFound("No such exec instance: \(execID)") }
        return exec
    }

    /// Checks before the hijack; returns whether the stream is raw (a TTY's) rather than
    /// multiplexed: the start's `Tty` when it says, else the exec's.
    public func checkExecStart(_ execID: String, tty: Bool?) throws -> Bool {
        guard let exec = execs[execID] else { throw BerthError.notFound("No such exec instance: \(execID)") }
        // dockerd's order: the container's state first, then the exec's own.
        let state = entries[exec.ContainerID]?.record.State
        if state?.Restarting == true { throw BerthError.containerRestarting(exec.ContainerID) }
        guard state?.Running == true else { throw BerthError.conflict("Container \(exec.ContainerID) is not running") }
        if state?.Paused == true { throw BerthError.conflict("Container \(exec.ContainerID) is paused, unpause the container before exec") }
        // dockerd 28's words (20.10 had "Error: Exec command ..."): running, or ended.
        if exec.started {
            throw BerthError.conflict("exec command \(execID) " + (exec.ExitCode == nil ? "is already running" : "has already run"))
        }
        return tty ?? exec.ProcessConfig.tty
    }

    /// Runs the exec through the container's shim. With a client, pumps its stream and
    /// returns when it ends; detached (nil client), returns once it has started. As with
    /// dockerd, the process has a terminal if the exec was made with one; the start's `Tty`
    /// says only how the stream is framed (raw, or multiplexed as stdout and stderr).
    public func startExec(_ execID: String, tty requestedTTY: Bool?, client: StreamClient?) async throws {
        let raw = try checkExecStart(execID, tty: requestedTTY)
        var exec = execs[execID]!
        let tty = exec.ProcessConfig.tty
        exec.started = true
        exec.Running = true
        execs[execID] = exec
        emitExec("exec_start", execID: execID)
        let id = exec.ContainerID
        let plan: [UInt8]
        do {
            plan = try execPlan(exec, tty: tty)
        } catch {
            // As the runtime's own refusals: the reason in the stream, 126 as the exit code.
            let message = (error as? BerthError)?.message ?? "\(error)"
            await recordExecFrame(execID, ShimFrame(kind: .execFailed, payload: ByteBuffer(string: message)),
                                  client: client, raw: raw, wrapped: false)
            markExecEnded(execID, code: nil)
            if client == nil { throw BerthError.internalError(message) }
            return
        }
        let request = "exec \(execID) \(tty ? 1 : 0) \(exec.OpenStdin ? 1 : 0) \(plan.count)"
        let keys = exec.DetachKeys.isEmpty ? DetachKeyScanner.defaultKeys : try DetachKeyScanner.parse(exec.DetachKeys)
        var streams = StreamPump(tty: raw, closeStdinAtEnd: true, detachKeys: tty ? keys : [], forwardStdin: exec.OpenStdin)
        streams.stdout = exec.OpenStdout
        streams.stderr = exec.OpenStderr
        let pump = streams
        let socket = paths.shimSocket(id)
        let record: @Sendable (ShimFrame) async -> Void = { frame in
            await self.recordExecFrame(execID, frame, client: client, raw: raw, wrapped: true)
        }
        if let client {
            do {
                try await ShimClient(socketPath: socket).withConnection(request, payload: plan) { _, frames, shim in
                    try await pump.run(client: client, frames: frames, shim: shim, onRecord: record)
                }
            } catch {
                // The shim refused the exec (or is gone): why, in the stream, as a runtime failure.
                await recordExecFrame(execID, ShimFrame(kind: .execFailed, payload: ByteBuffer(string: "\(error)")),
                                      client: client, raw: raw, wrapped: true)
                markExecEnded(execID, code: 126)
            }
            markExecEnded(execID, code: nil)
            return
        }
        // Detached: answers once the process runs (the shim's frame 18), or with why it could not.
        let (settled, settle) = AsyncStream<DetachedStart>.makeStream()
        Task {
            do {
                try await ShimClient(socketPath: socket).withConnection(request, payload: plan) { _, frames, shim in
                    shim.finish()
                    while let frame = try await frames.next() {
                        await record(frame)
                        switch frame.kind {
                        case .execStarted: settle.yield(.started)
                        case .execFailed: settle.yield(.failed(String(buffer: frame.payload)))
                        default: break
                        }
                    }
                }
            } catch {
                settle.yield(.failed("\(error)"))
                self.markExecEnded(execID, code: 126)
            }
            self.markExecEnded(execID, code: nil)
            settle.finish()
        }
        var outcome = DetachedStart.started
        for await first in settled { outcome = first; break }
        if case .failed(let text) = outcome {
            throw BerthError.internalError(RuntimeFailureText.exec(text))
        }
    }

    /// The exec's process for the shim: the container's own with the exec's command,
    /// environment, user, directory and terminal (the template is kept from the container's
    /// start, or read from the bundle and the runtime's state after a daemon restart).
    func execPlan(_ exec: ExecRecord, tty: Bool) throws -> [UInt8] {
        let id = exec.ContainerID
        var template: ExecTemplate
        if let cached = entries[id]?.execTemplate {
            template = cached
        } else {
            template = try ExecTemplate(bundle: paths.shimDirectory(id) + "/config.json")
        }
        if template.join == nil {
            do {
                template.join = try ContainerStore(root: paths.runtimeRoot).joinFacts(id)
            } catch {
                throw BerthError.internalError("cannot read the runtime's state of container \(id): \(error)")
            }
        }
        entries[id]?.execTemplate = template
        let process = try ExecProcess.make(exec, tty: tty, template: template, lastCapability: settings.host.lastCapability)
        var capabilities = template.capabilities
        if exec.ProcessConfig.privileged {
            capabilities = try CapabilitySets(process.capabilities)
        }
        return try ExecPlan.encode(process, capabilities: capabilities, join: template.join!)
    }

    func recordExecPid(_ execID: String, _ pid: Int32) {
        execs[execID]?.Pid = pid
    }

    private enum DetachedStart: Sendable {
        case started
        case failed(String)
    }

    /// The shim's records of an exec: started (its pid), ended, or could not start.
    private func recordExecFrame(_ execID: String, _ frame: ShimFrame, client: StreamClient?, raw: Bool, wrapped: Bool) async {
        let text = String(buffer: frame.payload)
        switch frame.kind {
        case .stdout, .stderr:
            return
        case .execStarted:
            if let pid = Int32(text) { execs[execID]?.Pid = pid }
            return
        case .execExit:
            // "<status> <pid>"
            let fields = text.split(separator: " ")
            let code = fields.first.flatMap { Int32($0) } ?? 255
            execs[execID]?.ExitCode = code
            if fields.count > 1, let pid = Int32(fields[1]) { execs[execID]?.Pid = pid }
            emitExec("exec_die", execID: execID, ["exitCode": String(code)])
        case .execFailed:
            // dockerd (20.10) writes why the exec could not start into the stream, and 126 as its code.
            let message = wrapped ? RuntimeFailureText.exec(text) : text
            execs[execID]?.ExitCode = 126
            var text = ByteBuffer(string: message + "\r\n")
            if !raw {
                // As stdout, in the stream's stdcopy framing.
                var framed = ByteBuffer(bytes: [1, 0, 0, 0])
                framed.writeInteger(UInt32(text.readableBytes))
                framed.writeBuffer(&text)
                text = framed
            }
            try? await client?.output.write(text)
        }
        execs[execID]?.Running = false
    }

    func markExecEnded(_ execID: String, code: Int32?) {
        guard execs[execID] != nil else { return }
        execs[execID]!.Running = false
        if execs[execID]!.ExitCode == nil { execs[execID]!.ExitCode = code ?? 137 }
        if execs[execID]!.endedUptime == nil { execs[execID]!.endedUptime = DispatchTime.now().uptimeNanoseconds }
    }

    /// Drops the records of execs that ended long ago (see ExecRecord.isExpired); checked at
    /// each new exec, so an idle daemon does no work for it.
    func forgetOldExecs(now: UInt64 = DispatchTime.now().uptimeNanoseconds) {
        for (execID, exec) in execs where exec.isExpired(now: now) {
            execs[execID] = nil
            entries[exec.ContainerID]?.execs.remove(execID)
        }
    }

    public func resizeExec(_ execID: String, height: Int, width: Int) async throws {
        guard execs[execID] != nil else { throw BerthError.notFound("No such exec instance: \(execID)") }
        // As dockerd, a resize that comes before the start (a client that resizes as soon as
        // it has sent the start) waits up to 10 s for it, instead of failing at once.
        let deadline = DispatchTime.now().uptimeNanoseconds + 10_000_000_000
        while true {
            guard let exec = execs[execID] else { throw BerthError.notFound("No such exec instance: \(execID)") }
            if exec.started {
                guard exec.Running else { throw BerthError.conflict("Exec \(execID) is not running, so it can not be resized.") }
                do {
                    try await ShimClient(socketPath: paths.shimSocket(exec.ContainerID)).call("resize-exec \(execID) \(height) \(width)")
                    return
                } catch let refusal as ShimRefused where refusal.message == "no terminal" {
                    return  // An exec without a TTY has nothing to size: dockerd's runtime takes that as done (200).
                } catch let refusal as ShimRefused where refusal.message.hasPrefix("no such exec") {
                    // Started here, not yet in the shim: try again until the deadline.
                }
            }
            guard DispatchTime.now().uptimeNanoseconds < deadline else {
                throw BerthError.internalError("timeout waiting for exec session ready")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// What every exec of a run starts from: the container process's spec, its root and its
/// capability sets, kept in memory from the start (so an exec does not decode the whole
/// bundle again), and what the runtime's state adds (read at the first exec).
struct ExecTemplate: Sendable {
    var process: Spec.Process
    var rootfs: String
    var capabilities: CapabilitySets
    var join: JoinFacts?

    init(_ spec: Spec) throws {
        guard let process = spec.process else { throw BerthError.internalError("the container's spec has no process") }
        self.process = process
        rootfs = spec.root?.path ?? "/"
        capabilities = try CapabilitySets(process.capabilities)
    }

    init(bundle: String) throws {
        try self.init(JSONDecoder().decode(Spec.self, from: Data(contentsOf: URL(fileURLWithPath: bundle))))
    }
}

/// The OCI process of an exec: the container's own process with the exec's command,
/// environment, user, directory and terminal.
enum ExecProcess {
    static func make(_ exec: ExecRecord, tty: Bool, template: ExecTemplate, lastCapability: Int) throws -> Spec.Process {
        var process = template.process
        process.args = [exec.ProcessConfig.entrypoint] + exec.ProcessConfig.arguments
        process.terminal = tty
        var environment = process.env ?? []
        if tty && !environment.contains(where: { $0.hasPrefix("TERM=") }) {
            // dockerd gives a terminal exec TERM=xterm, after PATH and HOSTNAME.
            let place = environment.firstIndex { $0.hasPrefix("HOSTNAME=") }.map { $0 + 1 } ?? environment.count
            environment.insert("TERM=xterm", at: place)
        }
        for variable in exec.env {
            let key = variable.split(separator: "=", maxSplits: 1).first.map(String.init) ?? variable
            environment.removeAll { $0 == key || $0.hasPrefix(key + "=") }
            environment.append(variable)
        }
        process.env = environment
        if !exec.workingDir.isEmpty { process.cwd = exec.workingDir }
        guard process.cwd.hasPrefix("/") else {
            // runc's check, in dockerd's wrapping (without "unable to start container process").
            throw BerthError.internalError("OCI runtime exec failed: exec failed: Cwd must be an absolute path: unknown")
        }
        if !exec.ProcessConfig.user.isEmpty {
            process.user = try ContainerUser.resolve(user: exec.ProcessConfig.user, groupAdd: nil, rootfs: template.rootfs)
        }
        if exec.ProcessConfig.privileged {
            let all = ContainerCapabilities.all(lastCapability: lastCapability)
            process.capabilities = .init(bounding: all, effective: all, inheritable: nil, permitted: all, ambient: nil)
        }
        process.consoleSize = nil
        return process
    }
}
