import BerthOCI
import BerthStore
import FoundationEssentials

/// POST /commit: what `docker commit` asks for.
public struct CommitRequest: Sendable {
    public var container: String
    public var repository: String?
    public var tag: String?
    public var comment: String
    public var author: String
    /// Pause a running container while its layer is read (dockerd's default).
    public var pause: Bool
    public var changes: [String]
    /// Used instead of the container's config when given.
    public var config: ContainerConfig?

    public init(container: String, repository: String?, tag: String?, comment: String, author: String,
                pause: Bool, changes: [String], config: ContainerConfig?) {
        self.container = container
        self.repository = repository
        self.tag = tag
        self.comment = comment
        self.author = author
        self.pause = pause
        self.changes = changes
        self.config = config
    }
}

/// What a commit reads from the container: its record and its overlay directories.
struct CommitSource: Sendable {
    var record: ContainerRecord
    var upper: String
    var lowers: [String]
}

extension ContainerService {
    /// The container to commit, refused as dockerd refuses it.
    func commitSource(_ nameOrID: String) async throws -> CommitSource {
        let id = try resolve(nameOrID)
        let record = entries[id]!.record
        if record.State.Dead {
            throw BerthError.conflict("You cannot commit container \(id) which is Dead")
        }
        if record.State.Status == "removing" {
            throw BerthError.conflict("You cannot commit container \(id) which is being removed")
        }
        let images = self.images
        let directories = try await blocking { try Self.overlayDirectories(id, image: record.Image, images: images) }
        return CommitSource(record: record, upper: directories.upper, lowers: directories.lowers)
    }

    /// Pauses a running container for a commit; false when it is not running or is paused
    /// already (it then stays as it is).
    func pauseForCommit(_ id: String) async throws -> Bool {
        guard let state = entries[id]?.record.State, state.Running, !state.Paused, !state.Restarting else { return false }
        try await pause(id)
        return true
    }
}

extension Engine {
    /// `docker commit`: the container's image plus its changes as one new layer. Returns the
    /// new image ID. Emits `image create`, `image tag` when named, then `container commit`, as dockerd does.
    public func commit(_ request: CommitRequest) async throws -> String {
        let reference = try ImageReference.repositoryTag(request.repository, request.tag)
        let source = try await containers.commitSource(request.container)
        let id = source.record.ID
        let pauseIt = request.pause ? try await containers.pauseForCommit(id) : false
        let imageID: String
        do {
            imageID = try await commitLayer(source, request: request, reference: reference)
        } catch {
            if pauseIt { try? await containers.unpause(id) }
            throw error
        }
        emitImage("create", id: imageID)
        var imageRef = ""
        if let reference {
            imageRef = reference.familiar
            emitImage("tag", id: imageID, name: imageRef)
        }
        await containers.emit("commit", container: id, ["comment": request.comment, "imageID": imageID, "imageRef": imageRef])
        if pauseIt { try? await containers.unpause(id) }
        return imageID
    }

    private func commitLayer(_ source: CommitSource, request: CommitRequest, reference: ImageReference?) async throws -> String {
        let record = source.record
        let config = try CommitConfig.make(base: request.config ?? record.Config, changes: request.changes, container: record.Config)
        let images = self.images
        return try await blocking {
            let included = try OverlayChanges.layerPaths(upper: source.upper, lowers: source.lowers)
            return try images.commit(parent: record.Image, upperDirectory: source.upper, including: included,
                                     reference: reference) { parent, diffID in
                let now = LogTimestamp.now().rfc3339(fixedFraction: false)
                let entry = ImageConfig.History(created: now, created_by: (record.Config.Cmd ?? []).joined(separator: " "),
                                                comment: request.comment.isEmpty ? nil : request.comment,
                                                author: request.author.isEmpty ? nil : request.author)
                let image = CommittedImage(architecture: parent.architecture, author: request.author, config: config,
                                           container: record.ID, container_config: record.Config, created: now,
                                           docker_version: SystemInfo.version,
                                           history: (parent.history ?? []) + [entry], os: parent.os,
                                           rootfs: .init(diff_ids: parent.rootfs.diff_ids + [diffID]))
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                return try encoder.encode(image)
            }
        }
    }
}
