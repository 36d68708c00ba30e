import BerthOCI
import CSystemShims
import Foundation
import Testing
@testable import BerthRuntime

struct CapabilityTests {
    @Test func dockerDefaultsMask() throws {
        #expect(try CapabilitySets.mask(CapabilitySets.dockerDefaults) == 0xa804_25fb)
    }

    @Test func namesWithOrWithoutPrefix() throws {
        #expect(try CapabilitySets.mask(["CAP_KILL", "net_bind_service"]) == (1 << 5) | (1 << 10))
        #expect(throws: ConfigError.self) { try CapabilitySets.mask(["CAP_FLY"]) }
    }

    @Test func missingSectionMeansNoCapabilities() throws {
        let sets = try CapabilitySets(nil)
        #expect(sets.bounding == 0 && sets.effective == 0 && sets.ambient == 0)
    }
}

struct SeccompTranslationTests {
    @Test func actionsAndOperators() throws {
        #expect(try SeccompFilter.action("SCMP_ACT_ALLOW", errno: 1) == berth_seccomp_action(Int32(BERTH_SCMP_ALLOW.rawValue), 0))
        #expect(try SeccompFilter.action("SCMP_ACT_ERRNO", errno: 38) == berth_seccomp_action(Int32(BERTH_SCMP_ERRNO.rawValue), 38))
        #expect(throws: ConfigError.self) { try SeccompFilter.action("SCMP_ACT_MAYBE", errno: 1) }
        #expect(throws: ConfigError.self) { try SeccompFilter.comparison("SCMP_CMP_ROUGHLY") }
    }

    @Test func conditionsOnTheSameArgumentBecomeSeparateRules() throws {
        let sets = try SeccompFilter.splitConditions([
            .init(index: 0, value: 1, op: "SCMP_CMP_EQ"), .init(index: 0, value: 2, op: "SCMP_CMP_EQ"),
            .init(index: 1, value: 7, op: "SCMP_CMP_NE"),
        ])
        #expect(sets.count == 2)
        #expect(sets.map { $0.map(\.value) }.sorted { $0[0] < $1[0] } == [[1, 7], [2, 7]])
        #expect(try SeccompFilter.splitConditions([.init(index: 0, value: 1, op: "SCMP_CMP_EQ")]).count == 1)
        #expect(throws: ConfigError.self) { try SeccompFilter.splitConditions([.init(index: 6, value: 1, op: "SCMP_CMP_EQ")]) }
    }

    @Test func badProfilesAreRefusedBeforeAnythingRuns() {
        #expect(throws: ConfigError.self) { try SeccompFilter(.init(defaultAction: "SCMP_ACT_NOPE")) }
        #expect(throws: ConfigError.self) { try SeccompFilter(.init(defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_Z80"])) }
        #expect(throws: ConfigError.self) {
            try SeccompFilter(.init(defaultAction: "SCMP_ACT_ALLOW", syscalls: [.init(names: ["read"], action: "SCMP_ACT_NOTIFY")]))
        }
    }

    @Test func unknownSyscallNamesAreSkipped() throws {
        let filter = try SeccompFilter(.init(defaultAction: "SCMP_ACT_ALLOW",
                                             syscalls: [.init(names: ["no_such_syscall", "mkdir"], action: "SCMP_ACT_ERRNO")]))
        let path = NSTemporaryDirectory() + "berth-bpf-\(getpid())"
        let fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0o600)
        defer { close(fd); unlink(path) }
        try filter.exportBPF(to: fd)
        let size = lseek(fd, 0, SEEK_END)
        #expect(size > 0 && size % 8 == 0)  // whole sock_filter instructions
    }

    /// libseccomp's binary tree: the kernel runs a new filter once per syscall number to fill
    /// its action cache, so Docker's default profile as a list of comparisons costs every
    /// start and exec about half a millisecond more.
    @Test func defaultProfileCompilesToATreeOfSyscallNumbers() throws {
        let filter = try SeccompFilter(try DefaultSeccomp.spec())
        let path = NSTemporaryDirectory() + "berth-bpf-tree-\(getpid())"
        let fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0o600)
        defer { close(fd); unlink(path) }
        try filter.exportBPF(to: fd)
        let program = try #require(FileManager.default.contents(atPath: path))
        // sock_filter: a little-endian u16 code first; a list compares with BPF_JEQ only, a tree
        // with BPF_JGT/BPF_JGE (a list has a few, for the x32 syscall range).
        let codes = stride(from: 0, to: program.count, by: 8).map { UInt16(program[$0]) | UInt16(program[$0 + 1]) << 8 }
        let rangeJumps = codes.filter { $0 == 0x25 || $0 == 0x35 }.count  // BPF_JMP|BPF_JGT|BPF_K, BPF_JMP|BPF_JGE|BPF_K
        #expect(rangeJumps > 20)
    }
}

