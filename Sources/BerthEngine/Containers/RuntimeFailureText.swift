/// How dockerd words what the runtime could not do: the runtime's reason inside containerd's
/// wrapping, and, for "not a directory" (a working directory that is a file, a mount over the
/// wrong kind), dockerd's hint about mounts.
enum RuntimeFailureText {
    static func start(_ reason: String) -> String {
        hinted("failed to create task for container: OCI runtime create failed: unable to start container process: \(reason): unknown")
    }

    static func exec(_ reason: String) -> String {
        hinted("OCI runtime exec failed: exec failed: unable to start container process: \(reason): unknown")
    }

    private static func hinted(_ message: String) -> String {
        guard message.lowercased().contains("not a directory") else { return message }
        return message + ": Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type"
    }
}
