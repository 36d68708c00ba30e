import BerthNetwork
import BerthOCI
import BerthRuntime
import FoundationEssentials
import Glibc

/// Facts about this host and daemon that `docker version` and `docker info` print, read from
/// the kernel and /proc each time (they are cheap and can change: memory, cgroup layout).
public struct SystemInfo: Sendable {
    public static let version = "0.1.0"
    public static let apiVersion = "1.50"
    /// The runtime's name in `docker info` and in a container's HostConfig.Runtime.
    public static let defaultRuntime = "berth-runtime"
    public static let minimumAPIVersion = "1.40"

    public let dataRoot: String
    public let daemonID: String
    public let loggingDriver: String
    /// The daemon's seccomp profile as `docker info` names it: builtin, unconfined or its file.
    public let seccompProfile: String

    public init(dataRoot: String, daemonID: String, loggingDriver: String, seccompProfile: String = "builtin") {
        self.dataRoot = dataRoot
        self.daemonID = daemonID
        self.loggingDriver = loggingDriver
        self.seccompProfile = seccompProfile
    }

    /// The compiler that built this daemon, where Docker shows its Go version.
    public static var toolchain: String {
        #if compiler(>=6.4)
        return "swift6.4"
        #elseif compiler(>=6.3)
        return "swift6.3"
        #elseif compiler(>=6.2)
        return "swift6.2"
        #elseif compiler(>=6.1)
        return "swift6.1"
        #else
        return "swift6"
        #endif
    }

    /// When this executable was linked (its file's modification time), RFC 3339.
    public static let buildTime: String = {
        var info = stat()
        guard stat("/proc/self/exe", &info) == 0 else { return "" }
        return LogTimestamp(seconds: Int64(info.st_mtim.tv_sec)).rfc3339(fixedFraction: false)
    }()

    /// The filesystem under `path` by Docker's name for it ("extfs", "xfs", "tmpfs", ...): the
    /// type of the deepest mount in /proc/self/mountinfo that holds the path.
    public static func backingFilesystem(_ path: String) -> String {
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let mountinfo = readProcFile("/proc/self/mountinfo") ?? ""
        var best: (mountPoint: String, type: String)?
        for line in mountinfo.split(separator: "\n") {
            // "36 35 98:0 /root /mnt opts - ext4 /dev/sda rw": mount point is field 5, type follows "-".
            let fields = line.split(separator: " ")
            guard fields.count > 5, let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count else { continue }
            let mountPoint = String(fields[4]).replacing("\\040", with: " ")
            let holds = mountPoint == "/" || resolved == mountPoint || resolved.hasPrefix(mountPoint + "/")
            if holds && mountPoint.count >= (best?.mountPoint.count ?? 0) {
                best = (mountPoint, String(fields[dash + 1]))
            }
        }
        guard let type = best?.type else { return "<unknown>" }
        return ["ext2": "extfs", "ext3": "extfs", "ext4": "extfs", "overlay": "overlayfs"][type] ?? type
    }

    /// overlay2's status lines as dockerd lists them. Berth mounts without metacopy or
    /// userxattr, and reads a layer's changes from the upper directory (a native diff).
    public static func overlayStatus(_ dataRoot: String) -> [(String, String)] {
        [("Backing Filesystem", backingFilesystem(dataRoot)), ("Supports d_type", String(supportsDType(dataRoot))),
         ("Using metacopy", "false"), ("Native Overlay Diff", "true"), ("userxattr", "false")]
    }

