import BerthOCI
import CSystemShims
import Glibc
import Testing
@testable import BerthRuntime

/// Runs a generated device program on one request, interpreting exactly the eBPF
/// instructions the generator emits, so the rules' meaning is tested without a kernel.
func runDeviceProgram(_ program: [UInt64], type: String, major: UInt32, minor: UInt32, access: String) throws -> Bool {
    let typeBits: UInt32 = type == "b" ? 1 : 2
    let accessBits = access.reduce(UInt32(0)) { $0 | ($1 == "m" ? 1 : $1 == "r" ? 2 : 4) }
    let context: [UInt32] = [accessBits << 16 | typeBits, major, minor]   // struct bpf_cgroup_dev_ctx
    var registers = [UInt64](repeating: 0, count: 11)
    var pc = 0
    while pc < program.count {
        let instruction = program[pc]
        let code = UInt8(truncatingIfNeeded: instruction)
        let dst = Int((instruction >> 8) & 0xf), src = Int((instruction >> 12) & 0xf)
        let offset = Int(Int16(truncatingIfNeeded: instruction >> 16))
        let immediate = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: instruction >> 32)))
        pc += 1
        switch code {
        case 0x61: registers[dst] = UInt64(context[offset / 4])                        // r = ctx word
        case 0x54: registers[dst] = (registers[dst] & immediate) & 0xffff_ffff           // and32 imm
        case 0x74: registers[dst] = (registers[dst] & 0xffff_ffff) >> immediate          // rsh32 imm
        case 0xbc: registers[dst] = registers[src] & 0xffff_ffff                         // mov32 reg
        case 0xb7: registers[dst] = immediate                                            // mov64 imm
        case 0x55: if registers[dst] != immediate { pc += offset }                       // jne imm
        case 0x5d: if registers[dst] != registers[src] { pc += offset }                  // jne reg
        case 0x15: if registers[dst] == immediate { pc += offset }                       // jeq imm
        case 0x95: return registers[0] == 1                                              // exit
        default: throw ConfigError("unexpected opcode \(code)")
        }
    }
    throw ConfigError("program ran off its end")
}

struct DeviceProgramTests {
    @Test func defaultRulesAllowTheStandardDevicesOnly() throws {
        let program = DeviceRules.bpfProgram(DeviceRules.effective(.init(devices: DefaultSpec.deviceRules))!.devices!)
        #expect(try runDeviceProgram(program, type: "c", major: 1, minor: 3, access: "rw"))     // /dev/null
        #expect(try runDeviceProgram(program, type: "c", major: 136, minor: 4, access: "rw"))   // a pts slave
        #expect(try runDeviceProgram(program, type: "c", major: 5, minor: 2, access: "rwm"))    // ptmx
        #expect(try !runDeviceProgram(program, type: "b", major: 8, minor: 0, access: "r"))     // /dev/sda
        #expect(try !runDeviceProgram(program, type: "c", major: 10, minor: 229, access: "rw")) // fuse
        #expect(try runDeviceProgram(program, type: "b", major: 8, minor: 0, access: "m"))      // mknod is allowed
    }

    @Test func theLastMatchingRuleDecides() throws {
        let program = DeviceRules.bpfProgram([
            .init(allow: false, access: "rwm"),
            .init(allow: true, type: "c", major: 1, access: "rwm"),        // every c 1:*
            .init(allow: false, type: "c", major: 1, minor: 5, access: "w"),
        ])
        #expect(try runDeviceProgram(program, type: "c", major: 1, minor: 3, access: "rw"))
        #expect(try runDeviceProgram(program, type: "c", major: 1, minor: 5, access: "r"))
        // The deny rule covers one of the requested bits, so it decides.
        #expect(try !runDeviceProgram(program, type: "c", major: 1, minor: 5, access: "rw"))
        #expect(try !runDeviceProgram(program, type: "b", major: 1, minor: 3, access: "r"))
        #expect(try !runDeviceProgram(program, type: "c", major: 2, minor: 0, access: "r"))
    }

    @Test func anAllowRuleMustGrantEveryRequestedAccess() throws {
        let program = DeviceRules.bpfProgram([.init(allow: false), .init(allow: true, type: "c", major: 4, minor: 1, access: "r")])
        #expect(try runDeviceProgram(program, type: "c", major: 4, minor: 1, access: "r"))
        #expect(try !runDeviceProgram(program, type: "c", major: 4, minor: 1, access: "rw"))
    }

    @Test func allowAllEndsTheProgram() throws {
        // --privileged: one rule allowing everything; nothing may follow it (the verifier refuses dead code).
        let program = DeviceRules.bpfProgram([.init(allow: true, access: "rwm")])
        #expect(program.count == 6 + 2)
        #expect(try runDeviceProgram(program, type: "b", major: 8, minor: 0, access: "rwm"))
    }

    /// The kernel's verifier accepts what the generator makes (loading needs no cgroup v2).
    @Test(.enabled(if: geteuid() == 0, "needs root")) func kernelLoadsThePrograms() throws {
        let ruleSets: [[Spec.DeviceRule]] = [
            DeviceRules.effective(.init(devices: DefaultSpec.deviceRules))!.devices!,
            [.init(allow: true, access: "rwm")],
            [.init(allow: false), .init(allow: true, type: "c", major: 1, access: "r"),
             .init(allow: false, type: "c", major: 1, minor: 5, access: "w")],
        ]
        for rules in ruleSets {
            let program = DeviceRules.bpfProgram(rules)
            var log = [CChar](repeating: 0, count: 16384)
            let fd = program.withUnsafeBufferPointer {
                berth_bpf_load_device_program($0.baseAddress, UInt32($0.count), &log, UInt32(log.count))
            }
            let verifier = log.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            #expect(fd >= 0, "verifier: \(verifier.suffix(400))")
            if fd >= 0 { close(fd) }
        }
    }
}
