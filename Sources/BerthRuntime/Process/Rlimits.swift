import BerthOCI
import CSystemShims
import Glibc

/// process.rlimits, checked before the container starts: a hard limit above the runtime's own
/// can only be set with CAP_SYS_RESOURCE, and the error must name the limit.
struct Rlimits {
    static let resources: [String: Int32] = [
        "RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3, "RLIMIT_CORE": 4,
        "RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9,
        "RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
        "RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
    ]
    static let capSysResource: UInt64 = 1 << 24

    let limits: [(name: String, resource: Int32, soft: UInt64, hard: UInt64)]

    init(_ specLimits: [Spec.Rlimit]) throws {
        var seen = Set<String>()
        var limits: [(name: String, resource: Int32, soft: UInt64, hard: UInt64)] = []
        var effective: UInt64 = 0, permitted: UInt64 = 0, inheritable: UInt64 = 0
        _ = berth_capget(&effective, &permitted, &inheritable)
        for limit in specLimits {
            guard let resource = Self.resources[limit.type] else {
                throw ConfigError("rlimit \(limit.type) is not a known resource")
            }
            guard seen.insert(limit.type).inserted else { throw ConfigError("rlimit \(limit.type) is given twice") }
            guard limit.soft <= limit.hard else {
                throw ConfigError("rlimit \(limit.type): soft limit \(limit.soft) is above the hard limit \(limit.hard)")
            }
            var current = rlimit()
            getrlimit(__rlimit_resource_t(UInt32(resource)), &current)
            if limit.hard > UInt64(current.rlim_max), effective & Self.capSysResource == 0 {
                throw ConfigError("rlimit \(limit.type): hard limit \(limit.hard) is above this process's hard limit "
                    + "\(current.rlim_max), and raising it needs CAP_SYS_RESOURCE, which this process does not hold")
            }
            limits.append((limit.type, resource, limit.soft, limit.hard))
        }
        self.limits = limits
    }

    func apply() throws {
        for limit in limits {
            var value = rlimit(rlim_cur: rlim_t(limit.soft), rlim_max: rlim_t(limit.hard))
            if setrlimit(__rlimit_resource_t(UInt32(limit.resource)), &value) != 0 {
                throw SystemError("setrlimit \(limit.name)")
            }
        }
    }
}

