import CBerthShim
import Foundation
import Testing

/// The shim's C side of the exec plan (berth_exec_plan_parse): what berthd sends is taken,
/// anything else is refused with a reason before anything is forked.
struct ExecPlanParseTests {
    /// nil when the plan is taken, else the reason given.
    func refusal(_ entries: [String]) -> String? {
        var bytes: [CChar] = []
        for entry in entries { bytes += entry.utf8.map { CChar(bitPattern: $0) } + [0] }
        var error = [CChar](repeating: 0, count: 256)
        let size = error.count
        let plan = bytes.withUnsafeBufferPointer { berth_exec_plan_parse($0.baseAddress, $0.count, &error, size) }
        guard let plan else { return String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        berth_exec_plan_free(plan)
        return nil
    }

    let minimal = ["arg=true", "cwd=/", "user=0,0", "caps=0,0,0,0,0"]

    @Test func whatBerthdSendsIsTaken() {
        #expect(refusal(minimal) == nil)
        #expect(refusal(minimal + ["arg=-c", "env=A=b=c", "env=EMPTY=", "groups=1,2,3"]) == nil)
        #expect(refusal(minimal + ["arg=a b", "env=PATH=/bin", "groups=10,20", "umask=18", "nnp=1",
                                   "rlimit=RLIMIT_NOFILE,1024,4096", "rlimit=RLIMIT_NPROC,5,5", "cgroup=/sys/fs/cgroup/x/tasks"]) == nil)
        #expect(refusal(["arg=x", "cwd=/", "user=4294967295,4294967295", "caps=18446744073709551615,0,0,0,0"]) == nil)
    }

    @Test func missingOrMalformedEntriesAreRefused() {
        let required = "exec plan: args, an absolute cwd, user and caps are required"
        #expect(refusal(["cwd=/", "user=0,0", "caps=0,0,0,0,0"]) == required)
        #expect(refusal(["arg=true", "cwd=tmp", "user=0,0", "caps=0,0,0,0,0"]) == required)
        #expect(refusal(["arg=true", "cwd=/", "caps=0,0,0,0,0"]) == required)
        #expect(refusal(["arg=true", "cwd=/", "user=0,0"]) == required)
        #expect(refusal(minimal + ["noequals"]) == "exec plan: entry without a value: noequals")
        #expect(refusal(minimal + ["bogus=1"]) == "exec plan: unknown entry bogus")
        #expect(refusal(minimal + ["cwd=/tmp"]) == "exec plan: cwd given twice")
        #expect(refusal(minimal + ["groups=1", "groups=2"]) == "exec plan: groups given twice")
        #expect(refusal(["arg=x", "cwd=/", "user=a,0", "caps=0,0,0,0,0"]) == "exec plan: bad user value a")
        #expect(refusal(["arg=x", "cwd=/", "user=4294967296,0", "caps=0,0,0,0,0"])?.hasPrefix("exec plan: bad user value") == true)
        #expect(refusal(["arg=x", "cwd=/", "user=0,0", "caps=1,2,3,4"])?.hasPrefix("exec plan: bad caps value") == true)
        #expect(refusal(["arg=x", "cwd=/", "user=-1,0", "caps=0,0,0,0,0"])?.hasPrefix("exec plan: bad user value") == true)
        #expect(refusal(minimal + ["umask=512"]) == "exec plan: bad umask value 512")
        #expect(refusal(minimal + ["groups=1,,2"])?.hasPrefix("exec plan: bad groups value") == true)
    }

    @Test func limitsAreChecked() {
        #expect(refusal(minimal + ["rlimit=RLIMIT_FOO,1,2"]) == "rlimit RLIMIT_FOO is not a known resource")
        #expect(refusal(minimal + ["rlimit=RLIMIT_NOFILE,10,5"]) == "rlimit RLIMIT_NOFILE: soft limit 10 is above the hard limit 5")
        #expect(refusal(minimal + ["rlimit=RLIMIT_NOFILE,10"])?.hasPrefix("exec plan: bad rlimit value") == true)
    }

    @Test func theSeccompProgramMustBeABPFProgram() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("berth-plan-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = directory.appendingPathComponent("good.bpf").path
        // One instruction: return ALLOW (8 bytes).
        try Data([0x06, 0, 0, 0, 0, 0, 0xff, 0x7f]).write(to: URL(fileURLWithPath: good))
        #expect(refusal(minimal + ["seccomp=\(good)"]) == nil)
        let odd = directory.appendingPathComponent("odd.bpf").path
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: odd))
        #expect(refusal(minimal + ["seccomp=\(odd)"]) == "seccomp program \(odd) is not a BPF program")
        #expect(refusal(minimal + ["seccomp=\(directory.path)/missing"]) == "open seccomp program \(directory.path)/missing: No such file or directory")
    }
}
