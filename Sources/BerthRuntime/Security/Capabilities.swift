import BerthOCI
import CSystemShims
import Glibc

/// The five capability sets of a process, from the spec's names ("CAP_CHOWN" or "CHOWN").
public struct CapabilitySets: Equatable, Sendable {
    /// Linux capability numbers, CAP_CHOWN (0) to CAP_CHECKPOINT_RESTORE (40).
    public static let numbers: [String: Int] = [
        "CHOWN": 0, "DAC_OVERRIDE": 1, "DAC_READ_SEARCH": 2, "FOWNER": 3, "FSETID": 4, "KILL": 5,
        "SETGID": 6, "SETUID": 7, "SETPCAP": 8, "LINUX_IMMUTABLE": 9, "NET_BIND_SERVICE": 10,
        "NET_BROADCAST": 11, "NET_ADMIN": 12, "NET_RAW": 13, "IPC_LOCK": 14, "IPC_OWNER": 15,
        "SYS_MODULE": 16, "SYS_RAWIO": 17, "SYS_CHROOT": 18, "SYS_PTRACE": 19, "SYS_PACCT": 20,
        "SYS_ADMIN": 21, "SYS_BOOT": 22, "SYS_NICE": 23, "SYS_RESOURCE": 24, "SYS_TIME": 25,
        "SYS_TTY_CONFIG": 26, "MKNOD": 27, "LEASE": 28, "AUDIT_WRITE": 29, "AUDIT_CONTROL": 30,
        "SETFCAP": 31, "MAC_OVERRIDE": 32, "MAC_ADMIN": 33, "SYSLOG": 34, "WAKE_ALARM": 35,
        "BLOCK_SUSPEND": 36, "AUDIT_READ": 37, "PERFMON": 38, "BPF": 39, "CHECKPOINT_RESTORE": 40,
    ]

    /// Every capability name, in number order, without the CAP_ prefix.
    public static let allNames: [String] = numbers.sorted { $0.value < $1.value }.map(\.key)

    /// Docker's default set for a container (mask 0xa80425fb).
    public static let dockerDefaults = [
        "CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID", "SETFCAP",
        "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE",
    ]

    public var bounding: UInt64
    public var effective: UInt64
    public var permitted: UInt64
    public var inheritable: UInt64
    public var ambient: UInt64

    /// No spec section means no capabilities at all, as in runc.
    public init(_ spec: Spec.Capabilities?) throws {
        bounding = try Self.mask(spec?.bounding ?? [])
        effective = try Self.mask(spec?.effective ?? [])
        permitted = try Self.mask(spec?.permitted ?? [])
        inheritable = try Self.mask(spec?.inheritable ?? [])
        ambient = try Self.mask(spec?.ambient ?? [])
    }

    /// The bit mask of the named capabilities. Names the kernel does not know yet (above
    /// cap_last_cap) are left out, as runc does, so newer specs still run on older kernels.
    public static func mask(_ names: [String]) throws -> UInt64 {
        let last = Int(berth_cap_last_cap())
        var mask: UInt64 = 0
        for name in names {
            let bare = name.uppercased().hasPrefix("CAP_") ? String(name.uppercased().dropFirst(4)) : name.uppercased()
            guard let number = numbers[bare] else { throw ConfigError("unknown capability \"\(name)\"") }
            if number <= last { mask |= 1 << UInt64(number) }
        }
        return mask
    }

    /// Drops from the bounding set whatever the spec does not keep. Needs CAP_SETPCAP, so it
    /// runs before the switch to the container's user.
    public func dropBounding() throws {
        let last = Int(berth_cap_last_cap())
        for number in 0...last where bounding & (1 << UInt64(number)) == 0 {
            try check("drop capability \(number) from the bounding set", berth_drop_bounding(Int32(number)))
        }
    }

    /// Sets effective, permitted and inheritable, then the ambient set. The kernel raises an
    /// ambient capability only when it is also permitted and inheritable; others are skipped,
    /// as runc skips them (its default spec lists ambient caps without inheritable ones).
    public func apply() throws {
        try check("capset", berth_capset(effective, permitted, inheritable))
        try check("clear ambient capabilities", berth_ambient_clear_all())
        let raisable = ambient & permitted & inheritable
        for number in 0..<64 where raisable & (1 << UInt64(number)) != 0 {
            try check("raise ambient capability \(number)", berth_ambient_raise(Int32(number)))
        }
    }
}
