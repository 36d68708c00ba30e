import BerthOCI
import CSystemShims
import FoundationEssentials
import Glibc

/// A seccomp filter from the spec's linux.seccomp, compiled by libseccomp in the runtime's
/// parent (so a bad profile fails before anything runs) and loaded in the container's init.
/// Compiling Docker's default profile costs more than the rest of a container start, so
/// compiled programs are kept in a cache and reused for the same profile.
public final class SeccompFilter {
    private let context: UnsafeMutableRawPointer?
    /// The BPF program, when it can be loaded as is (not with a notify listener).
    private let program: [UInt8]?
    /// The cache file that holds `program`, when the cache has it.
    public private(set) var cachedProgramPath: String?

    /// Where compiled programs are kept (the runtime's root); nil: no cache.
    nonisolated(unsafe) public static var cacheDirectory: String?

    /// From the profile's JSON text (linux.seccomp as config.json has it): the program comes
    /// from the cache when it holds this text, which is then never decoded.
    public convenience init(profileText: [UInt8]) throws {
        let cache = Self.cacheDirectory.map { SeccompCache(directory: $0, profileText: profileText) }
        if let cache, let cached = cache.lookup() {
            self.init(program: cached)
            cachedProgramPath = cache.programPath
            return
        }
        let spec: Spec.Seccomp
        do {
            spec = try JSONDecoder().decode(Spec.Seccomp.self, from: Data(profileText))
        } catch {
            throw ConfigError("config.json: linux.seccomp: \(error)")
        }
        try self.init(spec, cache: cache)
    }

    /// From a decoded profile: compiled every time.
    public convenience init(_ spec: Spec.Seccomp) throws {
        try self.init(spec, cache: nil)
    }

    private init(_ spec: Spec.Seccomp, cache: SeccompCache?) throws {
        let notifies = (spec.syscalls ?? []).contains { $0.action == "SCMP_ACT_NOTIFY" }
        let context = try Self.build(spec)
        if notifies {
            self.context = context
            program = nil
            return
        }
        defer { berth_seccomp_free(context) }
        var bytes: UnsafeMutablePointer<UInt8>?
        var length = 0
        let result = berth_seccomp_export_program(context, &bytes, &length)
        if result != 0 { throw SystemError("seccomp: compile filter", errno: -result) }
        defer { free(bytes) }
        let compiled = Array(UnsafeBufferPointer(start: bytes, count: length))
        self.context = nil
        program = compiled
        if let cache, cache.store(compiled) { cachedProgramPath = cache.programPath }
    }

    /// A program compiled before (see `compiledProgram`).
    public init(program: [UInt8]) {
        context = nil
        self.program = program
    }

    /// The BPF program to keep for later loads; nil when the filter has a notify listener.
    public var compiledProgram: [UInt8]? { program }

    private static func build(_ spec: Spec.Seccomp) throws -> UnsafeMutableRawPointer {
        let defaultErrno = spec.defaultErrnoRet ?? UInt32(EPERM)
        guard let context = berth_seccomp_new(try Self.action(spec.defaultAction, errno: defaultErrno)) else {
            throw ConfigError("seccomp: cannot initialise a filter")
        }
        do {
            for arch in spec.architectures ?? [] {
                guard let name = SeccompFeatures.architectureNames[arch] else {
                    throw ConfigError("seccomp: unknown architecture \"\(arch)\"")
                }
                let result = berth_seccomp_add_arch(context, name)
                // An architecture this libseccomp or kernel cannot handle is skipped, as runc does.
                if result != 0 && result != -EINVAL && result != -EDOM {
                    throw SystemError("seccomp: add architecture \(arch)", errno: -result)
                }
            }
            for rule in spec.syscalls ?? [] {
                if rule.action == "SCMP_ACT_NOTIFY" && spec.listenerPath == nil {
                    throw ConfigError("seccomp: SCMP_ACT_NOTIFY needs a listenerPath")
                }
                let action = try Self.action(rule.action, errno: rule.errnoRet ?? UInt32(EPERM))
                for argumentSet in try Self.splitConditions(rule.args ?? []) {
                    for name in rule.names {
                        let result = argumentSet.withUnsafeBufferPointer {
                            berth_seccomp_add_rule(context, action, name, $0.baseAddress, UInt32($0.count))
                        }
                        if result < 0 { throw SystemError("seccomp: add rule for \(name)", errno: -result) }
                    }
                }
            }
        } catch {
            berth_seccomp_free(context)
            throw error
        }
        return context
    }

    deinit { if let context { berth_seccomp_free(context) } }

    /// Loads the filter into the calling process (and so every process it execs).
    public func load() throws {
        let result: Int32
        if let program {
            result = program.withUnsafeBytes { berth_seccomp_load_program($0.baseAddress, $0.count) }
        } else {
            result = berth_seccomp_load(context)
        }
        if result != 0 { throw SystemError("seccomp: load filter", errno: -result) }
    }

