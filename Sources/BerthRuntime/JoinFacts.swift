/// What a process joining a running container needs from the runtime's state beyond the
/// container's spec: the cgroup files it moves itself in with, and the compiled seccomp
/// program it loads. berthd hands these to the shim, which starts execs without a runtime
/// process (see berth_exec_spawn in the shim).
public struct JoinFacts: Sendable {
    public var cgroupFiles: [String]
    /// The BPF program file; nil when the container runs without a filter.
    public var seccompProgram: String?

    public init(cgroupFiles: [String], seccompProgram: String?) {
        self.cgroupFiles = cgroupFiles
        self.seccompProgram = seccompProgram
    }
}

extension ContainerStore {
    public func joinFacts(_ id: String) throws -> JoinFacts {
        let container = try load(id)
        let cgroup = try openCgroupManager(paths: container.cgroupPaths)
        switch container.seccomp {
        case .unconfined?:
            return JoinFacts(cgroupFiles: cgroup.joinFiles, seccompProgram: nil)
        case .program?:
            return JoinFacts(cgroupFiles: cgroup.joinFiles, seccompProgram: seccompProgramFile(id))
        case .config?, nil:
            // A notify listener cannot be kept compiled (and a state from before the field
            // has no program): only the runtime's own exec can build such a filter.
            throw ConfigError("the container's seccomp filter can only be built by the runtime: restart the container")
        }
    }
}
