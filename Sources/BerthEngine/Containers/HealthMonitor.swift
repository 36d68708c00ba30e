import BerthOCI
import FoundationEssentials
import Glibc
import NIOCore

/// A running monitor of one container's healthcheck. Its token tells the current monitor's
/// results from those of one stopped meanwhile.
struct HealthMonitorHandle {
    let token: UUID
    let task: Task<Void, Never>
}

/// How a probe's exec ended: its exit code, or why it could not run.
struct ProbeOutcome: Sendable {
    var exitCode: Int32?
    var failure: String?
    var output: ProbeOutput
}

/// What happens first to a probe.
private enum ProbeEvent: Sendable {
    case finished(ProbeOutcome)
    case timedOut
}

/// The health monitor of dockerd: while a container with a healthcheck runs (and is not
/// paused), one task runs its probe as an exec in the container every interval, one probe at
/// a time, and turns the results into `State.Health` and `health_status` events.
extension ContainerService {
    /// Starts the monitor of a running, unpaused container whose health is tracked, in place
    /// of an earlier one.
    func startHealthMonitor(_ id: String) {
        stopHealthMonitor(id)
        guard let entry = entries[id], entry.record.State.Running, !entry.record.State.Paused,
              entry.record.State.Health != nil, let rules = HealthRules(entry.record.Config) else { return }
        let token = UUID()
        let task = Task { await self.runHealthMonitor(id, token: token, rules: rules) }
        entries[id]!.healthMonitor = HealthMonitorHandle(token: token, task: task)
    }

    /// Stops the monitor. A probe in progress is killed and not waited for: a stop, pause or
    /// removal never waits on a probe.
    /// Ends the probes of this run. As dockerd's (which does it "for compatibility reasons"),
    /// a monitor that stops leaves the health "unhealthy": after an exit, a stop, a kill or
    /// while paused, until the next run's or the next probe's result.
    func stopHealthMonitor(_ id: String) {
        guard let monitor = entries[id]?.healthMonitor else { return }
        monitor.task.cancel()
        entries[id]?.healthMonitor = nil
        if entries[id]?.record.State.Health != nil {
            entries[id]?.record.State.Health?.Status = ContainerHealth.unhealthy
            stateVersion += 1
        }
    }

    private func isCurrent(_ id: String, _ token: UUID) -> Bool {
        entries[id]?.healthMonitor?.token == token
    }

    /// The interval runs from the end of one probe to the start of the next (and before the
    /// first), as dockerd's.
    private func runHealthMonitor(_ id: String, token: UUID, rules: HealthRules) async {
        while true {
            do { try await Task.sleep(nanoseconds: UInt64(rules.interval)) } catch { return }
            guard isCurrent(id, token), await probe(id, token: token, rules: rules) else { return }
        }
    }

    /// Runs the check once, as an exec of the container with an exec's events (as dockerd
    /// does), and records its result. False when the monitor has been stopped meanwhile.
    private func probe(_ id: String, token: UUID, rules: HealthRules) async -> Bool {
        guard entries[id]?.record.State.Running == true else { return false }
        forgetOldExecs()
        let execID = ContainerIdentity.newID()
        var exec = ExecRecord(
            ContainerID: id, ID: execID, OpenStderr: true, OpenStdin: false, OpenStdout: true,
            ProcessConfig: .init(tty: false, entrypoint: rules.command.first ?? "", arguments: Array(rules.command.dropFirst()),
                                 privileged: false, user: ""),
            env: [], workingDir: "")
        execs[execID] = exec
        entries[id]!.execs.insert(execID)
        emitExec("exec_create", execID: execID)
        exec.started = true
        exec.Running = true
        execs[execID] = exec
        emitExec("exec_start", execID: execID)
        let start = Date()
        let plan: [UInt8]
        do {
            plan = try execPlan(exec, tty: false)
        } catch {
            let failure = ProbeOutcome(exitCode: nil, failure: (error as? BerthError)?.message ?? "\(error)", output: ProbeOutput())
            endProbeExec(execID, failure)
            recordProbe(id, token: token, outcome: failure, rules: rules, start: start)
            return isCurrent(id, token)
        }

        let (events, sink) = AsyncStream<ProbeEvent>.makeStream()
        let socket = paths.shimSocket(id)
        let request = "exec \(execID) 0 0 \(plan.count)"
        // The exec runs on its own: a stopped monitor leaves it to end (killed) by itself.
        Task.detached {
            let outcome = await Self.runProbeExec(socket: socket, request: request, plan: plan) { pid in
                await self.recordExecPid(execID, pid)
            }
            await self.endProbeExec(execID, outcome)
            sink.yield(.finished(outcome))
            sink.finish()
        }
        let timer = Task.detached {
            do { try await Task.sleep(nanoseconds: UInt64(rules.timeout)) } catch { return }
            sink.yield(.timedOut)
        }
        defer { timer.cancel() }
        var iterator = events.makeAsyncIterator()
        switch await iterator.next() {
        case .finished(let outcome)?:
            recordProbe(id, token: token, outcome: outcome, rules: rules, start: start)
            return isCurrent(id, token)
        case .timedOut?:
            let message = "Health check exceeded timeout (\(GoDuration.describe(nanoseconds: rules.timeout)))"
            recordProbe(id, token: token, outcome: ProbeOutcome(exitCode: -1, failure: message, output: ProbeOutput()),
                        rules: rules, start: start)
            await killProbe(id, execID)
            // The killed probe ends before the next interval begins: probes never pile up.
            _ = await iterator.next()
            return isCurrent(id, token)
        case nil:
            // The monitor was stopped (the container stops, pauses or goes).
            await killProbe(id, execID)
            return false
        }
    }