    /// Whether the filesystem under `path` reports entry types in readdir (overlayfs needs them).
    public static func supportsDType(_ path: String) -> Bool {
        guard let directory = opendir(path) else { return false }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            if entry.pointee.d_type == UInt8(DT_UNKNOWN) { return false }
        }
        return true
    }

    public static var kernelVersion: String { uname(\.release) }
    public static var architecture: String { uname(\.machine) }
    public static var hostname: String { uname(\.nodename) }

    private static func uname<T>(_ field: KeyPath<utsname, T>) -> String {
        var name = utsname()
        Glibc.uname(&name)
        return withUnsafeBytes(of: name[keyPath: field]) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// Go's name for the architecture, as Docker reports it ("amd64").
    public static var goArchitecture: String {
        ["x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"][architecture] ?? architecture
    }

    public static var operatingSystem: String {
        let text = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            return String(line.dropFirst("PRETTY_NAME=".count)).trimmed(of: ["\""])
        }
        return "Linux"
    }

    /// /etc/os-release's VERSION_ID ("12"), where dockerd finds OSVersion; empty without one.
    public static var operatingSystemVersion: String {
        let text = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix("VERSION_ID=") {
            return String(line.dropFirst("VERSION_ID=".count)).trimmed(of: ["\"", "'"])
        }
        return ""
    }

    public static var memoryTotal: Int64 {
        let text = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix("MemTotal:") {
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap { Int64($0) } ?? 0
            return kilobytes * 1024
        }
        return 0
    }

    public static var cpuCount: Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// "2" when /sys/fs/cgroup is the unified hierarchy, else "1" (legacy or hybrid).
    public static var cgroupVersion: String {
        (try? CgroupHost.probe().isUnified) == true ? "2" : "1"
    }

    /// Warnings dockerd would print for this host.
    public static var warnings: [String] {
        let controllers = (try? String(contentsOfFile: "/sys/fs/cgroup/cgroup.controllers", encoding: .utf8)) ?? ""
        var warnings = cgroupWarnings(version: cgroupVersion, v2Controllers: Set(controllers.split(whereSeparator: \.isWhitespace).map(String.init))) {
            FileManager.default.fileExists(atPath: $0)
        }
        warnings += networkWarnings { path in try? String(contentsOfFile: path, encoding: .utf8) }
        if HostForwardPolicy.dropsForwarding() { warnings.append(HostForwardPolicy.warning) }
        return warnings
    }

    /// dockerd's cgroup warnings in its order. On v1 the block I/O weight is not checked (the
    /// kernel dropped it in 5.0 and nothing can be done about it), only the throttles; on v2 all
    /// of io.weight and io.max come with the io controller.
    public static func cgroupWarnings(version: String, v2Controllers: Set<String>, exists: (String) -> Bool) -> [String] {
        var warnings: [String] = []
        if version == "1" {
            let memory = "/sys/fs/cgroup/memory/", blkio = "/sys/fs/cgroup/blkio/blkio.throttle."
            if !exists(memory + "memory.memsw.limit_in_bytes") { warnings.append("WARNING: No swap limit support") }
            if !exists(memory + "memory.kmem.tcp.limit_in_bytes") { warnings.append("WARNING: No kernel memory TCP limit support") }
            for file in ["read_bps_device", "write_bps_device", "read_iops_device", "write_iops_device"]
            where !exists(blkio + file) {
                warnings.append("WARNING: No blkio throttle.\(file) support")
            }
        } else if !v2Controllers.contains("io") {
            warnings += ["WARNING: No io.weight support", "WARNING: No io.weight (per device) support",
                         "WARNING: No io.max (rbps) support", "WARNING: No io.max (wbps) support",
                         "WARNING: No io.max (riops) support", "WARNING: No io.max (wiops) support"]
        }
        return warnings
    }

    /// dockerd's forwarding and br_netfilter warnings, from the /proc/sys files `read` gives
    /// (nil when missing: a switch that is not there is off, as dockerd reads it).
    public static func networkWarnings(read: (String) -> String?) -> [String] {
        let checks = [
            ("/proc/sys/net/ipv4/ip_forward", "WARNING: IPv4 forwarding is disabled"),
            ("/proc/sys/net/bridge/bridge-nf-call-iptables", "WARNING: bridge-nf-call-iptables is disabled"),
            ("/proc/sys/net/bridge/bridge-nf-call-ip6tables", "WARNING: bridge-nf-call-ip6tables is disabled"),
        ]
        return checks.compactMap { path, warning in
            read(path)?.trimmed() == "1" ? nil : warning
        }
    }
}
