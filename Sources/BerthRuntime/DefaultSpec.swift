import BerthOCI

/// The config.json that `berth-runtime spec` writes: what Docker gives a container by default
/// (capabilities, mounts, masked and read-only paths, device rules), running `sh` on a terminal.
public enum DefaultSpec {
    public static let maskedPaths = [
        "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
        "/sys/devices/virtual/powercap",
    ]
    public static let readonlyPaths = [
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
    ]

    public static let mounts: [Spec.Mount] = [
        .init(destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"]),
        .init(destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
        .init(destination: "/dev/pts", type: "devpts", source: "devpts",
              options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
        .init(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]),
        .init(destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["ro", "nosuid", "noexec", "nodev"]),
        .init(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
        .init(destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
    ]

    /// Docker's device cgroup rules: deny everything, then the standard character devices.
    public static let deviceRules: [Spec.DeviceRule] =
        [.init(allow: false, access: "rwm")] + DeviceRules.standardDevices
            + [.init(allow: false, type: "c", major: 10, minor: 229, access: "rwm")]  // fuse

    public static func make(args: [String] = ["sh"], terminal: Bool = true, seccomp: Spec.Seccomp? = nil) -> Spec {
        let caps = CapabilitySets.dockerDefaults.map { "CAP_" + $0 }
        var namespaces: [Spec.Namespace] = [.init(type: "pid"), .init(type: "network"), .init(type: "ipc"),
                                            .init(type: "uts"), .init(type: "mount")]
        if RootfsBuilder.hostCgroupIsUnified { namespaces.append(.init(type: "cgroup")) }
        return Spec(
            ociVersion: "1.2.0",
            process: .init(
                terminal: terminal, user: .init(uid: 0, gid: 0), args: args,
                env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
                cwd: "/",
                capabilities: .init(bounding: caps, effective: caps, permitted: caps),
                rlimits: nil, noNewPrivileges: false),
            root: .init(path: "rootfs", readonly: false),
            hostname: "berth",
            mounts: mounts,
            linux: .init(resources: .init(devices: deviceRules), namespaces: namespaces, seccomp: seccomp,
                         maskedPaths: maskedPaths, readonlyPaths: readonlyPaths))
    }
}
