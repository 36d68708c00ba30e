import BerthOCI
import CSystemShims
import Glibc

/// Read-only binds are read-only all the way down (OCI option `rro`, mount_setattr with
/// AT_RECURSIVE) when the kernel can, as dockerd does for API 1.44 and later; otherwise only
/// the top mount is (`ro`), unless the user insists (`bind-recursive=readonly`).
public enum RecursiveReadOnly {
    /// Why `rro` cannot be had here, or nil when it can: mount_setattr(2) came with Linux 5.12.
    static let unsupportedReason: String? = {
        // A call with no valid target tells whether the system call exists at all.
        if berth_mount_setattr(-1, "", 0, 0, 0, 0) != 0, errno == ENOSYS {
            return "rro is not supported: \(goErrorText(ENOSYS)) (kernel is older than 5.12?)"
        }
        return nil
    }()

    static var isSupported: Bool { unsupportedReason == nil }

    /// The read-only option of a bind as dockerd chooses it: `rro` unless the mount asks for
    /// a non-recursive one or the kernel lacks it; a forced recursive one fails without it.
    static func option(nonRecursive: Bool, forceRecursive: Bool) throws -> String {
        if nonRecursive { return "ro" }
        if let reason = unsupportedReason {
            if forceRecursive { throw BerthError.internalError(reason) }
            return "ro"
        }
        return "rro"
    }

    /// dockerd's checks of a `--mount type=bind` entry's read-only options, at start.
    static func checkOptions(_ mount: ContainerMount) throws {
        guard let options = mount.BindOptions else { return }
        let readOnly = mount.ReadOnly == true
        if !readOnly && options.ReadOnlyNonRecursive == true {
            throw BerthError.internalError("mount options conflict: !ReadOnly && BindOptions.ReadOnlyNonRecursive")
        }
        if !readOnly && options.ReadOnlyForceRecursive == true {
            throw BerthError.internalError("mount options conflict: !ReadOnly && BindOptions.ReadOnlyForceRecursive")
        }
        if options.ReadOnlyNonRecursive == true && options.ReadOnlyForceRecursive == true {
            throw BerthError.internalError("mount options conflict: ReadOnlyNonRecursive && BindOptions.ReadOnlyForceRecursive")
        }
    }
}
