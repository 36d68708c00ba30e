import BerthOCI

/// dockerd's answer to exec and pause on a container in its restart back-off: it counts as
/// running there, so the user is told to wait rather than that it is stopped.
extension BerthError {
    static func containerRestarting(_ id: String) -> BerthError {
        .conflict("Container \(id) is restarting, wait until the container is running")
    }
}
