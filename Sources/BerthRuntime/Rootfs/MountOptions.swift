import Glibc

/// An OCI mount's `options` split into what mount(2) takes: flags to set, flags to clear,
/// a propagation change, and the filesystem-specific data string.
public struct MountOptions: Equatable, Sendable {
    public var flags: UInt = 0
    public var clearedFlags: UInt = 0
    public var propagation: [UInt] = []
    public var data: [String] = []
    /// `rro`, `rnosuid`...: attributes applied recursively with mount_setattr(2).
    public var recursiveAttrSet: UInt64 = 0
    public var recursiveAttrClear: UInt64 = 0

    public var isBind: Bool { flags & UInt(MS_BIND) != 0 }
    public var dataString: String { data.joined(separator: ",") }

    public init(_ options: [String]) {
        for option in options {
            if let (set, flag) = Self.flagOptions[option] {
                if set {
                    flags |= flag
                    clearedFlags &= ~flag
                } else {
                    flags &= ~flag
                    clearedFlags |= flag
                }
            } else if let flag = Self.propagationOptions[option] {
                propagation.append(flag)
            } else if let (set, attr) = Self.recursiveOptions[option] {
                if set { recursiveAttrSet |= attr } else { recursiveAttrClear |= attr }
            } else if option == "tmpcopyup" || option == "idmap" || option == "ridmap" {
                // Accepted and ignored, as runc ignores what it does not need here.
                continue
            } else {
                data.append(option)
            }
        }
    }

    static let flagOptions: [String: (Bool, UInt)] = [
        "defaults": (false, 0),
        "ro": (true, UInt(MS_RDONLY)), "rw": (false, UInt(MS_RDONLY)),
        "nosuid": (true, UInt(MS_NOSUID)), "suid": (false, UInt(MS_NOSUID)),
        "nodev": (true, UInt(MS_NODEV)), "dev": (false, UInt(MS_NODEV)),
        "noexec": (true, UInt(MS_NOEXEC)), "exec": (false, UInt(MS_NOEXEC)),
        "sync": (true, UInt(MS_SYNCHRONOUS)), "async": (false, UInt(MS_SYNCHRONOUS)),
        "dirsync": (true, UInt(MS_DIRSYNC)),
        "remount": (true, UInt(MS_REMOUNT)),
        "mand": (true, UInt(MS_MANDLOCK)), "nomand": (false, UInt(MS_MANDLOCK)),
        "atime": (false, UInt(MS_NOATIME)), "noatime": (true, UInt(MS_NOATIME)),
        "diratime": (false, UInt(MS_NODIRATIME)), "nodiratime": (true, UInt(MS_NODIRATIME)),
        "relatime": (true, UInt(MS_RELATIME)), "norelatime": (false, UInt(MS_RELATIME)),
        "strictatime": (true, UInt(MS_STRICTATIME)), "nostrictatime": (false, UInt(MS_STRICTATIME)),
        "bind": (true, UInt(MS_BIND)), "rbind": (true, UInt(MS_BIND) | UInt(MS_REC)),
        "silent": (true, UInt(MS_SILENT)), "loud": (false, UInt(MS_SILENT)),
    ]

    static let propagationOptions: [String: UInt] = [
        "private": UInt(MS_PRIVATE), "rprivate": UInt(MS_PRIVATE) | UInt(MS_REC),
        "shared": UInt(MS_SHARED), "rshared": UInt(MS_SHARED) | UInt(MS_REC),
        "slave": UInt(MS_SLAVE), "rslave": UInt(MS_SLAVE) | UInt(MS_REC),
        "unbindable": UInt(MS_UNBINDABLE), "runbindable": UInt(MS_UNBINDABLE) | UInt(MS_REC),
    ]

    // MOUNT_ATTR_* values from <linux/mount.h>.
    static let recursiveOptions: [String: (Bool, UInt64)] = [
        "rro": (true, 0x1), "rrw": (false, 0x1),
        "rnosuid": (true, 0x2), "rsuid": (false, 0x2),
        "rnodev": (true, 0x4), "rdev": (false, 0x4),
        "rnoexec": (true, 0x8), "rexec": (false, 0x8),
        "rnoatime": (true, 0x10), "rstrictatime": (true, 0x20), "rnodiratime": (true, 0x80),
    ]

    /// Parses a propagation name as used by `linux.rootfsPropagation`.
    public static func propagation(named name: String) throws -> UInt {
        guard let flag = propagationOptions[name] else {
            throw ConfigError("invalid rootfs propagation \"\(name)\"")
        }
        return flag
    }
}
