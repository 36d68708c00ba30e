import BerthOCI

/// What `berth-runtime features` prints: the shape of runc's features document, filled in
/// with what this runtime honours.
public struct RuntimeFeatures: Encodable {
    public var ociVersionMin = "1.0.0"
    public var ociVersionMax = "1.2.0"
    public var hooks: [String] = []
    public var mountOptions: [String]
    public var linux: Linux
    public var annotations: [String: String]

    public struct Linux: Encodable {
        public var namespaces: [String]
        public var capabilities: [String]
        public var cgroup: Cgroup
        public var seccomp: Seccomp
        public var apparmor = Toggle(enabled: false)
        public var selinux = Toggle(enabled: false)
        public var intelRdt = Toggle(enabled: false)
        public var mountExtensions = MountExtensions()
    }

    public struct Cgroup: Encodable {
        public var v1 = true
        public var v2 = true
        public var systemd = false
        public var systemdUser = false
        public var rdma = false
    }

    public struct Seccomp: Encodable {
        public var enabled = true
        public var actions: [String]
        public var operators: [String]
        public var archs: [String]
        public var knownFlags: [String] = []
        public var supportedFlags: [String] = []
    }

    public struct Toggle: Encodable {
        public var enabled: Bool
    }

    public struct MountExtensions: Encodable {
        public var idmap = Toggle(enabled: false)
    }

    public static func current() -> RuntimeFeatures {
        let options = Array(MountOptions.flagOptions.keys) + Array(MountOptions.propagationOptions.keys)
            + Array(MountOptions.recursiveOptions.keys)
        return RuntimeFeatures(
            mountOptions: options.sorted(),
            linux: Linux(
                namespaces: NamespacePlan.cloneFlags.keys.sorted(),
                capabilities: CapabilitySets.allNames.map { $0.hasPrefix("CAP_") ? $0 : "CAP_" + $0 },
                cgroup: Cgroup(),
                seccomp: Seccomp(actions: SeccompFeatures.actions, operators: SeccompFeatures.operators,
                                 archs: SeccompFeatures.architectures)),
            annotations: ["org.opencontainers.runc.checkpoint.enabled": "false",
                          "io.github.berth.runtime.version": "0.1.0"])
    }
}
