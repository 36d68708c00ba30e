import BerthOCI

/// linux.resources.devices, as cgroup v1 lines and as a cgroup v2 BPF program.
/// Semantics as in runc: rules apply in order and the last rule that matches decides;
/// a device no rule matches is denied. In the BPF program an allow rule matches a request
/// only when it grants every access asked for, and a deny rule when it covers any of them.
public enum DeviceRules {
    /// v1: ("devices.allow" | "devices.deny", "c 1:3 rwm") per rule, in order.
    public static func v1Lines(_ rules: [Spec.DeviceRule]) -> [(file: String, line: String)] {
        rules.map { rule in
            let type = rule.type ?? "a"
            let major = rule.major.map { $0 < 0 ? "*" : String($0) } ?? "*"
            let minor = rule.minor.map { $0 < 0 ? "*" : String($0) } ?? "*"
            return (rule.allow ? "devices.allow" : "devices.deny", "\(type) \(major):\(minor) \(access(rule))")
        }
    }

    /// A rule's access; none given means all of "rwm", as in runc.
    static func access(_ rule: Spec.DeviceRule) -> String {
        guard let access = rule.access, !access.isEmpty else { return "rwm" }
        return access
    }

    /// The character devices every container has: null, zero, full, random, urandom, tty,
    /// console, ptmx, the pts/* slaves and net/tun.
    public static let standardDevices: [Spec.DeviceRule] = [
        .init(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),
        .init(allow: true, type: "c", major: 1, minor: 5, access: "rwm"),
        .init(allow: true, type: "c", major: 1, minor: 7, access: "rwm"),
        .init(allow: true, type: "c", major: 1, minor: 8, access: "rwm"),
        .init(allow: true, type: "c", major: 1, minor: 9, access: "rwm"),
        .init(allow: true, type: "c", major: 5, minor: 0, access: "rwm"),
        .init(allow: true, type: "c", major: 5, minor: 1, access: "rwm"),
        .init(allow: true, type: "c", major: 5, minor: 2, access: "rwm"),
        .init(allow: true, type: "c", major: 136, access: "rwm"),
        .init(allow: true, type: "c", major: 10, minor: 200, access: "rwm"),
    ]

    /// What every container may use whatever its spec says (as runc adds): mknod of any node
    /// (the device cgroup still decides what can be opened) and the standard devices.
    public static let alwaysAllowed: [Spec.DeviceRule] =
        [.init(allow: true, type: "c", access: "m"), .init(allow: true, type: "b", access: "m")] + standardDevices

    /// The rules a container's cgroup gets: the spec's, then the always-allowed ones. A device
    /// the spec creates gets no rule of its own, as in runc: `--device X:r` is readable only.
    /// A spec without rules leaves the cgroup's devices alone.
    public static func effective(_ resources: Spec.Resources?) -> Spec.Resources? {
        guard var resources, let rules = resources.devices, !rules.isEmpty else { return resources }
        resources.devices = rules + alwaysAllowed
        return resources
    }

    // eBPF opcodes used below.
    static let loadWord: UInt8 = 0x61      // BPF_LDX | BPF_MEM | BPF_W
    static let andImmediate: UInt8 = 0x54  // BPF_ALU | BPF_AND | BPF_K
    static let shiftRight: UInt8 = 0x74    // BPF_ALU | BPF_RSH | BPF_K
    static let moveRegister: UInt8 = 0xbc  // BPF_ALU | BPF_MOV | BPF_X
    static let moveImmediate: UInt8 = 0xb7 // BPF_ALU64 | BPF_MOV | BPF_K
    static let jumpIfNotEqual: UInt8 = 0x55        // BPF_JMP | BPF_JNE | BPF_K
    static let jumpIfNotEqualRegister: UInt8 = 0x5d // BPF_JMP | BPF_JNE | BPF_X
    static let jumpIfEqual: UInt8 = 0x15           // BPF_JMP | BPF_JEQ | BPF_K
    static let exit: UInt8 = 0x95

    /// One eBPF instruction: opcode, dst and src registers, offset, immediate.
    static func instruction(_ code: UInt8, dst: UInt8 = 0, src: UInt8 = 0, offset: Int16 = 0, immediate: Int32 = 0) -> UInt64 {
        UInt64(code) | UInt64(dst & 0xf) << 8 | UInt64(src & 0xf) << 12
            | UInt64(UInt16(bitPattern: offset)) << 16 | UInt64(UInt32(bitPattern: immediate)) << 32
    }

    /// A BPF_PROG_TYPE_CGROUP_DEVICE program. Its context (struct bpf_cgroup_dev_ctx) holds
    /// access_type (type in the low 16 bits: 1 block, 2 char; access in the high: 1 mknod,
    /// 2 read, 4 write), major and minor. Returns 1 to allow, 0 to deny.
    public static func bpfProgram(_ rules: [Spec.DeviceRule]) -> [UInt64] {
        // r2 = device type, r3 = requested access, r4 = major, r5 = minor.
        var program: [UInt64] = [
            instruction(loadWord, dst: 2, src: 1, offset: 0),
            instruction(andImmediate, dst: 2, immediate: 0xffff),
            instruction(loadWord, dst: 3, src: 1, offset: 0),
            instruction(shiftRight, dst: 3, immediate: 16),
            instruction(loadWord, dst: 4, src: 1, offset: 4),
            instruction(loadWord, dst: 5, src: 1, offset: 8),
        ]
        // The last matching rule wins: test the rules from the end, first match returns.
        for rule in rules.reversed() {
            var checks: [(UInt8, UInt8, Int32)] = []   // (opcode, register, value) each jumping to the next block
            if let type = rule.type, type != "a" {
                checks.append((jumpIfNotEqual, 2, type == "b" ? 1 : 2))
            }
            let accessMask = Int32(access(rule).reduce(0) { mask, c in
                mask | (c == "m" ? 1 : c == "r" ? 2 : c == "w" ? 4 : 0)
            })
            if let major = rule.major, major >= 0 { checks.append((jumpIfNotEqual, 4, Int32(major))) }
            if let minor = rule.minor, minor >= 0 { checks.append((jumpIfNotEqual, 5, Int32(minor))) }
            var block: [UInt64] = []
            let partialAccess = accessMask != 7
            // Instructions in this block after the checks: (access test: 3) + mov + exit.
            let tail = (partialAccess ? 3 : 0) + 2
            for (index, check) in checks.enumerated() {
                let remaining = checks.count - index - 1 + tail
                block.append(instruction(check.0, dst: check.1, offset: Int16(remaining), immediate: check.2))
            }
            if partialAccess {
                // An allow rule must cover every requested access bit: (r3 & access) == r3.
                // A deny rule matches when it covers any of them: (r3 & access) != 0.
                block.append(instruction(moveRegister, dst: 1, src: 3))
                block.append(instruction(andImmediate, dst: 1, immediate: accessMask))
                block.append(rule.allow ? instruction(jumpIfNotEqualRegister, dst: 1, src: 3, offset: 2)
                                        : instruction(jumpIfEqual, dst: 1, offset: 2, immediate: 0))
            }
            block.append(instruction(moveImmediate, dst: 0, immediate: rule.allow ? 1 : 0))
            block.append(instruction(exit))
            program += block
            // A rule matching every device decides for all: what follows would be unreachable,
            // which the verifier refuses.
            if checks.isEmpty && !partialAccess { return program }
        }
        program.append(instruction(moveImmediate, dst: 0, immediate: 0))
        program.append(instruction(exit))
        return program
    }
}
