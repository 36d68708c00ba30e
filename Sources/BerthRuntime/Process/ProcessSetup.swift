import BerthOCI
import CSystemShims
import Glibc

/// The last steps before a container process execs: working directory, user, capabilities,
/// no_new_privs and seccomp, in the order the kernel allows them. Everything that can fail on
/// bad input is checked in `init`, in the runtime's parent, before any process is cloned.
struct ProcessSetup {
    let process: Spec.Process
    let capabilities: CapabilitySets
    let seccomp: SeccompFilter?
    let rlimits: Rlimits

    init(process: Spec.Process, seccompFilter: SeccompFilter?) throws {
        guard let args = process.args, !args.isEmpty else {
            throw ConfigError("process.args must not be empty")
        }
        guard process.cwd.hasPrefix("/") else {
            throw ConfigError("process.cwd \"\(process.cwd)\" is not an absolute path")
        }
        self.process = process
        self.capabilities = try CapabilitySets(process.capabilities)
        self.seccomp = seccompFilter
        self.rlimits = try Rlimits(process.rlimits ?? [])
    }

    var noNewPrivileges: Bool { process.noNewPrivileges ?? false }

    /// cwd, identity and privileges. Seccomp comes last when no_new_privs is set; otherwise it
    /// must be loaded while CAP_SYS_ADMIN is still held, so before the capabilities are dropped.
    func applyIdentity() throws {
        let chdirFailure = "chdir to cwd (\"\(process.cwd)\") set in config.json failed"
        // Entered while still root, as runc does: the user may then run in a directory it
        // cannot read (`exec -u 1 -w /root`). Refused even to root, it is tried again as the user
        // (a volume chowned to the user on a host that squashes root).
        let entered = chdir(process.cwd) == 0
        if !entered && errno != EACCES && errno != EPERM { throw SystemError(chdirFailure) }
        if !noNewPrivileges { try seccomp?.load() }
        try capabilities.dropBounding()
        try StdioOwnership.give(to: process.user.uid)
        try switchUser()
        if !entered && chdir(process.cwd) != 0 { throw SystemError(chdirFailure) }
        // A cwd reached through a leaked host descriptor would be outside our root, and the
        // kernel then reports it as unreachable (the runc CVE-2024-21626 pattern).
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        guard getcwd(&buffer, buffer.count) != nil, buffer[0] == 0x2F else {
            throw ConfigError("current working directory is outside of the container's root")
        }
        try capabilities.apply()
        if noNewPrivileges { try check("prctl(PR_SET_NO_NEW_PRIVS)", berth_set_no_new_privs()) }
        if let mask = process.user.umask { umask(mode_t(mask)) } else { umask(0o022) }
    }

    /// Last call before execve when no_new_privs is set (seccomp may deny what setup needed).
    func loadLateSeccomp() throws {
        if noNewPrivileges { try seccomp?.load() }
    }

    private func switchUser() throws {
        let user = process.user
        try check("prctl(PR_SET_KEEPCAPS)", berth_set_keepcaps(1))
        let groups = (user.additionalGids ?? []).map { gid_t($0) }
        if berth_setgroups(groups.count, groups) != 0 {
            // In a user namespace with setgroups denied, only an empty list is acceptable.
            if !(errno == EPERM && groups.isEmpty) { throw SystemError("setgroups") }
        }
        try check("setresgid \(user.gid)", berth_setresgid(user.gid, user.gid, user.gid))
        try check("setresuid \(user.uid)", berth_setresuid(user.uid, user.uid, user.uid))
        try check("prctl(PR_SET_KEEPCAPS)", berth_set_keepcaps(0))
    }

    /// The environment for execve; HOME is added from /etc/passwd when the spec lacks it.
    var environment: [String] {
        var env = process.env ?? []
        if !env.contains(where: { $0.hasPrefix("HOME=") }) {
            env.append("HOME=" + (Passwd.home(uid: process.user.uid) ?? "/"))
        }
        return env
    }

    /// Resolves args[0] through PATH (from the process's env) inside the container, so that a
    /// missing or non-executable program fails before `start`, with runc's wording.
    func resolveExecutable() throws -> String {
        let name = process.args![0]
        if name.contains("/") {
            try checkExecutable(name, name: name)
            return name
        }
        let pathVariable = (process.env ?? []).last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }
            ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        for directory in pathVariable.split(separator: ":") {
            let candidate = directory + "/" + name
            var st = stat()
            if stat(candidate, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        throw ConfigError("exec: \"\(name)\": executable file not found in $PATH")
    }

    private func checkExecutable(_ path: String, name: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw ConfigError("exec: \"\(name)\": stat \(path): \(goErrorText(errno))")
        }
        if (st.st_mode & S_IFMT) == S_IFDIR || access(path, X_OK) != 0 {
            throw ConfigError("exec: \"\(name)\": permission denied")
        }
    }

    /// Closes every descriptor but stdio (and the preserved ones) and replaces this process.
    /// Only returns by throwing.
    func exec(path: String, keepingFdsBelow firstClosed: Int32) throws -> Never {
        try check("close_range", berth_close_fds_from(firstClosed))
        try loadLateSeccomp()
        let argv = process.args!
        let env = environment
        withCStrings(argv) { cArgs in
            withCStrings(env) { cEnv in
                _ = execve(path, cArgs, cEnv)
            }
        }
        throw SystemError("exec \(argv[0])")
    }
}

/// Reads the container's /etc/passwd (after pivot_root).
enum Passwd {
    static func home(uid: UInt32) -> String? {
        guard let text = FileSystem.readFile("/etc/passwd") else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count >= 6, UInt32(fields[2]) == uid { return String(fields[5]) }
        }
        return nil
    }
}