    /// Writes the compiled BPF program, e.g. to check what a profile turns into.
    public func exportBPF(to fd: Int32) throws {
        if let program {
            let written = program.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written != program.count { throw SystemError("seccomp: export BPF") }
            return
        }
        let result = berth_seccomp_export_bpf(context, fd)
        if result != 0 { throw SystemError("seccomp: export BPF", errno: -result) }
    }

    static func action(_ name: String, errno: UInt32) throws -> UInt32 {
        let kind: Int32
        switch name {
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": kind = Int32(BERTH_SCMP_KILL_THREAD.rawValue)
        case "SCMP_ACT_KILL_PROCESS": kind = Int32(BERTH_SCMP_KILL_PROCESS.rawValue)
        case "SCMP_ACT_TRAP": kind = Int32(BERTH_SCMP_TRAP.rawValue)
        case "SCMP_ACT_ERRNO": kind = Int32(BERTH_SCMP_ERRNO.rawValue)
        case "SCMP_ACT_TRACE": kind = Int32(BERTH_SCMP_TRACE.rawValue)
        case "SCMP_ACT_ALLOW": kind = Int32(BERTH_SCMP_ALLOW.rawValue)
        case "SCMP_ACT_LOG": kind = Int32(BERTH_SCMP_LOG.rawValue)
        case "SCMP_ACT_NOTIFY": kind = Int32(BERTH_SCMP_NOTIFY.rawValue)
        default: throw ConfigError("string \(name) is not a valid action for seccomp")  // runc's words
        }
        return berth_seccomp_action(kind, errno)
    }

    static func comparison(_ name: String) throws -> Int32 {
        switch name {
        case "SCMP_CMP_NE": return Int32(BERTH_SCMP_NE.rawValue)
        case "SCMP_CMP_LT": return Int32(BERTH_SCMP_LT.rawValue)
        case "SCMP_CMP_LE": return Int32(BERTH_SCMP_LE.rawValue)
        case "SCMP_CMP_EQ": return Int32(BERTH_SCMP_EQ.rawValue)
        case "SCMP_CMP_GE": return Int32(BERTH_SCMP_GE.rawValue)
        case "SCMP_CMP_GT": return Int32(BERTH_SCMP_GT.rawValue)
        case "SCMP_CMP_MASKED_EQ": return Int32(BERTH_SCMP_MASKED_EQ.rawValue)
        default: throw ConfigError("seccomp: unknown operator \"\(name)\"")
        }
    }

    /// libseccomp accepts one condition per argument index in a rule. Conditions that repeat
    /// an index are alternatives (as in runc): each becomes its own rule with the others.
    static func splitConditions(_ args: [Spec.SyscallArg]) throws -> [[berth_seccomp_arg]] {
        let converted = try args.map { arg -> berth_seccomp_arg in
            guard arg.index < 6 else { throw ConfigError("seccomp: argument index \(arg.index) is above 5") }
            return berth_seccomp_arg(index: arg.index, op: try comparison(arg.op), value: arg.value,
                                     value_two: arg.valueTwo ?? 0)
        }
        let indexes = Set(converted.map(\.index))
        if indexes.count == converted.count { return [converted] }
        // Every combination that takes one condition per repeated index.
        var sets: [[berth_seccomp_arg]] = [[]]
        for index in indexes.sorted() {
            let choices = converted.filter { $0.index == index }
            sets = sets.flatMap { partial in choices.map { partial + [$0] } }
        }
        return sets
    }
}

/// What the seccomp translation knows, for `berth-runtime features`.
public enum SeccompFeatures {
    public static let actions = [
        "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
        "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP",
    ]
    public static let operators = [
        "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE",
    ]
    /// OCI architecture names → libseccomp's.
    public static let architectureNames: [String: String] = [
        "SCMP_ARCH_X86": "x86", "SCMP_ARCH_X86_64": "x86_64", "SCMP_ARCH_X32": "x32",
        "SCMP_ARCH_ARM": "arm", "SCMP_ARCH_AARCH64": "aarch64",
        "SCMP_ARCH_MIPS": "mips", "SCMP_ARCH_MIPS64": "mips64", "SCMP_ARCH_MIPS64N32": "mips64n32",
        "SCMP_ARCH_MIPSEL": "mipsel", "SCMP_ARCH_MIPSEL64": "mipsel64", "SCMP_ARCH_MIPSEL64N32": "mipsel64n32",
        "SCMP_ARCH_PPC": "ppc", "SCMP_ARCH_PPC64": "ppc64", "SCMP_ARCH_PPC64LE": "ppc64le",
        "SCMP_ARCH_S390": "s390", "SCMP_ARCH_S390X": "s390x", "SCMP_ARCH_RISCV64": "riscv64",
    ]
    public static var architectures: [String] { architectureNames.keys.sorted() }
}
