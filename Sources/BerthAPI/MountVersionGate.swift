import BerthOCI
import BerthEngine

/// dockerd's create-time rules for HostConfig.Mounts that depend on the client's API version:
/// options newer than the client are refused or reset, as its container router does.
enum MountVersionGate {
    static func apply(to hostConfig: inout HostConfig, request: APIRequest) throws {
        guard var mounts = hostConfig.Mounts, !mounts.isEmpty else { return }
        for index in mounts.indices {
            var mount = mounts[index]
            let type = mount.Type ?? ""
            if request.speaksBefore(1, 42) {
                // Unknown before 1.42, so ignored. (Current dockerd also drops options of another
                // type for these clients; 20.10, their daemon, refuses VolumeOptions on a bind,
                // and so does Berth.)
                mount.BindOptions?.CreateMountpoint = nil
            } else {
                if mount.VolumeOptions != nil && type != "volume" {
                    throw BerthError.invalidArgument("VolumeOptions must not be specified on mount type \"\(type)\"")
                }
                if mount.BindOptions != nil && type != "bind" {
                    throw BerthError.invalidArgument("BindOptions must not be specified on mount type \"\(type)\"")
                }
                if mount.TmpfsOptions != nil && type != "tmpfs" {
                    throw BerthError.invalidArgument("TmpfsOptions must not be specified on mount type \"\(type)\"")
                }
            }
            if request.speaksBefore(1, 44) && type == "bind" {
                if mount.BindOptions?.ReadOnlyForceRecursive == true {
                    throw BerthError.invalidArgument("BindOptions.ReadOnlyForceRecursive needs API v1.44 or newer")
                }
                // Before 1.44 every read-only bind was read-only at its top only. dockerd notes
                // that in the mount's own BindOptions when it has some (so inspect shows it);
                // the rest follow the container's readOnlyNonRecursiveBinds.
                if mount.ReadOnly == true && mount.BindOptions != nil {
                    mount.BindOptions?.ReadOnlyNonRecursive = true
                }
            }
            if request.speaksBefore(1, 45), let subpath = mount.VolumeOptions?.Subpath, !subpath.isEmpty {
                throw BerthError.invalidArgument("VolumeOptions.Subpath needs API v1.45 or newer")
            }
            if request.speaksBefore(1, 48) && type == "image" {
                throw BerthError.invalidArgument("Mount type \"Image\" needs API v1.48 or newer")
            }
            mounts[index] = mount
        }
        hostConfig.Mounts = mounts
    }
}
