import BerthOCI
import CSystemShims
import Glibc

/// Builds a container's filesystem view inside its new mount namespace: the spec's mounts,
/// /dev, pivot_root, masked and read-only paths. Runs in the container's init stage, before
/// the user switch, while the process still has every capability.
struct RootfsBuilder {
    let spec: Spec
    let rootfs: String
    /// This container's cgroup per v1 hierarchy, in the host's mount order, bound into
    /// /sys/fs/cgroup (none on a unified host).
    let cgroupBinds: [CgroupBind]
    let inUserNamespace: Bool
    let newNetworkNamespace: Bool
    /// In a cgroup namespace of its own (or joined), the v1 hierarchies are mounted afresh.
    let inCgroupNamespace: Bool

    /// Everything up to and including pivot_root. Afterwards "/" is the container's root.
    func prepare() throws {
        // Nothing we mount may propagate back to the host. A shared root is made shared only
        // after pivot_root; until then it is a slave like the default.
        var propagation = UInt(MS_SLAVE) | UInt(MS_REC)
        if let name = spec.linux?.rootfsPropagation, !name.hasSuffix("shared") {
            propagation = try MountOptions.propagation(named: name) | UInt(MS_REC)
        }
        try mount("", "/", nil, propagation, nil, step: "set propagation of /")
        // The rootfs must be a mount point of its own for pivot_root.
        try mount(rootfs, rootfs, nil, UInt(MS_BIND) | UInt(MS_REC), nil, step: "bind rootfs \(rootfs)")

        for entry in spec.mounts ?? [] {
            do {
                try mountEntry(entry)
            } catch {
                // runc's words around any mount's failure (dockerd adds its hint on "not a directory").
                throw ConfigError("error mounting \"\(entry.source ?? "")\" to rootfs at \"\(entry.destination)\": \(error)")
            }
        }
        try createDevices()
        try createDevSymlinks()
    }

