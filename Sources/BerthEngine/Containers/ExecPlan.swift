import BerthOCI
import BerthRuntime

/// An exec's process as the shim takes it (berth_exec_spawn starts it without a runtime
/// process): NUL-terminated `key=value` entries. Keys: `arg` and `env` (repeated, in order),
/// `cwd`, `user` (UID,GID), `groups` (GID,...), `umask` (decimal), `caps` (the bounding,
/// effective, permitted, inheritable and ambient sets as decimal masks), `nnp` (1),
/// `rlimit` (NAME,SOFT,HARD, repeated), `seccomp` (the BPF program file), `cgroup` (a file
/// to write "0" to, repeated).
enum ExecPlan {
    static func encode(_ process: Spec.Process, capabilities: CapabilitySets, join: JoinFacts) throws -> [UInt8] {
        var plan: [UInt8] = []
        func add(_ key: String, _ value: String) throws {
            // The shim's entries end at a NUL, as C strings (and so execve's arguments) do.
            guard !value.utf8.contains(0) else {
                throw BerthError.invalidArgument("\(key == "arg" ? "argument" : key == "env" ? "environment variable" : key) contains a NUL byte")
            }
            plan += Array(key.utf8)
            plan.append(UInt8(ascii: "="))
            plan += Array(value.utf8)
            plan.append(0)
        }
        guard let args = process.args, !args.isEmpty else { throw BerthError.invalidArgument("No exec command specified") }
        for argument in args { try add("arg", argument) }
        for variable in process.env ?? [] { try add("env", variable) }
        try add("cwd", process.cwd)
        try add("user", "\(process.user.uid),\(process.user.gid)")
        if let groups = process.user.additionalGids, !groups.isEmpty {
            try add("groups", groups.map(String.init).joined(separator: ","))
        }
        if let umask = process.user.umask { try add("umask", String(umask)) }
        let sets = [capabilities.bounding, capabilities.effective, capabilities.permitted, capabilities.inheritable, capabilities.ambient]
        try add("caps", sets.map(String.init).joined(separator: ","))
        if process.noNewPrivileges == true { try add("nnp", "1") }
        for limit in process.rlimits ?? [] { try add("rlimit", "\(limit.type),\(limit.soft),\(limit.hard)") }
        if let program = join.seccompProgram { try add("seccomp", program) }
        for file in join.cgroupFiles { try add("cgroup", file) }
        return plan
    }
}
