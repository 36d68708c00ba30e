import BerthOCI
import BerthStore
import CSystemShims
import FoundationEssentials
import Glibc

/// Clones a git build context with the host's `git` as dockerd does: `git init`, a remote
/// `origin`, a fetch of the one ref (shallow where the server allows it), a checkout of it
/// (or of FETCH_HEAD), the submodules (shallow), then the subdirectory. Each git runs in its
/// own process group, watched: cancelled, too slow or too large, the group is killed.
/// Errors are dockerd's texts. Blocking.
struct GitClone {
    /// How large the clone may grow, and how long it may take in all.
    static let maximumBytes: Int64 = 8 << 30
    static let maximumSeconds: Int64 = 1800

    let remote: GitRemote
    /// The (new) directory the repository is cloned into.
    let root: String
    let cancellation: TransferCancellation
    let deadline = RemoteDownload.now() + GitClone.maximumSeconds

    /// Clones; returns the directory to build from (the root or its subdirectory).
    func run() throws -> String {
        guard mkdir(root, 0o755) == 0 else {
            throw BerthError.internalError("mkdir \(root): \(String(cString: strerror(errno)))")
        }
        var result = try git(["init"])
        if let failure = result.failure { throw BerthError.internalError("failed to init repo at \(root): \(result.output): \(failure)") }
        result = try git(["remote", "add", "origin", remote.remote])
        if let failure = result.failure { throw BerthError.internalError("failed add origin repo at \(remote.remote): \(result.output): \(failure)") }
        let depth = supportsShallowFetch() ? ["--depth", "1"] : []
        result = try git(["fetch"] + depth + ["origin", "--", remote.ref])
        if let failure = result.failure { throw BerthError.internalError("error fetching: \(result.output): \(failure)") }
        // By name first (a branch gets its local branch); else what the fetch brought.
        let checkout = try git(["checkout", remote.ref])
        if let failure = checkout.failure, try git(["checkout", "FETCH_HEAD"]).failure != nil {
            throw BerthError.internalError("error checking out \(remote.ref): \(checkout.output): \(failure)")
        }
        var directory = root
        if !remote.subdir.isEmpty {
            let scoped = try ScopedRoot(path: root)
            directory = root + scoped.canonical("/" + remote.subdir)
            var info = stat()
            guard stat(directory, &info) == 0 else {
                // Go's words for the errno: glibc's, starting in lower case.
                let reason = String(cString: strerror(errno))
                throw BerthError.internalError("stat \(directory): \(reason.prefix(1).lowercased() + reason.dropFirst())")
            }
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw BerthError.internalError("error setting git context, not a directory: \(directory)")
            }
        }
        result = try git(["submodule", "update", "--init", "--recursive", "--depth=1"])
        if let failure = result.failure { throw BerthError.internalError("error initializing submodules: \(result.output): \(failure)") }
        return directory
    }

    /// Whether the server takes a shallow fetch: any but http(s), or a "smart" http server
    /// (its upload-pack advertisement answers; a plain file server's does not).
    func supportsShallowFetch() -> Bool {
        guard remote.scheme == "http" || remote.scheme == "https" else { return true }
        let service = remote.remote + "/info/refs?service=git-upload-pack"
        for method in ["HEAD", "GET"] {
            guard let response = try? RemoteDownload.get(service, to: nil, method: method, cancellation: cancellation, limit: 16 << 20) else {
                continue
            }
            return response.headers["content-type"] == "application/x-git-upload-pack-advertisement"
        }
        return false
    }

    struct Outcome {
        /// Go's words for how it ended ("exit status 128"), nil when it succeeded.
        var failure: String?
        /// stdout and stderr together, as dockerd's CombinedOutput.
        var output: String
    }

    /// Runs git in the root with dockerd's isolation (no system or user config, no file://
    /// or other local protocols from the repository), no prompt, berthd's proxies.
    func git(_ arguments: [String]) throws -> Outcome {
        guard let path = ["/usr/bin/git", "/usr/local/bin/git", "/bin/git"].first(where: { (candidate: String) in access(candidate, X_OK) == 0 }) else {
            throw BerthError.internalError("exec: \"git\": executable file not found in $PATH")
        }
        let settings = ["GIT_PROTOCOL_FROM_USER=0", "GIT_CONFIG_NOSYSTEM=1", "HOME=/dev/null", "GIT_TERMINAL_PROMPT=0", "LC_ALL=C"]
        let names = Set(settings.map { $0.prefix { $0 != "=" } })
        let environment = Self.hostEnvironment().filter { !names.contains($0.prefix { $0 != "=" }) } + settings
        let argv = ["git", "-c", "protocol.file.allow=never"] + arguments
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else { throw BerthError.internalError("pipe: \(String(cString: strerror(errno)))") }
        // Not inherited by other children spawned meanwhile (their copy would hold the pipe open).
        for fd in pipeFDs { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        // posix_spawn keeps berthd's working directory: git's -C moves it to the root.
        let map: [Int32] = [null, 0, pipeFDs[1], 1, pipeFDs[1], 2]
        let pid = withCStrings([argv[0], "-C", root] + argv.dropFirst()) { argvPointer in
            withCStrings(environment) { envp in
                berth_spawn(path, argvPointer, envp, map, 3, 1)
            }
        }
        let spawnError = errno
        close(null)
        close(pipeFDs[1])
        defer { close(pipeFDs[0]) }
        guard pid > 0 else { throw BerthError.internalError("exec: \"git\": \(String(cString: strerror(spawnError)))") }
        var output: [UInt8] = []
        var stopped: BerthError?
        var lastSizeCheck = RemoteDownload.now()
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            var poller = pollfd(fd: pipeFDs[0], events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 200)
            if ready > 0 {
                let count = buffer.withUnsafeMutableBytes { read(pipeFDs[0], $0.baseAddress, $0.count) }
                if count == 0 { break }
                if count > 0 && output.count < 64 << 10 { output += buffer[0..<count] }
                if count < 0 && errno != EINTR && errno != EAGAIN { break }
            }
            if stopped == nil {
                if cancellation.isCancelled {
                    stopped = BerthError.internalError("context canceled")
                } else if RemoteDownload.now() > deadline {
                    stopped = BerthError.internalError("error fetching \(remote.remote): the clone took longer than \(Self.maximumSeconds / 60) minutes")
                } else if RemoteDownload.now() - lastSizeCheck >= 2 {
                    lastSizeCheck = RemoteDownload.now()
                    if Self.diskUsage(root) > Self.maximumBytes {
                        stopped = BerthError.internalError(
                            "error fetching \(remote.remote): the clone is larger than the limit of \(RemoteDownload.describe(bytes: Self.maximumBytes))")
                    }
                }
                // The whole group: git's helpers (remote-http, index-pack) go too.
                if stopped != nil { kill(0 - pid, SIGKILL) }
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if let stopped { throw stopped }
        var failure: String?
        if berth_wifexited(status) == 0 {
            failure = "signal: \(String(cString: strsignal(berth_wtermsig(status))))"
        } else if berth_wexitstatus(status) != 0 {
            failure = "exit status \(berth_wexitstatus(status))"
        }
        return Outcome(failure: failure, output: String(decoding: output, as: UTF8.self))
    }

    /// berthd's environment ("NAME=value"): its proxies apply to git too.
    static func hostEnvironment() -> [String] {
        var entries: [String] = []
        var pointer = environ
        while let entry = pointer.pointee {
            entries.append(String(cString: entry))
            pointer += 1
        }
        return entries
    }

    /// The bytes a directory tree takes, links not followed.
    static func diskUsage(_ path: String) -> Int64 {
        var info = stat()
        guard lstat(path, &info) == 0 else { return 0 }
        var total = Int64(info.st_blocks) * 512
        if (info.st_mode & S_IFMT) == S_IFDIR {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
                total += diskUsage(path + "/" + name)
            }
        }
        return total
    }
}
