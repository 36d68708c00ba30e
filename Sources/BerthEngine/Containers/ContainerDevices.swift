import BerthOCI
import FoundationEssentials
import Glibc

/// Host devices made available in a container (`--device`, `--device-cgroup-rule`,
/// `--privileged`), as linux.devices entries and device cgroup rules.
public enum ContainerDevices {
    /// The device node(s) at `hostPath` (a device, a symlink to one, or a directory of them)
    /// under `containerPath`, allowed with `permissions`. dockerd's error when none is found.
    public static func fromPath(_ hostPath: String, containerPath: String, permissions: String)
        throws -> (devices: [Spec.Device], rules: [Spec.DeviceRule]) {
        let resolved = (try? FileManager.default.destinationOfSymbolicLink(atPath: hostPath)).map { target in
            target.hasPrefix("/") ? target : String(hostPath[..<(hostPath.lastIndex(of: "/") ?? hostPath.startIndex)]) + "/" + target
        } ?? hostPath
        let access = permissions.isEmpty ? "rwm" : permissions
        switch node(at: resolved, path: containerPath) {
        case .success(let device):
            return ([device], [rule(for: device, access: access)])
        case .failure(let reason):
            var devices: [Spec.Device] = []
            var isDirectory = false
            if reason == "not a device node",
               FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), isDirectory {
                for entry in ((try? FileManager.default.subpathsOfDirectory(atPath: resolved)) ?? []).sorted() {
                    if case .success(let device) = node(at: resolved + "/" + entry, path: containerPath + "/" + entry) {
                        devices.append(device)
                    }
                }
            }
            guard !devices.isEmpty else {
                throw BerthError.invalidArgument(
                    "error gathering device information while adding custom device \"\(hostPath)\": \(reason)")
            }
            return (devices, devices.map { rule(for: $0, access: access) })
        }
    }

    /// Every device node under /dev, for privileged containers (what runc's HostDevices lists).
    public static func hostDevices(root: String = "/dev") -> [Spec.Device] {
        let skippedDirectories: Set<String> = ["pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"]
        var devices: [Spec.Device] = []
        func walk(_ directory: String) {
            let entries = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
            for name in entries {
                let path = directory + "/" + name
                var info = stat()
                guard lstat(path, &info) == 0 else { continue }
                if info.st_mode & S_IFMT == S_IFDIR {
                    if !skippedDirectories.contains(name) { walk(path) }
                    continue
                }
                if name == "console" { continue }
                if case .success(let device) = node(at: path, path: path) { devices.append(device) }
            }
        }
        walk(root)
        return devices
    }

    /// `--device-cgroup-rule 'c 42:* rmw'`, with dockerd's error text.
    public static func parseCgroupRule(_ text: String) throws -> Spec.DeviceRule {
        let invalid = BerthError.invalidArgument("invalid device cgroup rule format: '\(text)'")
        let fields = text.split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == 3, ["a", "b", "c"].contains(String(fields[0])) else { throw invalid }
        let numbers = fields[1].split(separator: ":", omittingEmptySubsequences: false)
        guard numbers.count == 2 else { throw invalid }
        func number(_ part: Substring) throws -> Int64 {
            if part == "*" { return -1 }
            guard !part.isEmpty, part.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int64(part) else { throw invalid }
            return value
        }
        let access = String(fields[2])
        guard (1...3).contains(access.count), access.allSatisfy({ "rwm".contains($0) }) else { throw invalid }
        return Spec.DeviceRule(allow: true, type: String(fields[0]), major: try number(numbers[0]),
                               minor: try number(numbers[1]), access: access)
    }

    static func rule(for device: Spec.Device, access: String) -> Spec.DeviceRule {
        Spec.DeviceRule(allow: true, type: device.type, major: device.major, minor: device.minor, access: access)
    }

    /// A character or block device's node, described for the spec at `path`.
    static func node(at hostPath: String, path: String) -> Result<Spec.Device, DeviceError> {
        var info = stat()
        // Go's words for errno, as dockerd shows them: lowercase ("no such file or directory"),
        // which is also what makes the CLI exit 127 for a missing device, as with dockerd.
        guard stat(hostPath, &info) == 0 else { return .failure(DeviceError(goErrorText(errno))) }
        let type: String
        switch info.st_mode & S_IFMT {
        case S_IFCHR: type = "c"
        case S_IFBLK: type = "b"
        default: return .failure(DeviceError("not a device node"))
        }
        let (major, minor) = numbers(info.st_rdev)
        return .success(Spec.Device(type: type, path: path, major: major, minor: minor,
                                    fileMode: UInt32(info.st_mode & ~S_IFMT), uid: info.st_uid, gid: info.st_gid))
    }

    /// glibc's major() and minor() of a device number.
    static func numbers(_ device: dev_t) -> (major: Int64, minor: Int64) {
        let rdev = UInt64(device)
        let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~UInt64(0xfff))
        let minor = (rdev & 0xff) | ((rdev >> 12) & ~UInt64(0xff))
        return (Int64(major), Int64(minor))
    }

    struct DeviceError: Error, Equatable, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
        static func == (lhs: DeviceError, rhs: String) -> Bool { lhs.description == rhs }
    }
}
