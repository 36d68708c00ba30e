import Glibc

/// As runc does before it switches to the process's user: the process's stdio (its pty slave or
/// the shim's pipes) is handed to that user, so a non-root user can reopen it (/dev/stdout,
/// /dev/stdin, /proc/self/fd/N: nginx's logs, `cat /dev/stdin`) and owns its terminal. Only
/// the uid changes (the devpts gid stays); /dev/null is left alone; a descriptor the user's
/// namespace cannot map (EINVAL) or a policy forbids (EPERM) is left as it is.
enum StdioOwnership {
    static func give(to uid: UInt32) throws {
        var null = stat()
        let nullDevice = stat("/dev/null", &null) == 0 ? null.st_rdev : nil
        for descriptor: Int32 in [0, 1, 2] {
            var info = stat()
            guard fstat(descriptor, &info) == 0 else { continue }  // not open: nothing to hand over
            if (info.st_mode & S_IFMT) == S_IFCHR && info.st_rdev == nullDevice { continue }
            if info.st_uid == uid { continue }
            if fchown(descriptor, uid, info.st_gid) != 0 && errno != EINVAL && errno != EPERM {
                throw SystemError("fchown stdio \(descriptor) to \(uid)")
            }
        }
    }
}
