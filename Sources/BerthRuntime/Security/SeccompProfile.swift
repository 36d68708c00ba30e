import BerthOCI
import FoundationEssentials
import Glibc

/// A seccomp profile in Docker's format (`docker run --security-opt seccomp=FILE`): the OCI
/// shape plus an architecture map and per-rule conditions on capabilities, architecture and
/// kernel version. `resolve` turns it into the linux.seccomp of one container.
public struct SeccompProfile: Decodable, Sendable {
    public struct ArchitectureMap: Decodable, Sendable {
        public var architecture: String
        public var subArchitectures: [String]?
    }

    public struct Condition: Decodable, Sendable {
        public var caps: [String]?
        public var arches: [String]?
        public var minKernel: String?
    }

    public struct Rule: Decodable, Sendable {
        public var names: [String]?
        public var name: String?          // older profiles name a single syscall
        public var action: String
        public var errnoRet: UInt32?
        public var args: [Spec.SyscallArg]?
        public var includes: Condition?
        public var excludes: Condition?
    }

    /// Absent in a profile of `{}`, which, with no rules either, means no filter (see isEmpty).
    public var defaultAction: String?
    public var defaultErrnoRet: UInt32?
    public var archMap: [ArchitectureMap]?
    public var architectures: [String]?
    public var syscalls: [Rule]?

    public init(json: String) throws {
        do {
            self = try JSONDecoder().decode(SeccompProfile.self, from: Data(json.utf8))
        } catch {
            throw ConfigError("seccomp profile is not valid JSON: \(error)")
        }
    }

    /// No default action and no rules: Docker runs the container without a filter.
    public var isEmpty: Bool { (defaultAction ?? "").isEmpty && (syscalls ?? []).isEmpty }

    /// The project's default profile (etc/seccomp/default.json), compiled in; decoded once
    /// (every container start asks for it).
    public static func builtIn() throws -> SeccompProfile {
        try decodedBuiltIn.get()
    }

    private static let decodedBuiltIn = Result<SeccompProfile, any Error> { try SeccompProfile(json: DefaultSeccompProfile.json) }

    /// Docker names architectures in rule conditions as Go does; the archMap uses libseccomp's.
    static let seccompArchitecture: [String: String] = [
        "amd64": "SCMP_ARCH_X86_64", "386": "SCMP_ARCH_X86", "arm64": "SCMP_ARCH_AARCH64", "arm": "SCMP_ARCH_ARM",
        "ppc64le": "SCMP_ARCH_PPC64LE", "s390x": "SCMP_ARCH_S390X", "riscv64": "SCMP_ARCH_RISCV64",
        "mips64": "SCMP_ARCH_MIPS64", "mips64le": "SCMP_ARCH_MIPSEL64",
    ]

    /// The rules that apply to a container with these capabilities (names with or without
    /// CAP_) on this architecture (Go's name: "amd64") and kernel, as Docker selects them.
    public func resolve(capabilities: [String], architecture: String = SeccompProfile.hostArchitecture,
                        kernel: (Int, Int) = SeccompProfile.runningKernel) -> Spec.Seccomp {
        let caps = Set(capabilities.map { $0.hasPrefix("CAP_") ? $0 : "CAP_" + $0 })
        let arches: [String]
        let native = Self.seccompArchitecture[architecture] ?? ""
        if let entry = archMap?.first(where: { $0.architecture == native }) {
            arches = [entry.architecture] + (entry.subArchitectures ?? [])
        } else {
            arches = architectures ?? []
        }
        var syscalls: [Spec.Syscall] = []
        for rule in self.syscalls ?? [] {
            if let includes = rule.includes {
                if let required = includes.caps, !required.allSatisfy(caps.contains) { continue }
                if let only = includes.arches, !only.isEmpty, !only.contains(architecture) { continue }
                if let minimum = includes.minKernel, let version = Self.parseVersion(minimum), kernel < version { continue }
            }
            if let excludes = rule.excludes {
                if let refused = excludes.caps, refused.contains(where: caps.contains) { continue }
                if let refused = excludes.arches, refused.contains(architecture) { continue }
            }
            let names = rule.names ?? rule.name.map { [$0] } ?? []
            guard !names.isEmpty else { continue }
            syscalls.append(.init(names: names, action: rule.action, errnoRet: rule.errnoRet, args: rule.args))
        }
        return Spec.Seccomp(defaultAction: defaultAction ?? "", defaultErrnoRet: defaultErrnoRet,
                            architectures: arches, syscalls: syscalls)
    }

    static func parseVersion(_ text: String) -> (Int, Int)? {
        let parts = text.split(separator: ".").compactMap { Int($0.prefix { $0.isNumber }) }
        guard parts.count >= 2 else { return nil }
        return (parts[0], parts[1])
    }

    /// The running kernel's major.minor, from uname.
    public static let runningKernel: (Int, Int) = {
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: name.release) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return parseVersion(release) ?? (0, 0)
    }()

    /// This machine's architecture in Go's naming ("amd64", "arm64", ...).
    public static let hostArchitecture: String = {
        var name = utsname()
        uname(&name)
        let machine = withUnsafeBytes(of: name.machine) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        let goNames = ["x86_64": "amd64", "aarch64": "arm64", "i686": "386", "i386": "386", "armv7l": "arm",
                       "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64", "mips64": "mips64"]
        return goNames[machine] ?? machine
    }()
}

/// The seccomp section Docker gives a container by default: the built-in profile resolved
/// for Docker's default capabilities.
public enum DefaultSeccomp {
    public static func spec(capabilities: [String] = CapabilitySets.dockerDefaults) throws -> Spec.Seccomp {
        try SeccompProfile.builtIn().resolve(capabilities: capabilities)
    }
}
