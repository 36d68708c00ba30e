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

/// The compiled-program cache is keyed by the profile's JSON text, read from config.json
/// without decoding it.
struct SeccompCacheTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func theProfileIsFoundInTheConfigsText() {
        func found(_ json: String) -> String? {
            JSONMemberScan.valueRange(at: ["linux", "seccomp"], in: Self.bytes(json)).map { String(decoding: Self.bytes(json)[$0], as: UTF8.self) }
        }
        #expect(found(#"{"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"}}}"#) == #"{"defaultAction":"SCMP_ACT_ALLOW"}"#)
        // The name elsewhere (a value, a deeper object, another section) is not it; strings
        // with quotes and brackets are skipped whole.
        let decoys = #"{ "process": {"args": ["seccomp", "a\"}]"]}, "seccomp": 1,"# + "\n"
            + #"  "linux" : { "resources": {"seccomp": 2}, "note": "x\\", "seccomp" : [1, {"b": "]"}] , "z": null } }"#
        #expect(found(decoys) == #"[1, {"b": "]"}]"#)
        #expect(found(#"{"linux":{"seccomp":null}}"#) == "null")
        // Not plain enough to be sure: everything is decoded instead.
        #expect(found(#"{"linux":{"namespaces":[]}}"#) == nil)
        #expect(found(#"{"linux":{"seccomp":{},"seccomp":{"a":1}}}"#) == nil)
        #expect(found(#"{"linux":{"secc\u006fmp":{}}}"#) == nil)
        #expect(found(#"{"linux":{"seccomp":{"a":[1,2}"#) == nil)
        #expect(found(#"{"linux":{"seccomp" {}}}"#) == nil)
        #expect(found(#"["linux"]"#) == nil)
    }

    @Test func keysDifferWithTheTextAndNotWithTheDirectory() {
        let text = Self.bytes(#"{"defaultAction":"SCMP_ACT_ERRNO"}"#)
        #expect(SeccompCache(directory: "/x", profileText: text).key == SeccompCache(directory: "/y", profileText: text).key)
        #expect(SeccompCache(directory: "/x", profileText: text).key != SeccompCache(directory: "/x", profileText: Self.bytes(#"{"defaultAction":"SCMP_ACT_KILL"}"#)).key)
    }

    /// The first create compiles and stores the program; later ones take it by the text alone.
    @Test func aProfileIsCompiledOnceAndThenTakenFromTheCache() throws {
        let directory = NSTemporaryDirectory() + "berth-seccomp-cache-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        SeccompFilter.cacheDirectory = directory
        defer { SeccompFilter.cacheDirectory = nil }
        let text = Self.bytes(#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}"#)
        let first = try SeccompFilter(profileText: text)
        let path = try #require(first.cachedProgramPath)
        #expect(FileManager.default.fileExists(atPath: path))
        let second = try SeccompFilter(profileText: text)
        #expect(second.cachedProgramPath == path && second.compiledProgram == first.compiledProgram)
        // A hit never decodes the text: a program stored for text that is no profile is taken.
        let notJSON = Self.bytes("not a profile")
        #expect(SeccompCache(directory: directory, profileText: notJSON).store(first.compiledProgram!))
        #expect(try SeccompFilter(profileText: notJSON).compiledProgram == first.compiledProgram)
        // A miss decodes it, with the config's error.
        #expect(throws: ConfigError.self) { try SeccompFilter(profileText: Self.bytes("[1]")) }
    }
}