struct SeccompProfileTests {
    @Test func builtInProfileIsTheCommittedFile() throws {
        let file = try String(contentsOfFile: Self.packageRoot + "/etc/seccomp/default.json", encoding: .utf8)
        #expect(file == DefaultSeccompProfile.json)
    }

    @Test func capabilitiesDecideWhichRulesApply() throws {
        let profile = try SeccompProfile.builtIn()
        func allowed(_ caps: [String]) -> Set<String> {
            Set(profile.resolve(capabilities: caps, architecture: "amd64", kernel: (6, 1)).syscalls!
                .filter { $0.action == "SCMP_ACT_ALLOW" && $0.args == nil }.flatMap(\.names))
        }
        let defaults = allowed(CapabilitySets.dockerDefaults)
        #expect(defaults.contains("read") && defaults.contains("arch_prctl"))
        #expect(!defaults.contains("mount") && !defaults.contains("unshare"))
        #expect(defaults.contains("ptrace"))
        let admin = allowed(CapabilitySets.dockerDefaults + ["SYS_ADMIN"])
        #expect(admin.contains("mount") && admin.contains("unshare") && admin.contains("setns"))
        // arch_prctl is for amd64 and x32 only.
        let arm = Set(profile.resolve(capabilities: [], architecture: "arm64", kernel: (6, 1)).syscalls!.flatMap(\.names))
        #expect(!arm.contains("arch_prctl"))
        // ptrace needs kernel 4.8 or later.
        let old = Set(profile.resolve(capabilities: [], architecture: "amd64", kernel: (4, 4)).syscalls!.flatMap(\.names))
        #expect(!old.contains("ptrace"))
    }

    @Test func architecturesComeFromTheArchMap() throws {
        let seccomp = try DefaultSeccomp.spec()
        #expect(seccomp.architectures == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
        #expect(seccomp.defaultAction == "SCMP_ACT_ERRNO")
        #expect(seccomp.defaultErrnoRet == 1)
    }

    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
}

/// The compiled-program cache is keyed by the profile's canonical text: two profiles may share
/// a program only when they are equal, so the text must cover every field.
struct SeccompCacheKeyTests {
    static let full = Spec.Seccomp(
        defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 1, architectures: ["SCMP_ARCH_X86_64"], flags: ["SECCOMP_FILTER_FLAG_LOG"],
        listenerPath: "/run/l.sock",
        syscalls: [.init(names: ["read", "write"], action: "SCMP_ACT_ALLOW", errnoRet: 2,
                         args: [.init(index: 0, value: 1, valueTwo: 3, op: "SCMP_CMP_EQ")])])

    @Test func everyFieldOfTheProfileIsInTheKey() {
        // A field added to these types must be added to SeccompCache.canonicalText as well.
        #expect(Mirror(reflecting: Self.full).children.count == 6)
        #expect(Mirror(reflecting: Self.full.syscalls![0]).children.count == 4)
        #expect(Mirror(reflecting: Self.full.syscalls![0].args![0]).children.count == 4)

        var variants: [Spec.Seccomp] = []
        func vary(_ change: (inout Spec.Seccomp) -> Void) {
            var profile = Self.full
            change(&profile)
            variants.append(profile)
        }
        vary { $0.defaultAction = "SCMP_ACT_KILL" }
        vary { $0.defaultErrnoRet = nil }
        vary { $0.architectures = [] }
        vary { $0.flags = nil }
        vary { $0.listenerPath = nil }
        vary { $0.syscalls = nil }
        vary { $0.syscalls = [] }
        vary { $0.syscalls![0].names = ["read"] }
        vary { $0.syscalls![0].names = ["readwrite"] }
        vary { $0.syscalls![0].action = "SCMP_ACT_LOG" }
        vary { $0.syscalls![0].errnoRet = nil }
        vary { $0.syscalls![0].args = nil }
        vary { $0.syscalls![0].args![0].index = 1 }
        vary { $0.syscalls![0].args![0].value = 2 }
        vary { $0.syscalls![0].args![0].valueTwo = nil }
        vary { $0.syscalls![0].args![0].op = "SCMP_CMP_NE" }
        let keys = ([Self.full] + variants).map { SeccompCache(directory: "/x", spec: $0).key }
        #expect(Set(keys).count == keys.count)
        #expect(SeccompCache(directory: "/x", spec: Self.full).key == SeccompCache(directory: "/y", spec: Self.full).key)
    }

    /// Strings carry their length: moving a boundary between names changes the key.
    @Test func splitNamesDoNotCollide() {
        var one = Self.full
        one.syscalls![0].names = ["ab", "c"]
        var other = Self.full
        other.syscalls![0].names = ["a", "bc"]
        #expect(SeccompCache.canonicalText(one) != SeccompCache.canonicalText(other))
    }
}