    /// pivot_root into the rootfs and detach the old root. Falls back to MS_MOVE + chroot when
    /// the current root cannot be pivoted (a ramfs/initramfs root returns EINVAL).
    func pivot() throws {
        let oldRoot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC)
        if oldRoot < 0 { throw SystemError("open /") }
        defer { close(oldRoot) }
        let newRoot = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC)
        if newRoot < 0 { throw SystemError("open rootfs \(rootfs)") }
        defer { close(newRoot) }
        try check("chdir \(rootfs)", fchdir(newRoot))
        if berth_pivot_root(".", ".") != 0 {
            let pivotErrno = errno
            guard pivotErrno == EINVAL else { throw SystemError("pivot_root", errno: pivotErrno) }
            try mount(rootfs, "/", nil, UInt(MS_MOVE), nil, step: "move rootfs to /")
            try check("chroot", chroot("."))
            try check("chdir /", chdir("/"))
            return
        }
        // The old root is now stacked under "."; make it private to us and lazily detach it.
        try check("fchdir old root", fchdir(oldRoot))
        try mount("", ".", nil, UInt(MS_SLAVE) | UInt(MS_REC), nil, step: "make old root rslave")
        try check("umount old root", berth_umount2(".", Int32(MNT_DETACH)))
        try check("chdir /", chdir("/"))
        if let name = spec.linux?.rootfsPropagation, name.hasSuffix("shared") {
            try mount("", "/", nil, try MountOptions.propagation(named: name), nil, step: "make / \(name)")
        }
    }

    /// After pivot_root: read-only paths, masked paths (in runc's order, which /proc/mounts
    /// shows), and a read-only root.
    func finish() throws {
        for path in spec.linux?.readonlyPaths ?? [] {
            try makeReadOnly(path)
        }
        for path in spec.linux?.maskedPaths ?? [] {
            try mask(path)
        }
        if spec.root?.readonly == true {
            try mount("", "/", nil, UInt(MS_BIND) | UInt(MS_REMOUNT) | UInt(MS_RDONLY), nil,
                      step: "remount / read-only", alsoKeepingLockedFlagsOf: "/")
        }
    }

    // MARK: - mounts

    private func mountEntry(_ entry: Spec.Mount) throws {
        guard entry.destination.hasPrefix("/") else {
            throw ConfigError("mount destination \(entry.destination) is not absolute")
        }
        let options = MountOptions(entry.options ?? [])
        let type = entry.type ?? (options.isBind ? "bind" : "")
        let target = FileSystem.secureJoin(root: rootfs, entry.destination)
        try checkProcDestination(target, type: type, source: entry.source)

        if type == "cgroup" || type == "cgroup2" {
            try mountCgroups(at: target, options: options)
            return
        }
        if options.isBind || type == "bind" {
            guard let source = entry.source else { throw ConfigError("bind mount \(entry.destination) has no source") }
            if FileSystem.isDirectory(source) {
                try FileSystem.makeDirectories(target)
            } else {
                try FileSystem.makeFile(target)
            }
            try mount(source, target, nil, options.flags | UInt(MS_BIND), nil, step: "bind \(source) on \(entry.destination)")
            // A bind mount ignores ro/nosuid/... until it is remounted with them.
            let remountFlags = options.flags & ~(UInt(MS_BIND) | UInt(MS_REC) | UInt(MS_REMOUNT))
            if remountFlags != 0 {
                try mount("", target, nil, remountFlags | UInt(MS_BIND) | UInt(MS_REMOUNT), nil,
                          step: "remount \(entry.destination)", alsoKeepingLockedFlagsOf: target)
            }
        } else {
            let data = options.dataString
            var mountData = data
            // As runc: a tmpfs over what the image has there takes its mode, unless the
            // options name one (later options win), so `--tmpfs /run` keeps /run at 0755.
            if type == "tmpfs", let mode = FileSystem.permissions(target) {
                mountData = "mode=" + String(mode, radix: 8) + (data.isEmpty ? "" : "," + data)
            }
            try FileSystem.makeDirectories(target)
            let source = entry.source ?? type
            if berth_mount(source, target, type, options.flags, mountData.isEmpty ? nil : mountData) != 0 {
                let failure = errno
                // sysfs cannot be mounted without a network namespace of our own: bind the host's.
                if type == "sysfs", failure == EPERM || !newNetworkNamespace {
                    try mount("/sys", target, nil, UInt(MS_BIND) | UInt(MS_REC), nil, step: "bind /sys")
                    try mount("", target, nil, UInt(MS_BIND) | UInt(MS_REMOUNT) | UInt(MS_RDONLY) | UInt(MS_NOSUID) | UInt(MS_NODEV) | UInt(MS_NOEXEC), nil,
                              step: "remount /sys read-only", alsoKeepingLockedFlagsOf: target)
                } else {
                    throw SystemError("mount \(type) on \(entry.destination) (options \(data))", errno: failure)
                }
            }
        }
        for flag in options.propagation {
            try mount("", target, nil, flag, nil, step: "set propagation of \(entry.destination)")
        }
        if options.recursiveAttrSet != 0 || options.recursiveAttrClear != 0 {
            try check("mount_setattr \(entry.destination)",
                      berth_mount_setattr(AT_FDCWD, target, UInt32(BERTH_AT_RECURSIVE),
                                          options.recursiveAttrSet, options.recursiveAttrClear, 0))
        }
    }

    /// cgroup v2: the cgroup2 filesystem (the container has its own cgroup namespace).
    /// cgroup v1: as runc, a tmpfs (writable whatever the mount's options say: systemd in a
    /// container makes its own mounts there) holding, per hierarchy, a bind of this
    /// container's own cgroup with the mount's options (read-only unless privileged), and a
    /// symlink per controller name of a combined hierarchy (cpu → cpu,cpuacct). In a cgroup
    /// namespace each hierarchy is mounted afresh instead of bound: the namespace's root, the
    /// container's cgroup, is what the mount shows.
    private func mountCgroups(at target: String, options: MountOptions) throws {
        try FileSystem.makeDirectories(target)
        let flags = options.flags & ~(UInt(MS_BIND) | UInt(MS_REC))
        if Self.hostCgroupIsUnified {
            try mount("cgroup2", target, "cgroup2", flags, nil, step: "mount cgroup2 on \(target)")
            return
        }
        let hardening = UInt(MS_NOSUID) | UInt(MS_NODEV) | UInt(MS_NOEXEC)
        try mount("tmpfs", target, "tmpfs", hardening, "mode=755", step: "mount tmpfs on \(target)")
        for bind in cgroupBinds {
            let mountPoint = target + "/" + bind.name
            try FileSystem.makeDirectories(mountPoint)
            if inCgroupNamespace {
                // The source names a named hierarchy ("systemd"), as runc's mounts do.
                let source = bind.hierarchy.hasPrefix("name=") ? String(bind.hierarchy.dropFirst(5)) : "cgroup"
                try mount(source, mountPoint, "cgroup", flags | hardening, bind.hierarchy, step: "mount cgroup \(bind.name)")
                continue
            }
            try mount(bind.source, mountPoint, nil, UInt(MS_BIND), nil, step: "bind cgroup \(bind.name)")
            try mount("", mountPoint, nil, UInt(MS_BIND) | UInt(MS_REMOUNT) | flags | hardening, nil,
                      step: "remount cgroup \(bind.name)", alsoKeepingLockedFlagsOf: mountPoint)
        }
        for bind in cgroupBinds where bind.name.contains(",") {
            for alias in bind.name.split(separator: ",") {
                if symlink(bind.name, target + "/" + alias) != 0 && errno != EEXIST {
                    throw SystemError("symlink \(target)/\(alias)")
                }
            }
        }
    }

    // MARK: - /dev

    /// The devices every container gets (as runc and Docker), plus linux.devices.
    static let defaultDevices: [Spec.Device] = [
        .init(type: "c", path: "/dev/null", major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0),
        .init(type: "c", path: "/dev/zero", major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0),
        .init(type: "c", path: "/dev/full", major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0),
        .init(type: "c", path: "/dev/random", major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0),
        .init(type: "c", path: "/dev/urandom", major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0),
        .init(type: "c", path: "/dev/tty", major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0),
    ]

    private var devIsTmpfs: Bool {
        (spec.mounts ?? []).contains { $0.destination == "/dev" && $0.type == "tmpfs" }
    }

    private func createDevices() throws {
        var devices = devIsTmpfs ? Self.defaultDevices : []
        for device in spec.linux?.devices ?? [] {
            devices.removeAll { $0.path == device.path }
            devices.append(device)
        }
        let oldUmask = umask(0)
        defer { umask(oldUmask) }
        for device in devices {
            do {
                try createDevice(device)
            } catch {
                throw ConfigError("error creating device nodes: \(error)")  // runc's words
            }
        }
    }

    /// Files of /proc that lxcfs stands in for: the only mounts allowed inside /proc (runc's list).
    static let procFilesToEmulate: Set<String> = [
        "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps", "/proc/uptime",
        "/proc/loadavg", "/proc/slabinfo", "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
    ]

    /// As runc: /proc takes only a proc mount, and nothing goes inside it but the files lxcfs
    /// emulates; anything else there could cover what the masked and read-only paths guard.
    private func checkProcDestination(_ target: String, type: String, source: String?) throws {
        let proc = rootfs + "/proc"
        let why: String
        if target == proc {
            // A proc mount, or a bind of a proc file system (`-v /proc:/proc`).
            let procMagic = 0x9fa0
            if type == "proc" || source.map({ berth_filesystem_type($0) == procMagic }) == true { return }
            why = "is not of type proc"
        } else if target.hasPrefix(proc + "/"), !Self.procFilesToEmulate.contains(String(target.dropFirst(rootfs.count))) {
            why = "is inside /proc"
        } else {
            return
        }
        throw ConfigError("\"\(target)\" cannot be mounted because it \(why)")
    }

    private func createDevice(_ device: Spec.Device) throws {
        guard device.path.hasPrefix("/dev/") else { throw ConfigError("device path \(device.path) is not under /dev") }
        let target = FileSystem.secureJoin(root: rootfs, device.path)
        try FileSystem.makeDirectories(FileSystem.parent(of: target))
        if inUserNamespace {
            // mknod is not allowed in a user namespace: bind the host's node instead.
            try bindHostNode(device, at: target)
            return
        }
        let kind: mode_t
        switch device.type {
        case "c", "u": kind = S_IFCHR
        case "b": kind = S_IFBLK
        case "p": kind = S_IFIFO
        default: throw ConfigError("device \(device.path) has invalid type \"\(device.type)\"")
        }
        let mode = kind | mode_t(device.fileMode ?? 0o666) & 0o7777
        let dev = berth_makedev(UInt32(device.major ?? 0), UInt32(device.minor ?? 0))
        unlink(target)
        if mknod(target, mode, dev) != 0 {
            // A node that cannot be replaced stays, as runc leaves it: `--device /dev` also
            // names /dev/pts/ptmx, which the container's devpts already has.
            if errno == EEXIST { return }
            // One the kernel will not make here is bound from the host's, as runc does.
            guard errno == EPERM else { throw SystemError("mknod \(target)") }
            try bindHostNode(device, at: target)
            return
        }
        try check("chown \(device.path)", chown(target, device.uid ?? 0, device.gid ?? 0))
    }

    private func bindHostNode(_ device: Spec.Device, at target: String) throws {
        if !FileSystem.exists(target) {
            let fd = open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
            if fd < 0 { throw SystemError("open \(target)") }
            close(fd)
        }
        try mount(device.path, target, nil, UInt(MS_BIND), nil, step: "bind device \(device.path)")
    }

    private func createDevSymlinks() throws {
        guard devIsTmpfs else { return }
        var links = [("/proc/self/fd", "/dev/fd"), ("/proc/self/fd/0", "/dev/stdin"),
                     ("/proc/self/fd/1", "/dev/stdout"), ("/proc/self/fd/2", "/dev/stderr")]
        if FileSystem.exists("/proc/kcore") { links.append(("/proc/kcore", "/dev/core")) }
        let ptmx = FileSystem.secureJoin(root: rootfs, "/dev/ptmx")
        if FileSystem.exists(FileSystem.secureJoin(root: rootfs, "/dev/pts")) {
            unlink(ptmx)
            links.append(("pts/ptmx", "/dev/ptmx"))
        }
        for (target, link) in links {
            let path = FileSystem.secureJoin(root: rootfs, link)
            if symlink(target, path) != 0 && errno != EEXIST { throw SystemError("symlink \(link)") }
        }
    }

    // MARK: - masked and read-only paths (after pivot_root)

    private func mask(_ path: String) throws {
        guard FileSystem.exists(path) else { return }
        if FileSystem.isDirectory(path) {
            try mount("tmpfs", path, "tmpfs", UInt(MS_RDONLY), nil, step: "mask \(path)")
        } else {
            try mount("/dev/null", path, nil, UInt(MS_BIND), nil, step: "mask \(path)")
        }
    }

    private func makeReadOnly(_ path: String) throws {
        guard FileSystem.exists(path) else { return }
        try mount(path, path, nil, UInt(MS_BIND) | UInt(MS_REC), nil, step: "bind \(path) read-only")
        try mount("", path, nil, UInt(MS_BIND) | UInt(MS_REMOUNT) | UInt(MS_RDONLY) | UInt(MS_REC), nil,
                  step: "remount \(path) read-only", alsoKeepingLockedFlagsOf: path)
    }

    // MARK: - mount(2)

    /// mount(2) with the failing step in the error. A bind remount must repeat the flags the
    /// kernel locked on the original mount (nosuid, nodev, noexec, atime) or it fails with EPERM.
    private func mount(_ source: String, _ target: String, _ type: String?, _ flags: UInt, _ data: String?,
                       step: String, alsoKeepingLockedFlagsOf lockedPath: String? = nil) throws {
        var flags = flags
        if let lockedPath {
            var fs = statvfs()
            if statvfs(lockedPath, &fs) == 0 {
                for (st, ms) in Self.lockedFlags where fs.f_flag & st != 0 {
                    flags |= ms
                }
            }
        }
        if berth_mount(source, target, type, flags, data) != 0 {
            throw SystemError(step)
        }
    }

    /// statvfs reports locked flags as ST_* bits; mount(2) wants the MS_* bits.
    /// (ST_NOSUID 2, ST_NODEV 4, ST_NOEXEC 8, ST_NOATIME 1024, ST_NODIRATIME 2048, ST_RELATIME 4096)
    private static let lockedFlags: [(UInt, UInt)] = [
        (2, UInt(MS_NOSUID)), (4, UInt(MS_NODEV)), (8, UInt(MS_NOEXEC)),
        (1024, UInt(MS_NOATIME)), (2048, UInt(MS_NODIRATIME)), (4096, UInt(MS_RELATIME)),
    ]

    /// True when /sys/fs/cgroup is the cgroup2 filesystem (a unified host).
    static var hostCgroupIsUnified: Bool {
        berth_filesystem_type("/sys/fs/cgroup") == 0x6367_7270
    }
}
