import BerthOCI
import BerthStore
import FoundationEssentials
import Glibc

extension ContainerService {
    /// A tar of the container's root file system, without its mounts (as dockerd's export),
    /// and dockerd's `export` event once all of it is written.
    public func export(_ nameOrID: String) async throws -> TarStream {
        let id = try resolve(nameOrID)
        let record = entries[id]!.record
        let view = try await rootView(id, withMounts: false)
        do {
            return try TarStream(write: { [events] output in
                let archiver = try TreeArchiver(output: output)
                try archiver.add(dirFD: view.root.fd, name: ".", as: "")
                try archiver.finish()
                events.publish(.container, "export", actor: record.ID, attributes: Self.eventAttributes(record))
            }, onEnd: { view.close() })
        } catch {
            view.close()
            throw error
        }
    }
}
