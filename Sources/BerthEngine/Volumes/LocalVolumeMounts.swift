import BerthOCI
import BerthRuntime
import CSystemShims
import FoundationEssentials
import Glibc

/// The local driver's volumes made with mount options (`-o type=… -o device=… -o o=…`): the
/// filesystem is mounted on the volume's `_data` when the first container using it starts
/// and unmounted when the last one ends, as dockerd's local driver does.
final class LocalVolumeMounts: @unchecked Sendable {
    private let lock = Lock()
    /// Volume name → the running containers that hold its mount.
    private var holders: [String: Set<String>] = [:]

    func mount(_ record: VolumeRecord, at path: String, by container: String) throws {
        // Only a device or a type asks for a mount (`size=0` alone does not).
        guard let options = record.Options, options["device"] != nil || options["type"] != nil else { return }
        try lock.withLock {
            if (holders[record.Name] ?? []).isEmpty && !Self.isMountpoint(path) {
                try Self.mountFilesystem(options, at: path)
            }
            holders[record.Name, default: []].insert(container)
        }
    }

    func unmount(_ name: String, at path: String, by container: String) {
        lock.withLock {
            guard holders[name]?.remove(container) != nil else { return }
            if holders[name]?.isEmpty == true {
                holders[name] = nil
                _ = berth_umount2(path, Int32(MNT_DETACH))
            }
        }
    }

    /// At daemon start: mounts held by containers still running stay theirs; the others go.
    func reconcile(_ records: [VolumeRecord], path: (String) -> String, running: [String: Set<String>]) {
        lock.withLock {
            for record in records where !(record.Options ?? [:]).isEmpty {
                let holding = running[record.Name] ?? []
                if holding.isEmpty || !Self.isMountpoint(path(record.Name)) {
                    if Self.isMountpoint(path(record.Name)) { _ = berth_umount2(path(record.Name), Int32(MNT_DETACH)) }
                    holders[record.Name] = nil
                } else {
                    holders[record.Name] = holding
                }
            }
        }
    }

    /// `type`, `device` and the `o` list (flags such as ro or bind, the rest as data).
    static func mountFilesystem(_ options: [String: String], at path: String) throws {
        let type = options["type"] ?? ""
        let device = options["device"] ?? ""
        let parsed = MountOptions((options["o"] ?? "").split(separator: ",").map(String.init))
        let data = parsed.dataString
        guard berth_mount(device, path, type, parsed.flags, data.isEmpty ? nil : data) == 0 else {
            // Go's words: the lower-case strerror, flags and data only when there are some.
            let reason = goErrorText(errno)
            var what = "mount \(device):\(path)"
            if parsed.flags != 0 { what += ", flags: 0x\(String(parsed.flags, radix: 16))" }
            if !data.isEmpty { what += ", data: \(data)" }
            throw BerthError.internalError("error while mounting volume '\(path)': failed to mount local volume: \(what): \(reason)")
        }
    }

    /// Whether something is mounted on `path` (this mount namespace's table).
    static func isMountpoint(_ path: String) -> Bool {
        guard let table = readProcFile("/proc/self/mountinfo") else { return false }
        let escaped = path.replacing(" ", with: "\\040")
        return table.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ", maxSplits: 5)
            return fields.count > 4 && fields[4] == escaped
        }
    }
}
