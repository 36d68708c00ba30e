/// `docker rename` of a running container: as with dockerd, the new name resolves on its
/// user networks at once and the old one no longer does (its inspect's DNSNames follow).
extension NetworkService {
    public func renameContainer(_ id: String, to name: String) {
        guard var sandbox = sandboxes[id], sandbox.name != name else { return }
        sandbox.name = name
        sandboxes[id] = sandbox
        do { try saveSandbox(sandbox) } catch { log("rename of container \(id): \(error)") }
        refreshDNS(container: id)
        refreshView(id)
    }
}
