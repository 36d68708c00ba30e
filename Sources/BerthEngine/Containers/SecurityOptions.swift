import BerthOCI
import Glibc

/// HostConfig.SecurityOpt, parsed as dockerd parses it: `no-new-privileges[=bool]`,
/// `seccomp=unconfined|builtin|<profile JSON>` (the CLI sends a profile file's contents),
/// `apparmor=...`, `label=...` / `disable`.
public struct SecurityOptions: Sendable, Equatable {
    public var noNewPrivileges = false
    /// nil: the default profile. "unconfined": none. Anything else: a profile in Docker's JSON format.
    public var seccompProfile: String?
    public var apparmorProfile: String?
    public var labelOptions: [String] = []

    public init(parsing options: [String]?) throws {
        for option in options ?? [] {
            if option == "no-new-privileges" {
                noNewPrivileges = true
                continue
            }
            if option == "disable" {
                labelOptions.append("disable")
                continue
            }
            // dockerd still takes the pre-17.04 "key:value" form.
            let separator: Character? = option.contains("=") ? "=" : option.contains(":") ? ":" : nil
            guard let separator, let index = option.firstIndex(of: separator) else {
                throw BerthError.invalidArgument("invalid --security-opt 1: \"\(option)\"")
            }
            let key = String(option[..<index])
            let value = String(option[option.index(after: index)...])
            switch key {
            case "label": labelOptions.append(value)
            case "apparmor": apparmorProfile = value
            case "seccomp": seccompProfile = value
            case "no-new-privileges":
                guard let flag = Self.parseGoBool(value) else {
                    throw BerthError.invalidArgument("invalid --security-opt 2: \"\(option)\"")
                }
                noNewPrivileges = flag
            default:
                throw BerthError.invalidArgument("invalid --security-opt 2: \"\(option)\"")
            }
        }
    }

    public var seccompUnconfined: Bool { seccompProfile == "unconfined" }

    /// SecurityOpt as dockerd records it at create: a privileged container, or one in the
    /// host's pid or ipc namespace, gets `label=disable` unless it names labels itself.
    static func recorded(_ hostConfig: HostConfig) -> [String]? {
        let options = hostConfig.SecurityOpt ?? []
        let namesLabels = options.contains { $0.split(separator: "=").first == "label" }
        guard !namesLabels, hostConfig.Privileged == true || hostConfig.IpcMode == "host" || hostConfig.PidMode == "host" else {
            return hostConfig.SecurityOpt
        }
        return options + ["label=disable"]
    }

    /// Options Berth accepts but cannot honour, said back as create warnings. On a host without
    /// SELinux or AppArmor dockerd ignores them silently too, so Berth warns only where dockerd
    /// would have applied them.
    public var warnings: [String] { warnings(selinux: Self.hostHasSELinux, apparmor: Self.hostHasAppArmor) }

    func warnings(selinux: Bool, apparmor: Bool) -> [String] {
        var warnings: [String] = []
        if selinux, !labelOptions.isEmpty {
            warnings.append("SELinux is not supported by this daemon: security option label=\(labelOptions.joined(separator: ",")) is ignored.")
        }
        if apparmor, let apparmorProfile {
            warnings.append("AppArmor is not supported by this daemon: security option apparmor=\(apparmorProfile) is ignored.")
        }
        return warnings
    }

    static let hostHasSELinux = access("/sys/fs/selinux/enforce", F_OK) == 0
    static let hostHasAppArmor: Bool = {
        guard let file = fopen("/sys/module/apparmor/parameters/enabled", "r") else { return false }
        defer { fclose(file) }
        return fgetc(file) == Int32(UInt8(ascii: "Y"))
    }()

    /// Go's strconv.ParseBool.
    static func parseGoBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "true", "TRUE", "True": return true
        case "0", "f", "F", "false", "FALSE", "False": return false
        default: return nil
        }
    }
}
