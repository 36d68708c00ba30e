import BerthOCI
import BerthRuntime
import FoundationEssentials
import Glibc

/// `docker update`'s rules, apart from the service: how a request folds into the container's
/// HostConfig (dockerd's, with its conflict texts) and which cgroup values it changes.
public enum ContainerUpdate {
    /// The request's non-zero resources and its restart policy (when named) laid over the
    /// current HostConfig. CPU period/quota and NanoCPUs exclude each other across the two;
    /// a memory limit above the swap limit already set needs a new swap limit with it.
    public static func merge(_ request: HostConfig, into current: HostConfig) throws -> HostConfig {
        func conflict(_ text: String) -> BerthError { .conflict(text) }
        let nano = request.NanoCpus ?? 0
        if nano > 0 && (current.CpuPeriod ?? 0) > 0 {
            throw conflict("Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set")
        }
        if nano > 0 && (current.CpuQuota ?? 0) > 0 {
            throw conflict("Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set")
        }
        if (request.CpuPeriod ?? 0) > 0 && (current.NanoCpus ?? 0) > 0 {
            throw conflict("Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set")
        }
        if (request.CpuQuota ?? 0) > 0 && (current.NanoCpus ?? 0) > 0 {
            throw conflict("Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set")
        }
        var merged = current
        func take<T: Equatable>(_ value: T?, zero: T, into field: WritableKeyPath<HostConfig, T?>) {
            if let value, value != zero { merged[keyPath: field] = value }
        }
        take(request.BlkioWeight, zero: 0, into: \.BlkioWeight)
        take(request.CpuShares, zero: 0, into: \.CpuShares)
        take(request.NanoCpus, zero: 0, into: \.NanoCpus)
        take(request.CpuPeriod, zero: 0, into: \.CpuPeriod)
        take(request.CpuQuota, zero: 0, into: \.CpuQuota)
        take(request.CpusetCpus, zero: "", into: \.CpusetCpus)
        take(request.CpusetMems, zero: "", into: \.CpusetMems)
        let memory = request.Memory ?? 0
        if memory != 0 {
            if memory > (current.MemorySwap ?? 0) && (request.MemorySwap ?? 0) == 0 {
                throw conflict("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time")
            }
            merged.Memory = memory
        }
        take(request.MemorySwap, zero: 0, into: \.MemorySwap)
        take(request.MemoryReservation, zero: 0, into: \.MemoryReservation)
        take(request.KernelMemory, zero: 0, into: \.KernelMemory)
        take(request.CpuRealtimePeriod, zero: 0, into: \.CpuRealtimePeriod)
        take(request.CpuRealtimeRuntime, zero: 0, into: \.CpuRealtimeRuntime)
        // dockerd records an update to no limit (0, or any negative value) as 0.
        if let pids = request.PidsLimit { merged.PidsLimit = max(pids, 0) }
        if let policy = request.RestartPolicy, !policy.Name.isEmpty {
            if policy != (current.RestartPolicy ?? RestartPolicy()) && current.AutoRemove == true {
                throw conflict("Restart policy cannot be updated because AutoRemove is enabled for the container")
            }
            merged.RestartPolicy = policy
        }
        return merged
    }

    /// The cgroup values a running container gets: only what the request sets (as dockerd
    /// hands containerd the request's resources). A swap limit carries the memory limit in
    /// force with it, which cgroup v2 needs to turn memory+swap into swap alone.
    public static func resources(_ request: HostConfig, merged: HostConfig) -> Spec.Resources {
        var memory = Spec.Memory()
        if let limit = request.Memory, limit != 0 { memory.limit = limit }
        if let swap = request.MemorySwap, swap != 0 {
            memory.swap = swap
            if memory.limit == nil, let limit = merged.Memory, limit > 0 { memory.limit = limit }
        }
        if let reservation = request.MemoryReservation, reservation != 0 { memory.reservation = reservation }

        var cpu = Spec.CPU()
        if let shares = request.CpuShares, shares > 0 { cpu.shares = UInt64(shares) }
        if let nano = request.NanoCpus, nano > 0 {
            cpu.period = 100_000
            cpu.quota = nano * 100_000 / 1_000_000_000
        }
        if let period = request.CpuPeriod, period > 0 { cpu.period = UInt64(period) }
        if let quota = request.CpuQuota, quota != 0 { cpu.quota = quota }
        if let cpus = request.CpusetCpus, !cpus.isEmpty { cpu.cpus = cpus }
        if let mems = request.CpusetMems, !mems.isEmpty { cpu.mems = mems }
        // Real-time values are stored (the next start applies them), not applied to the
        // running cgroup: dockerd's update does not hand them on either.

        var resources = Spec.Resources()
        if memory != Spec.Memory() { resources.memory = memory }
        if cpu != Spec.CPU() { resources.cpu = cpu }
        // 0 and -1 both mean unlimited in Docker's API.
        if let pids = request.PidsLimit { resources.pids = .init(limit: pids <= 0 ? -1 : pids) }
        if let weight = request.BlkioWeight, weight > 0 { resources.blockIO = .init(weight: weight) }
        return resources
    }
}

extension ContainerService {
    /// `docker update`: validated as create validates (but for the real-time values, which
    /// dockerd neither checks nor applies on an update), folded into the HostConfig, applied to
    /// the cgroup of a running (or paused) container through the runtime, then saved, so
    /// inspect and the next start see it. Returns the warnings.
    public func update(_ nameOrID: String, request: HostConfig) async throws -> [String] {
        let id = try resolve(nameOrID)
        var validated = request
        var host = settings.host
        host.ipv4Forwarding = true   // irrelevant to an update: no network warning
        try CreateValidation.validateRestartPolicy(request.RestartPolicy ?? RestartPolicy())
        let warnings = try CreateValidation.validateResources(&validated, host: host, update: true)

        guard let entry = entries[id] else { throw BerthError.notFound("No such container: \(nameOrID)") }
        func cannotUpdate(_ error: BerthError) -> BerthError {
            BerthError(error.code, "Cannot update container \(id): \(error.message)")
        }
        if entry.record.State.Status == "removing" || entry.record.State.Dead {
            throw cannotUpdate(.conflict("container is marked for removal and cannot be \"update\""))
        }
        let merged: HostConfig
        do { merged = try ContainerUpdate.merge(validated, into: entry.hostConfig) } catch let error as BerthError {
            throw cannotUpdate(error)
        }
        let state = entry.record.State
        if state.Running && !state.Restarting {
            let resources = ContainerUpdate.resources(validated, merged: merged)
            let root = paths.runtimeRoot
            do {
                try await blocking { try Runtime(root: root).update(id: id, resources: resources) }
            } catch {
                throw cannotUpdate(.internalError("\(error)"))
            }
        }
        guard entries[id] != nil else { throw BerthError.notFound("No such container: \(nameOrID)") }
        let previous = entries[id]!.hostConfig
        entries[id]!.hostConfig = merged
        do {
            try persistHostConfig(id)
        } catch {
            entries[id]!.hostConfig = previous
            throw cannotUpdate(.internalError("\(error)"))
        }
        stateVersion += 1
        emit("update", container: id)  // as dockerd, once the change is stored
        return warnings
    }
}
