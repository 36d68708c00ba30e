@testable import BerthEngine
import BerthOCI
import BerthRuntime
import Testing

/// The plan berthd sends the shim for an exec (parsed by berth_exec_spawn's C side).
@Suite struct ExecPlanTests {
    func entries(_ plan: [UInt8]) -> [String] {
        #expect(plan.last == 0)
        return plan.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func everyPartOfTheProcessIsAnEntry() throws {
        let process = Spec.Process(
            user: .init(uid: 1000, gid: 100, umask: 0o027, additionalGids: [10, 20]),
            args: ["sh", "-c", "echo a=b c"], env: ["PATH=/bin", "EMPTY="], cwd: "/work dir",
            capabilities: .init(bounding: ["CAP_CHOWN", "KILL"], effective: ["CAP_KILL"], inheritable: nil,
                                permitted: ["CAP_KILL"], ambient: nil),
            rlimits: [.init(type: "RLIMIT_NOFILE", hard: 4096, soft: 1024)], noNewPrivileges: true)
        let join = JoinFacts(cgroupFiles: ["/sys/fs/cgroup/memory/berth/x/tasks", "/sys/fs/cgroup/pids/berth/x/tasks"],
                             seccompProgram: "/run/berth/runtime/x/seccomp.bpf")
        let plan = try ExecPlan.encode(process, capabilities: CapabilitySets(process.capabilities), join: join)
        // CHOWN is 0 and KILL 5: bounding 0b100001, the others KILL alone.
        #expect(entries(plan) == [
            "arg=sh", "arg=-c", "arg=echo a=b c", "env=PATH=/bin", "env=EMPTY=", "cwd=/work dir", "user=1000,100",
            "groups=10,20", "umask=23", "caps=33,32,32,0,0", "nnp=1", "rlimit=RLIMIT_NOFILE,1024,4096",
            "seccomp=/run/berth/runtime/x/seccomp.bpf",
            "cgroup=/sys/fs/cgroup/memory/berth/x/tasks", "cgroup=/sys/fs/cgroup/pids/berth/x/tasks",
        ])
    }

    @Test func optionalPartsAreLeftOut() throws {
        let process = Spec.Process(args: ["true"])
        let plan = try ExecPlan.encode(process, capabilities: CapabilitySets(nil), join: JoinFacts(cgroupFiles: [], seccompProgram: nil))
        #expect(entries(plan) == ["arg=true", "cwd=/", "user=0,0", "caps=0,0,0,0,0"])
    }

    /// Entries end at a NUL byte, so none may be inside one; and there must be a command.
    @Test func whatTheShimCouldNotReadIsRefused() {
        let join = JoinFacts(cgroupFiles: [], seccompProgram: nil)
        #expect(throws: BerthError.self) {
            try ExecPlan.encode(Spec.Process(args: ["echo", "a\u{0}b"]), capabilities: CapabilitySets(nil), join: join)
        }
        #expect(throws: BerthError.self) {
            try ExecPlan.encode(Spec.Process(args: ["true"], env: ["A=\u{0}"]), capabilities: CapabilitySets(nil), join: join)
        }
        #expect(throws: BerthError.self) {
            try ExecPlan.encode(Spec.Process(args: []), capabilities: CapabilitySets(nil), join: join)
        }
    }
}
