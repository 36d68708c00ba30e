import BerthOCI

/// `update` changes only what it names: the values it sets are laid over the container's
/// saved resources (as runc keeps them), so its state goes on describing the whole cgroup.
enum ResourcesUpdate {
    static func merge(_ update: Spec.Resources, into saved: Spec.Resources?) -> Spec.Resources {
        var merged = saved ?? Spec.Resources()
        if let memory = update.memory {
            var current = merged.memory ?? Spec.Memory()
            current.limit = memory.limit ?? current.limit
            current.reservation = memory.reservation ?? current.reservation
            current.swap = memory.swap ?? current.swap
            current.kernel = memory.kernel ?? current.kernel
            current.kernelTCP = memory.kernelTCP ?? current.kernelTCP
            current.swappiness = memory.swappiness ?? current.swappiness
            current.disableOOMKiller = memory.disableOOMKiller ?? current.disableOOMKiller
            merged.memory = current
        }
        if let cpu = update.cpu {
            var current = merged.cpu ?? Spec.CPU()
            current.shares = cpu.shares ?? current.shares
            current.quota = cpu.quota ?? current.quota
            current.burst = cpu.burst ?? current.burst
            current.period = cpu.period ?? current.period
            current.realtimeRuntime = cpu.realtimeRuntime ?? current.realtimeRuntime
            current.realtimePeriod = cpu.realtimePeriod ?? current.realtimePeriod
            current.cpus = cpu.cpus ?? current.cpus
            current.mems = cpu.mems ?? current.mems
            current.idle = cpu.idle ?? current.idle
            merged.cpu = current
        }
        merged.pids = update.pids ?? merged.pids
        if let blockIO = update.blockIO {
            var current = merged.blockIO ?? Spec.BlockIO()
            current.weight = blockIO.weight ?? current.weight
            current.leafWeight = blockIO.leafWeight ?? current.leafWeight
            current.weightDevice = blockIO.weightDevice ?? current.weightDevice
            current.throttleReadBpsDevice = blockIO.throttleReadBpsDevice ?? current.throttleReadBpsDevice
            current.throttleWriteBpsDevice = blockIO.throttleWriteBpsDevice ?? current.throttleWriteBpsDevice
            current.throttleReadIOPSDevice = blockIO.throttleReadIOPSDevice ?? current.throttleReadIOPSDevice
            current.throttleWriteIOPSDevice = blockIO.throttleWriteIOPSDevice ?? current.throttleWriteIOPSDevice
            merged.blockIO = current
        }
        merged.devices = update.devices ?? merged.devices
        merged.hugepageLimits = update.hugepageLimits ?? merged.hugepageLimits
        if let unified = update.unified {
            merged.unified = (merged.unified ?? [:]).merging(unified) { _, new in new }
        }
        return merged
    }
}
