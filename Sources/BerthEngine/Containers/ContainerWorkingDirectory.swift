import BerthOCI
import BerthStore

/// dockerd makes a container's working directory at create, in its writable layer, and
/// refuses one that is a file in the image. Done here through the layers, without mounting
/// the root (StartPlan still checks it at each start).
enum ContainerWorkingDirectory {
    /// `root`: the prepared root's overlay mount (Snapshotter.prepare); `merged`: where that
    /// root is mounted when the container runs, for the error texts.
    static func prepare(_ workingDir: String?, root: Spec.Mount, merged: String) throws {
        guard let workingDir, !workingDir.isEmpty else { return }
        let clean = MountValidation.clean(workingDir)
        if clean == "/" { return }
        let stack = LayerStackPath(layers: LayerStackPath(mount: root).layers)
        switch stack.resolve(clean) {
        case .existing(_, let isDirectory):
            if !isDirectory { throw BerthError.internalError("Cannot mkdir: \(workingDir) is not a directory") }
        case .notDirectory(let at):
            throw BerthError.internalError("lstat \(merged)/\(at.joined(separator: "/")): not a directory")
        case .missing(let existing, let missing):
            try stack.makeDirectories(existing: existing, missing: missing)
        }
    }
}
