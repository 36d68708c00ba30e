import BerthOCI
import CSystemShims

/// `--storage-opt`: dockerd's overlay2 knows only `size`, a project quota on an xfs backing
/// file system mounted with pquota. Berth's layers have no quota, so every option is refused,
/// in dockerd's words where dockerd would refuse it too.
enum StorageOptions {
    static let xfsMagic = 0x5846_5342

    static func check(_ options: [String: String]?, dataRoot: String) throws {
        guard let options, !options.isEmpty else { return }
        if options["size"] != nil {
            if berth_filesystem_type(dataRoot) == xfsMagic {
                throw BerthError.notImplemented("--storage-opt size (layer quotas on xfs) is not implemented")
            }
            throw BerthError.internalError("--storage-opt is supported only for overlay over xfs with 'pquota' mount option")
        }
        throw BerthError.internalError("Unknown option \(options.keys.sorted()[0])")
    }
}
