import BerthOCI
import BerthStore

/// Image operations through the engine, so that each emits dockerd's image events: the
/// image's ID as actor, its labels, and `name` (the new reference for `tag`, else the ID).
/// These run on a blocking thread; publishing does not wait.
extension Engine {
    public func loadImages(from fd: Int32) throws -> (lines: [String], layers: [(id: String, bytes: Int64)]) {
        let result = try images.loadReporting(from: fd)
        var loaded: [String] = []
        for line in result.lines {
            let name = line.hasPrefix("Loaded image ID: ") ? String(line.dropFirst(17))
                : line.hasPrefix("Loaded image: ") ? String(line.dropFirst(14)) : nil
            guard let name, let id = try? images.containerBase(name).id, !loaded.contains(id) else { continue }
            loaded.append(id)
        }
        for id in loaded { emitImage("load", id: id) }
        return result
    }

    public func importImage(from fd: Int32, reference: String?, changes: [String], message: String?, platform: String?) throws -> String {
        let config = try ConfigChanges.importedConfig(changes)
        let id = try images.importImage(from: fd, reference: reference, config: config, message: message, platform: platform)
        if let reference, let familiar = try? ImageReference.parse(reference).familiar { emitImage("tag", id: id, name: familiar) }
        emitImage("import", id: id)
        return id
    }

    public func tagImage(_ source: String, repository: String, tag: String?) throws {
        try images.tag(source, repository: repository, tag: tag)
        let reference = repository + (tag.map { $0.isEmpty ? "" : ":" + $0 } ?? "")
        if let id = try? images.containerBase(source).id {
            emitImage("tag", id: id, name: (try? ImageReference.parse(reference).familiar) ?? reference)
        }
    }

    public func removeImage(_ name: String, force: Bool) throws -> [DeleteResponseItem] {
        let id = try? images.containerBase(name).id
        let labels = id.flatMap { try? images.containerBase($0).config.config?.Labels } ?? [:]
        let imageIDs = Set(((try? images.list(all: true)) ?? []).map(\.Id))
        let removed = try images.remove(name, force: force)
        if let id { emitRemoval(removed, id: id, labels: labels, imageIDs: imageIDs) }
        return removed
    }

    public func pruneImages(all: Bool, filters: PruneFilters) throws -> PruneReport {
        let imageIDs = Set(((try? images.list(all: true)) ?? []).map(\.Id))
        let report = try images.prune(all: all, filters: filters)
        // Each image's untags come before its deletion.
        var untagged: [DeleteResponseItem] = []
        for item in report.ImagesDeleted ?? [] {
            untagged.append(item)
            if let id = item.Deleted, imageIDs.contains(id) {
                emitRemoval(untagged, id: id, labels: [:], imageIDs: imageIDs)
                untagged = []
            }
        }
        events.publish(.image, "prune", actor: "", attributes: ["reclaimed": String(report.SpaceReclaimed)])
        return report
    }

    /// `save` events once the archive is written: one per image.
    func emitSaved(_ names: [String]) {
        var saved: [String] = []
        for name in names {
            guard let id = try? images.containerBase(name).id, !saved.contains(id) else { continue }
            saved.append(id)
            emitImage("save", id: id)
        }
    }

    /// `imageIDs`: the images there were before; the other deletions are layers, which dockerd
    /// reports in the answer but tells no event of.
    private func emitRemoval(_ items: [DeleteResponseItem], id: String, labels: [String: String], imageIDs: Set<String>) {
        for item in items {
            if item.Untagged != nil { emitImage("untag", id: id, labels: labels) }
            // A deletion can take the image it was committed from along. dockerd tells it once
            // the image is gone, so without the image's labels.
            if let deleted = item.Deleted, imageIDs.contains(deleted) {
                emitImage("delete", id: deleted, labels: [:])
            }
        }
    }

    func emitImage(_ action: String, id: String, name: String? = nil, labels: [String: String]? = nil) {
        var attributes = labels ?? (try? images.containerBase(id).config.config?.Labels) ?? [:]
        attributes["name"] = name ?? id
        events.publish(.image, action, actor: id, attributes: attributes)
    }
}
