import BerthOCI
import BerthRuntime
import Dispatch
import FoundationEssentials
import Glibc

extension ContainerService {
    /// What a stats sample needs to know about its container at that moment.
    struct StatsSubject: Sendable {
        var id: String
        var name: String
        var running: Bool
        var pid: Int32
        /// Its own network namespace (bridge, none, user networks), whose counters it shows.
        var privateNetwork: Bool
    }

    /// The container's current state for a sample; nil once it is removed.
    func statsSubject(_ id: String) -> StatsSubject? {
        guard let entry = entries[id] else { return nil }
        let state = entry.record.State
        return StatsSubject(id: id, name: entry.record.Name, running: state.Running && !state.Restarting, pid: state.Pid,
                            privateNetwork: NetworkModeKind(entry.hostConfig.NetworkMode).isPrivate)
    }

    /// The full ID, or 404, before any of the stream is sent.
    public func statsTarget(_ nameOrID: String) throws -> String {
        try resolve(nameOrID)
    }

    /// `docker stats`: with `stream`, one record a second (the first with empty pre-fields)
    /// until the container exits or is removed, or the client goes; a container not running
    /// gets dockerd's empty records meanwhile. Without `stream`, one record, whose pre-fields
    /// come from a sample a second earlier unless `oneShot`. Each subscriber samples for
    /// itself, so a slow reader only delays its own records (DESIGN rule 4).
    public nonisolated func streamStats(id: String, stream: Bool, oneShot: Bool,
                                        write: @escaping @Sendable ([UInt8]) async throws -> Void) async throws {
        func send(_ record: StatsRecord) async throws {
            try await write(try DeclarationOrderJSON.encode(record) + [0x0A])
        }
        let hostMemory = UInt64(max(settings.host.totalMemory, 0))
        guard stream else {
            guard let subject = await statsSubject(id) else { return }
            guard subject.running else { return try await send(.empty(name: subject.name, id: id)) }
            var record = await Self.sample(subject, runtimeRoot: paths.runtimeRoot, hostMemory: hostMemory)
            if !oneShot {
                try await Task.sleep(for: .seconds(1))
                guard let later = await statsSubject(id) else { return }
                guard later.running else { return try await send(.empty(name: later.name, id: id)) }
                record = await Self.sample(later, runtimeRoot: paths.runtimeRoot, hostMemory: hostMemory).following(record)
            }
            return try await send(record)
        }
        var previous: StatsRecord?
        var wasRunning = false
        let clock = ContinuousClock()
        var tick = clock.now
        while let subject = await statsSubject(id) {
            if subject.running {
                let record = await Self.sample(subject, runtimeRoot: paths.runtimeRoot, hostMemory: hostMemory)
                try await send(record.following(previous))
                previous = record
                wasRunning = true
            } else {
                // dockerd stops a container's stats subscribers when it exits.
                if wasRunning { return }
                try await send(.empty(name: subject.name, id: id))
            }
            tick = max(tick.advanced(by: .seconds(1)), clock.now)
            try await Task.sleep(until: tick, clock: clock)
        }
    }

    /// Reads the container's cgroup, the host's CPU time and the container's interface
    /// counters, off the cooperative pool (they are file reads).
    static func sample(_ subject: StatsSubject, runtimeRoot: String, hostMemory: UInt64) async -> StatsRecord {
        await BlockingWork.run { sampleNow(subject, runtimeRoot: runtimeRoot, hostMemory: hostMemory) }
    }

    static func sampleNow(_ subject: StatsSubject, runtimeRoot: String, hostMemory: UInt64) -> StatsRecord {
        let read = timestamp()
        guard let saved = try? ContainerStore(root: runtimeRoot).load(subject.id),
              let cgroup = try? openCgroupManager(paths: saved.cgroupPaths) else {
            // Between its exit and the daemon noticing: nothing to read any more.
            return .empty(name: subject.name, id: subject.id)
        }
        let usage = cgroup.stats()
        let host = StatsRecord.HostSample(systemCPU: HostCPUUsage.systemNanoseconds(), onlineCPUs: HostCPUUsage.onlineCPUs(),
                                          memory: hostMemory)
        let unified = (try? CgroupHost.probe().isUnified) ?? false
        let networks = subject.privateNetwork ? NetworkDeviceCounters.read(pid: subject.pid) : nil
        return StatsRecord.sample(name: subject.name, id: subject.id, read: read, cgroup: usage, unified: unified,
                                  host: host, networks: networks)
    }
}