    /// The exec through the container's shim, without a client: its output is kept (up to
    /// dockerd's limit) and its exit code read from the shim's last record.
    private nonisolated static func runProbeExec(socket: String, request: String, plan: [UInt8],
                                                 started: @escaping @Sendable (Int32) async -> Void) async -> ProbeOutcome {
        do {
            return try await ShimClient(socketPath: socket).withConnection(request, payload: plan) { _, frames, shim in
                shim.finish()
                var output = ProbeOutput()
                while let frame = try await frames.next() {
                    switch frame.kind {
                    case .stdout, .stderr:
                        output.append(frame.payload.readableBytesView)
                    case .execStarted:
                        if let pid = Int32(String(buffer: frame.payload)) { await started(pid) }
                    case .execExit:
                        // "<status> <pid>"
                        let code = String(buffer: frame.payload).split(separator: " ").first.flatMap { Int32($0) } ?? 255
                        return ProbeOutcome(exitCode: code, failure: nil, output: output)
                    case .execFailed:
                        let reason = String(buffer: frame.payload)
                        return ProbeOutcome(exitCode: nil, output: output, startFailure: reason)
                    }
                }
                return ProbeOutcome(exitCode: nil, failure: "the container's shim ended the probe without its exit code", output: output)
            }
        } catch {
            return ProbeOutcome(exitCode: nil, failure: "\(error)", output: ProbeOutput())
        }
    }

    /// The probe's process gets SIGKILL (its pid is known once the shim has started it).
    private func killProbe(_ id: String, _ execID: String) async {
        for _ in 0..<100 where execs[execID]?.Running == true {
            if let pid = execs[execID]?.Pid, pid > 0 {
                Glibc.kill(pid, SIGKILL)
                return
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// The probe's exec is over: its `exec_die`; it stays inspectable until it expires with
    /// the other ended execs (dockerd's exec clean-up takes probes too).
    private func endProbeExec(_ execID: String, _ outcome: ProbeOutcome) {
        if let code = outcome.exitCode { emitExec("exec_die", execID: execID, ["exitCode": String(code)]) }
        markExecEnded(execID, code: outcome.exitCode ?? 126)
    }

    /// A result into `State.Health`. The state goes to disk, and the event out, only when the
    /// status changes: most probes change nothing but the log, which needs no fsync each time.
    private func recordProbe(_ id: String, token: UUID, outcome: ProbeOutcome, rules: HealthRules, start: Date) {
        guard isCurrent(id, token), var health = entries[id]?.record.State.Health else { return }
        let result = HealthProbeResult(Start: timestamp(start), End: timestamp(), ExitCode: outcome.exitCode.map(Int.init) ?? -1,
                                       Output: outcome.failure ?? outcome.output.text)
        let startedAt = unixSeconds(entries[id]!.record.State.StartedAt) ?? start.timeIntervalSince1970
        let changed = health.record(result, rules: rules, sinceStart: start.timeIntervalSince1970 - startedAt)
        entries[id]!.record.State.Health = health
        guard changed else { return }
        persist(id)
        emit("health_status: " + health.Status, container: id)
    }
}

extension ProbeOutcome {
    /// The runtime could not start the probe: dockerd's wording around its reason.
    init(exitCode: Int32?, output: ProbeOutput, startFailure reason: String) {
        self.init(exitCode: exitCode, failure: "OCI runtime exec failed: exec failed: unable to start container process: \(reason): unknown",
                  output: output)
    }
}
