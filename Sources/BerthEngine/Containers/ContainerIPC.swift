import BerthOCI
import FoundationEssentials
import Glibc

/// Where a container's /dev/shm comes from, decided at start as dockerd decides it: its own
/// tmpfs in the spec (private IPC), the host's (`--ipc host`), a tmpfs on the host that
/// others may join (`--ipc shareable`), or the one of the container whose IPC it joins.
enum IPCShm: Sendable, Equatable {
    case own
    case host
    case shareable
    case peer(String)

    /// Where the /dev/shm of a running container with this IPC mode is on the host, for a
    /// container joining its IPC; nil when it keeps its /dev/shm to itself.
    static func shared(by peer: HostConfig, shmMountPoint: String) -> String? {
        switch peer.IpcMode ?? "" {
        case "host": return "/dev/shm"
        // "" is what older daemons recorded; it meant shareable. No directory: the container
        // had its own mount at /dev/shm, so nothing to share.
        case "", "shareable":
            var info = stat()
            return stat(shmMountPoint, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR ? shmMountPoint : nil
        default: return nil
        }
    }

    /// Whether the container mounts something of its own at /dev/shm (a bind, volume or
    /// tmpfs), which then takes the place of the shareable tmpfs, as with dockerd.
    static func hasOwnMount(_ host: HostConfig) -> Bool {
        let destination = "/dev/shm"
        if (host.Tmpfs ?? [:]).keys.map(MountValidation.clean).contains(destination) { return true }
        if (host.Mounts ?? []).contains(where: { MountValidation.clean($0.Target ?? "") == destination }) { return true }
        return (host.Binds ?? []).contains { (try? BindSpec.parse($0))?.destination == destination }
    }
}

extension ContainerService {
    /// dockerd's checks of `--ipc container:<x>` at start, in its words: x must be running and
    /// share its IPC (shareable or host).
    func ipcShm(_ host: HostConfig) throws -> IPCShm {
        let mode = host.IpcMode ?? ""
        switch mode {
        case "host":
            guard FileManager.default.fileExists(atPath: "/dev/shm") else {
                throw BerthError.internalError("/dev/shm is not mounted, but must be for --ipc=host")
            }
            return .host
        case "", "shareable":
            return IPCShm.hasOwnMount(host) ? .own : .shareable
        default:
            guard mode.hasPrefix("container:") else { return .own }
        }
        let target = String(mode.dropFirst("container:".count))
        let prefix = "failed to join IPC namespace: "
        let id: String
        do { id = try resolve(target) } catch let error as BerthError {
            throw BerthError.invalidArgument(prefix + error.message)
        }
        let peer = entries[id]!
        guard peer.record.State.Running else { throw BerthError.conflict(prefix + "container \(target) is not running") }
        if peer.record.State.Restarting {
            throw BerthError.conflict(prefix + "Container \(id) is restarting, wait until the container is running")
        }
        let mountPoint = ContainerRoot.shmMountPoint(id, snapshotter: images.snapshotter)
        guard let path = IPCShm.shared(by: peer.hostConfig, shmMountPoint: mountPoint) else {
            throw BerthError.invalidArgument(prefix + "container \(target): non-shareable IPC (hint: use IpcMode:shareable for the donor container)")
        }
        return .peer(path)
    }
}
