import BerthOCI
import BerthStore
import FoundationEssentials
import Glibc

extension ContainerService {
    /// A tar of the container's root file system, without its mounts (as dockerd's export).
    public func export(_ nameOrID: String) async throws -> TarStream {
        let id = try resolve(nameOrID)
        let view = try await rootView(id, withMounts: false)
        do {
            return try TarStream(write: { output in
                let archiver = try TreeArchiver(output: output)
                try archiver.add(dirFD: view.root.fd, name: ".", as: "")
                try archiver.finish()
            }, onEnd: { view.close() })
        } catch {
            view.close()
            throw error
        }
    }
}
