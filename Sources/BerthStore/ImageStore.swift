import BerthOCI
import FoundationEssentials
import Glibc

/// Images: their configs and layer blobs in the content store, and the references naming
/// them. What is visible is the state file, replaced atomically once an image is complete.
/// Calls block on disk I/O; the engine makes them off its event loops.
public final class ImageStore: @unchecked Sendable {
    struct Record: Codable {
        var id: String
        var layers: [String]       // blob digests, base layer first
        /// The image a commit started from: its history rows are the parent's plus this one's.
        var parent: String? = nil
        /// When a tag was last put on it (`docker tag`, or a commit, import or build naming it),
        /// as dockerd's Metadata.LastTagTime; loads and pulls leave it as it is.
        var lastTagTime: String? = nil
    }

    struct State: Codable {
        var images: [String: Record] = [:]
        var references: [String: String] = [:]   // normalised reference → image ID
        /// What pulls recorded: "repository@sha256:…" (the manifest's digest) → image ID.
        var digests: [String: String]? = nil
    }

    private let root: String
    let content: ContentStore
    /// The unpacked layers, and the container roots made from them.
    public let snapshotter: Snapshotter
    /// Which gzip blobs stand for which layers on registries (pushes and pulls).
    public let distribution: DistributionMetadata
    let lock = Lock()
    /// Loads run one at a time: a failed load sweeps unreferenced blobs, which must not be
    /// another load's blobs in flight.
    private let loadLock = Lock()
    var state: State
    /// Which containers use an image (set by the engine): rmi and prune must not pull an
    /// image from under one.
    public var imageUsers: (@Sendable (_ imageID: String) -> ImageUsers)? {
        get { lock.withLock { users } }
        set { lock.withLock { users = newValue } }
    }
    private var users: (@Sendable (String) -> ImageUsers)?
    /// lowerDirectories' answers by image ID: they follow from the ID's layers alone, and
    /// every `docker inspect` of a container asks (and `docker exec` inspects first).
    private var lowerDirectoriesByImage: [String: String] = [:]
    /// Blobs a pull in flight has written or will write (digest → pulls holding it): a sweep
    /// after another load's failure must leave them.
    var pinnedBlobs: [String: Int] = [:]

    public init(root: String) throws {
        self.root = root + "/image"
        content = try ContentStore(root: self.root)
        snapshotter = try Snapshotter(root: root + "/overlay")
        distribution = DistributionMetadata(path: self.root + "/distribution.json")
        if let data = FileManager.default.contents(atPath: self.root + "/state.json") {
            state = try JSONDecoder().decode(State.self, from: data)
        } else {
            state = State()
        }
        sweepUnreferencedBlobs()
    }

    /// Removes blobs no image uses: what a failed or interrupted load wrote.
    private func sweepUnreferencedBlobs() {
        let used = Set((state.images.values.flatMap { $0.layers + [$0.id] } + pinnedBlobs.keys).compactMap(digestHex))
        for name in (try? FileManager.default.contentsOfDirectory(atPath: content.blobs)) ?? [] where !used.contains(name) {
            unlink(content.blobs + "/" + name)
        }
    }

    public var imageCount: Int { lock.withLock { state.images.count } }

    // MARK: - load

    /// Loads a docker-archive or OCI image-layout tar read from `fd`; returns the lines the
    /// CLI prints ("Loaded image: busybox:latest").
    public func load(from fd: Int32) throws -> [String] {
        try loadReporting(from: fd).lines
    }

    /// A load, and the layers it unpacked (short diff ID, size of the layer as stored), for
    /// the progress lines `docker load` shows on a terminal.
    public func loadReporting(from fd: Int32) throws -> (lines: [String], layers: [(id: String, bytes: Int64)]) {
        loadLock.lock()
        defer { loadLock.unlock() }
        do {
            return try loadArchive(fd)
        } catch {
            lock.withLock { sweepUnreferencedBlobs() }
            throw error
        }
    }

    private func loadArchive(_ fd: Int32) throws -> (lines: [String], layers: [(id: String, bytes: Int64)]) {
        let reader = try ArchiveReader(fd: fd)
        var digests: [String: String] = [:]     // archive path → blob digest
        var small: [String: Data] = [:]         // archive path → bytes, for the JSON files
        var sawEntry = false
        while let entry = try reader.next() {
            sawEntry = true
            guard entry.isRegularFile else { continue }
            var kept = Data()
            let keep = entry.size <= 4 << 20 && (entry.path.hasSuffix(".json") || entry.path == "oci-layout" || entry.path == "repositories")
            let blob = try content.write { sink in
                try reader.readData { chunk in
                    if keep { kept.append(contentsOf: chunk) }
                    try sink(chunk)
                }
            }
            digests[entry.path] = blob.digest
            if keep { small[entry.path] = kept }
        }
        guard sawEntry else { throw BerthError.invalidArgument("the archive is empty") }
        var loaded: [(Record, [ImageReference])] = []
        if let manifest = small["manifest.json"] {
            loaded = try loadDockerArchive(manifest, digests: digests)
        } else if let index = small["index.json"] {
            loaded = try loadOCILayout(index, digests: digests)
        } else {
            throw BerthError.invalidArgument("invalid archive: it has neither manifest.json (docker save) nor index.json (OCI layout)")
        }
        var layers: [(id: String, bytes: Int64)] = []
        for (record, _) in loaded { layers += try unpackLayers(of: record) }
        var lines: [String] = []
        try lock.withLock {
            for (var record, references) in loaded {
                record.parent = state.images[record.id]?.parent   // a reload keeps what a commit recorded
                state.images[record.id] = record
                for reference in references {
                    state.references[reference.repository + ":" + (reference.tag ?? "latest")] = record.id
                    lines.append("Loaded image: \(reference.familiar)")
                }
                if references.isEmpty { lines.append("Loaded image ID: \(record.id)") }
            }
            try persist()
        }
        return (lines, layers)
    }

    private func loadDockerArchive(_ manifestData: Data, digests: [String: String]) throws -> [(Record, [ImageReference])] {
        let manifest: [ArchiveManifestEntry]
        do {
            manifest = try JSONDecoder().decode([ArchiveManifestEntry].self, from: manifestData)
        } catch {
            throw BerthError.invalidArgument("invalid manifest.json: \(error)")
        }
        return try manifest.map { entry in
            guard let configDigest = digests[ArchiveReader.clean(entry.Config)] else {
                throw BerthError.invalidArgument("invalid archive: config \(entry.Config) is missing")
            }
            let config = try decodeConfig(configDigest)
            guard config.rootfs.diff_ids.count == entry.Layers.count else {
                throw BerthError.invalidArgument("invalid archive: \(entry.Layers.count) layers for \(config.rootfs.diff_ids.count) diff IDs")
            }
            var layers: [String] = []
            for (path, diffID) in zip(entry.Layers, config.rootfs.diff_ids) {
                guard let blob = digests[ArchiveReader.clean(path)] else {
                    throw BerthError.invalidArgument("invalid archive: layer \(path) is missing")
                }
                try verifyLayer(blob, diffID: diffID)
                layers.append(blob)
            }
            let references = try (entry.RepoTags ?? []).map { try ImageReference.parse($0) }
            return (Record(id: configDigest, layers: layers), references)
        }
    }

    private func loadOCILayout(_ indexData: Data, digests: [String: String]) throws -> [(Record, [ImageReference])] {
        struct Descriptor: Decodable {
            var mediaType: String?
            var digest: String
            var annotations: [String: String]?
        }
        struct Index: Decodable { var manifests: [Descriptor] }
        struct Manifest: Decodable {
            var config: Descriptor
            var layers: [Descriptor]
        }
        func blob(_ digest: String) throws -> String {
            guard let hex = digestHex(digest), digests["blobs/sha256/" + hex] == digest else {
                throw BerthError.invalidArgument("invalid OCI layout: blob \(digest) is missing or its content does not match its digest")
            }
            return digest
        }
        func images(in index: Index) throws -> [(Record, [ImageReference])] {
            try index.manifests.flatMap { descriptor -> [(Record, [ImageReference])] in
                let data = try content.read(try blob(descriptor.digest))
                if descriptor.mediaType?.contains("index") == true {
                    return try images(in: JSONDecoder().decode(Index.self, from: data))
                }
                let manifest = try JSONDecoder().decode(Manifest.self, from: data)
                let configDigest = try blob(manifest.config.digest)
                let config = try decodeConfig(configDigest)
                let layers = try manifest.layers.map { try blob($0.digest) }
                guard layers.count == config.rootfs.diff_ids.count else {
                    throw BerthError.invalidArgument("invalid OCI layout: \(layers.count) layers for \(config.rootfs.diff_ids.count) diff IDs")
                }
                for (layer, diffID) in zip(layers, config.rootfs.diff_ids) { try verifyLayer(layer, diffID: diffID) }
                var references: [ImageReference] = []
                if let name = descriptor.annotations?["io.containerd.image.name"] ?? descriptor.annotations?["org.opencontainers.image.ref.name"],
                   let reference = try? ImageReference.parse(name) {
                    references.append(reference)
                }
                return [(Record(id: configDigest, layers: layers), references)]
            }
        }
        do {
            return try images(in: JSONDecoder().decode(Index.self, from: indexData))
        } catch let error as BerthError {
            throw error
        } catch {
            throw BerthError.invalidArgument("invalid OCI layout: \(error)")
        }
    }

    /// Unpacks every layer of an image that is not unpacked yet, base first; returns them
    /// (short diff ID, stored size).
    @discardableResult
    func unpackLayers(of record: Record) throws -> [(id: String, bytes: Int64)] {
        let diffIDs = try decodeConfig(record.id).rootfs.diff_ids
        let chain = Snapshotter.chainIDs(diffIDs)
        var unpacked: [(id: String, bytes: Int64)] = []
        for (index, (chainID, blob)) in zip(chain, record.layers).enumerated() where !snapshotter.hasLayer(chainID) {
            guard let path = content.path(blob) else { continue }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw BerthError.internalError("open layer \(blob): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            try snapshotter.addLayer(chainID, parent: index > 0 ? chain[index - 1] : nil, layerFD: fd)
            unpacked.append((String(diffIDs[index].dropFirst(7).prefix(12)), content.size(blob)))
        }
        return unpacked
    }

    /// What a new container takes from its image.
    public func containerBase(_ name: String) throws -> (id: String, config: ImageConfig, topLayer: String?) {
        let record = try resolve(name)
        let base = try containerBases.get(record.id) { try decodeConfig(record.id) }
        return (record.id, base.config, base.topLayer)
    }

    /// The chain ID of an image's top layer: the parent of a container's root.
    public func topLayer(_ name: String) throws -> String? {
        let id = try resolve(name).id
        return try containerBases.get(id) { try decodeConfig(id) }.topLayer
    }

    /// Every create and start reads its image's config: decoded once per image.
    private let containerBases = ContainerBaseCache()

    func decodeConfig(_ digest: String) throws -> ImageConfig {
        do {
            return try JSONDecoder().decode(ImageConfig.self, from: content.read(digest))
        } catch let error as BerthError {
            throw error
        } catch {
            throw BerthError.invalidArgument("invalid image config \(digest): \(error)")
        }
    }

    /// A layer's diff ID is the digest of its uncompressed tar (loads and pulls).
    func verifyLayer(_ blob: String, diffID: String) throws {
        if blob == diffID { return }
        guard let path = content.path(blob) else { throw BerthError.invalidArgument("invalid layer digest \(blob)") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BerthError.internalError("open \(path) failed") }
        defer { close(fd) }
        let hasher = SHA256Hasher()
        do {
            try ArchiveReader.decompress(fd: fd) { hasher.update($0) }
        } catch let error as BerthError {
            throw BerthError.invalidArgument("layer \(blob) \(error.message)")
        }
        let actual = hasher.finish()
        guard actual == diffID else {
            throw BerthError.invalidArgument("layer digest mismatch: the image config says \(diffID), the layer is \(actual)")
        }
    }

    // MARK: - import

    /// `docker import`: a root filesystem tar (plain or compressed) becomes a one-layer image.
    /// Returns the image ID.
    public func importImage(from fd: Int32, reference: String?, config: ImageConfig.Config, message: String?,
                            platform: String?) throws -> String {
        let target = try reference.map { try ImageReference.parse($0) }
        let (os, architecture) = try Self.platform(platform)
        return try creatingImage {
            let layer = try writeUncompressedLayer(from: fd)
            let now = LogTimestamp.now().rfc3339(fixedFraction: false)
            let image = ImageConfig(architecture: architecture, os: os, created: now, config: config,
                                    rootfs: .init(diff_ids: [layer]),
                                    history: [.init(created: now, created_by: "", comment: message ?? "Imported from -")],
                                    comment: message ?? "Imported from -")
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return try addImage(config: encoder.encode(image), layers: [layer], parent: nil, reference: target)
        }
    }

    /// Makes a new image (import, commit). These run one at a time with loads, and a failure
    /// sweeps the blobs it wrote.
    func creatingImage<T>(_ work: () throws -> T) throws -> T {
        loadLock.lock()
        defer { loadLock.unlock() }
        do {
            return try work()
        } catch {
            lock.withLock { sweepUnreferencedBlobs() }
            throw error
        }
    }

    /// Stores a new image's config, unpacks its layers (blobs already stored, base first) and
    /// records it under `reference`. Returns the image ID.
    func addImage(config: Data, layers: [String], parent: String?, reference: ImageReference?) throws -> String {
        let id = try content.write(config)
        var record = Record(id: id, layers: layers, parent: parent)
        if reference != nil { record.lastTagTime = LogTimestamp.now().rfc3339(fixedFraction: false) }
        try unpackLayers(of: record)
        try lock.withLock {
            state.images[id] = record
            if let reference { state.references[reference.repository + ":" + (reference.tag ?? "latest")] = id }
            try persist()
        }
        return id
    }

    /// This machine's architecture as images name it ("amd64", "arm64").
    static let hostArchitecture: String = {
        var name = utsname()
        uname(&name)
        let machine = withUnsafeBytes(of: name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return ["x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"][machine] ?? machine
    }()

    static func platform(_ text: String?) throws -> (os: String, architecture: String) {
        guard let text, !text.isEmpty else { return ("linux", hostArchitecture) }
        let parts = text.split(separator: "/").map(String.init)
        guard parts.first == "linux", parts.count >= 2 else {
            throw BerthError.invalidArgument("\"\(text)\": unsupported platform: only linux/<arch> images can be made here")
        }
        return ("linux", parts[1])
    }

    /// Decompresses the input into a blob (its digest is the diff ID), then checks that the
    /// blob is a tar whose entries all stay inside the layer.
    private func writeUncompressedLayer(from fd: Int32) throws -> String {
        let blob: (digest: String, size: Int64)
        do {
            blob = try content.write { sink in try ArchiveReader.decompress(fd: fd, sink) }
        } catch let error as BerthError {
            throw BerthError.invalidArgument("the imported file \(error.message)")
        }
        let layerFD = open(content.path(blob.digest)!, O_RDONLY | O_CLOEXEC)
        guard layerFD >= 0 else { throw BerthError.internalError("cannot reopen the imported layer") }
        defer { close(layerFD) }
        let reader = try ArchiveReader(fd: layerFD)
        var entries = 0
        while try reader.next() != nil { entries += 1 }
        guard entries > 0 else { throw BerthError.invalidArgument("the imported file is not a tar archive of a root filesystem") }
        return blob.digest
    }

    // MARK: - save

    /// `docker save`: a tar holding both a docker-archive manifest.json (what every dockerd
    /// loads) and an OCI image layout (index.json), blobs stored once under blobs/sha256.
    public func save(_ names: [String], to fd: Int32) throws {
        guard !names.isEmpty else { throw BerthError.invalidArgument("no image names given") }
        var images: [(Record, [ImageReference])] = []
        for name in names {
            let record = try resolve(name)
            let named = Self.namesID(name, record.id) ? nil : try? ImageReference.parse(name)
            if let index = images.firstIndex(where: { $0.0.id == record.id }) {
                if let named { images[index].1.append(named) }
            } else {
                images.append((record, named.map { [$0] } ?? []))
            }
        }
        let writer = try ArchiveWriter(fd: fd)
        try writer.directory("blobs")
        try writer.directory("blobs/sha256")
        var written = Set<String>()
        var manifest: [ArchiveManifestEntry] = []
        var indexEntries: [OCIDescriptor] = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var repositories: [String: [String: String]] = [:]
        for (record, references) in images {
            for blob in [record.id] + record.layers where written.insert(blob).inserted {
                try writer.file("blobs/" + blob.replacing(":", with: "/"), contentsOf: content.path(blob)!)
            }
            let blobPath = { (digest: String) in "blobs/" + digest.replacing(":", with: "/") }
            manifest.append(ArchiveManifestEntry(Config: blobPath(record.id), RepoTags: references.map(\.familiar),
                                                 Layers: record.layers.map(blobPath)))
            // The OCI manifest for this image, itself a blob.
            let ociManifest = OCIManifest(
                config: .init(mediaType: "application/vnd.oci.image.config.v1+json", digest: record.id, size: content.size(record.id)),
                layers: record.layers.map { .init(mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $0, size: content.size($0)) })
            let manifestData = try encoder.encode(ociManifest)
            let manifestDigest = SHA256Hasher.digest(manifestData)
            if written.insert(manifestDigest).inserted { try writer.file(blobPath(manifestDigest), data: manifestData) }
            for reference in references.isEmpty ? [nil] : references.map(Optional.some) {
                var entry = OCIDescriptor(mediaType: "application/vnd.oci.image.manifest.v1+json",
                                          digest: manifestDigest, size: Int64(manifestData.count))
                if let reference {
                    entry.annotations = ["io.containerd.image.name": reference.repository + ":" + (reference.tag ?? "latest"),
                                            "org.opencontainers.image.ref.name": reference.tag ?? "latest"]
                    repositories[reference.familiarRepository, default: [:]][reference.tag ?? "latest"] = String(record.id.dropFirst(7))
                }
                indexEntries.append(entry)
            }
        }
        try writer.file("manifest.json", data: encoder.encode(manifest))
        if !repositories.isEmpty { try writer.file("repositories", data: encoder.encode(repositories)) }
        try writer.file("oci-layout", data: Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
        try writer.file("index.json", data: encoder.encode(OCIIndex(manifests: indexEntries)))
        try writer.finish()
    }

    // MARK: - lookup

    /// By full or short ID (at least 4 hex characters, unique), or by reference.
    func resolve(_ name: String) throws -> Record {
        try lock.withLock { try resolveLocked(name) }
    }

    private func resolveLocked(_ name: String) throws -> Record {
        let bare = name.hasPrefix("sha256:") ? String(name.dropFirst(7)) : name
        if bare.count >= 4, bare.count <= 64, bare.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) {
            let matches = state.images.keys.filter { $0.dropFirst(7).hasPrefix(bare) }
            if matches.count == 1 { return state.images[matches[0]]! }
            if matches.count > 1 { throw BerthError.invalidArgument("ambiguous image ID \(name): it matches \(matches.count) images") }
        }
        // A name that is no reference at all is the client's error (400, as dockerd), not a
        // missing image: a 404 would make clients try to pull it.
        let reference = try ImageReference.parse(name)
        if let digest = reference.digest {
            guard let id = state.digests?[reference.repository + "@" + digest], let record = state.images[id] else {
                throw BerthError.notFound("No such image: \(reference.familiarRepository)@\(digest)")
            }
            return record
        }
        let key = reference.repository + ":" + (reference.tag ?? "latest")
        guard let id = state.references[key], let record = state.images[id] else {
            throw BerthError.notFound("No such image: \(reference.familiar)")
        }
        return record
    }

    /// Whether `name` was an image ID (full or short) rather than a reference.
    static func namesID(_ name: String, _ id: String) -> Bool {
        name.hasPrefix("sha256:") || (name.count >= 4 && id.dropFirst(7).hasPrefix(name))
    }

    private func tags(of id: String) -> [String] {
        state.references.filter { $0.value == id }.keys.compactMap { try? ImageReference.parse($0).familiar }.sorted()
    }

    /// Whether an image was committed from `id`.
    private func hasChildren(_ id: String) -> Bool {
        state.images.values.contains { $0.parent == id }
    }

    /// The image's parent while it is still here ("" otherwise), as dockerd shows it.
    private func parentID(of record: Record) -> String {
        record.parent.flatMap { state.images[$0]?.id } ?? ""
    }

    // MARK: - list, inspect

    public func list(all: Bool = false, filters: [String: [String]] = [:]) throws -> [ImageSummary] {
        try lock.withLock {
            for key in filters.keys where !["dangling", "reference", "label", "before", "since"].contains(key) {
                throw BerthError.invalidArgument("invalid filter '\(key)'")
            }
            // before/since name an image; compare creation times with it.
            func created(_ name: String) throws -> Int64 {
                Self.unixTime(try decodeConfig(try resolveLocked(name).id).created)
            }
            let before = try filters["before"]?.last.map(created)
            let since = try filters["since"]?.last.map(created)
            return try state.images.values.compactMap { record -> ImageSummary? in
                let config = try decodeConfig(record.id)
                let tags = tags(of: record.id)
                if let values = filters["dangling"] {
                    // dockerd's boolean filter: 1/true or 0/false, not both, in its words.
                    let truthy = values.contains("1") || values.contains("true")
                    guard truthy != (values.contains("0") || values.contains("false")) else {
                        throw BerthError.invalidArgument("invalid filter 'dangling=[\(values.joined(separator: " "))]'")
                    }
                    if truthy != tags.isEmpty { return nil }
                }
                // An untagged image something was committed from is an intermediate one: -a only.
                if tags.isEmpty && hasChildren(record.id) && (!all || filters["dangling"]?.last == "true") { return nil }
                let createdAt = Self.unixTime(config.created)
                if let before, createdAt >= before { return nil }
                if let since, createdAt <= since { return nil }
                // Only the names the filter matches are shown; an image with none is left out.
                var shownTags = tags
                var shownDigests = repoDigests(of: record.id)
                if let patterns = filters["reference"] {
                    let filter = ReferenceFilter(patterns)
                    shownTags = shownTags.filter(filter.matches)
                    shownDigests = shownDigests.filter(filter.matches)
                    if shownTags.isEmpty && shownDigests.isEmpty { return nil }
                }
                if let labels = filters["label"] {
                    let have = config.config?.Labels ?? [:]
                    for label in labels {
                        let parts = label.split(separator: "=", maxSplits: 1).map(String.init)
                        if parts.count == 1 ? have[parts[0]] == nil : have[parts[0]] != parts[1] { return nil }
                    }
                }
                return ImageSummary(Id: record.id, ParentId: parentID(of: record), RepoTags: shownTags, RepoDigests: shownDigests,
                                    Created: createdAt, Size: layerSize(record, config), SharedSize: -1,
                                    Labels: config.config?.Labels ?? [:], Containers: -1)
            }.sorted { $0.Created > $1.Created }
        }
    }

    /// `GET /system/df`'s images: each with the size of its layers other images share and the
    /// number of containers using it, and the size of all distinct layers, as dockerd counts them.
    public func diskUsage() throws -> (images: [ImageSummary], layersSize: Int64) {
        // The top images, as `docker images` lists them (a build's intermediate ones are not
        // listed); their layers' uses are counted over every image, as dockerd counts them.
        var images = try list(all: false)
        return lock.withLock {
            var layerSizes: [String: Int64] = [:]
            var layersOf: [String: [String]] = [:]
            for record in state.images.values {
                guard let config = try? decodeConfig(record.id) else { continue }
                let chain = Snapshotter.chainIDs(config.rootfs.diff_ids)
                layersOf[record.id] = chain
                for (chainID, blob) in zip(chain, record.layers) {
                    layerSizes[chainID] = snapshotter.size(chainID) ?? content.size(blob)
                }
            }
            var uses: [String: Int] = [:]
            for chain in layersOf.values { for layer in Set(chain) { uses[layer, default: 0] += 1 } }
            for index in images.indices {
                let chain = Set(layersOf[images[index].Id] ?? [])
                images[index].SharedSize = chain.filter { (uses[$0] ?? 0) > 1 }.reduce(0) { $0 + (layerSizes[$1] ?? 0) }
                let users = self.users?(images[index].Id) ?? ImageUsers()
                images[index].Containers = Int64(users.running.count + users.stopped.count)
            }
            return (images, layerSizes.values.reduce(0, +))
        }
    }

    public func inspect(_ name: String) throws -> ImageInspect {
        let record = try resolve(name)
        let config = try decodeConfig(record.id)
        return lock.withLock {
            // A committed image's comment is in its last history entry (dockerd shows that).
            ImageInspect(Id: record.id, RepoTags: tags(of: record.id), RepoDigests: repoDigests(of: record.id), Parent: parentID(of: record),
                         Comment: config.comment ?? config.history?.last?.comment ?? "",
                         Created: config.created ?? "", DockerVersion: config.docker_version ?? "", Author: config.author ?? "",
                         Config: config.config, Container: config.container, ContainerConfig: config.container_config, Architecture: config.architecture ?? "", Variant: config.variant, Os: config.os ?? "",
                         Size: layerSize(record, config),
                         GraphDriver: .init(Data: graphDriverData(config), Name: "overlay2"),
                         RootFS: .init(Type: config.rootfs.type, Layers: config.rootfs.diff_ids),
                         Metadata: .init(LastTagTime: state.images[record.id]?.lastTagTime ?? "0001-01-01T00:00:00Z"))
        }
    }

    /// The image's history as `docker history` shows it: newest first, the top row carries the
    /// image ID and tags; older rows are "<missing>" (their intermediate images are not here).
    public func history(_ name: String) throws -> [HistoryItem] {
        let record = try resolve(name)
        let config = try decodeConfig(record.id)
        let tags = lock.withLock { self.tags(of: record.id) }
        // The bytes of the files in each layer, as dockerd counts them (the stored tar's size
        // for a layer not unpacked).
        var layerSizes = zip(Snapshotter.chainIDs(config.rootfs.diff_ids), record.layers)
            .map { snapshotter.size($0) ?? content.size($1) }.makeIterator()
        let entries = config.history ?? [ImageConfig.History(created: config.created, created_by: "", comment: nil, author: nil, empty_layer: nil)]
        var rows = entries.map { entry -> HistoryItem in
            let size = entry.empty_layer == true ? 0 : (layerSizes.next() ?? 0)
            return HistoryItem(Id: "<missing>", Created: Self.unixTime(entry.created), CreatedBy: entry.created_by ?? "",
                               Tags: [], Size: size, Comment: entry.comment ?? "")
        }
        rows.reverse()
        // Each image of the commit chain still here names its newest row, as dockerd shows.
        lock.withLock {
            var image: Record? = record
            while let current = image, let config = try? decodeConfig(current.id) {
                let row = rows.count - (config.history?.count ?? 1)
                guard row >= 0, row < rows.count else { break }
                rows[row].Id = current.id
                rows[row].Tags = current.id == record.id ? tags : self.tags(of: current.id)
                image = current.parent.flatMap { state.images[$0] }
            }
        }
        return rows
    }

    /// `docker image prune`: untagged images, or with `all` every image, that no container uses.
    public func prune(all: Bool, filters: PruneFilters = PruneFilters()) throws -> PruneReport {
        // Each layer's size, measured before any goes: the space reclaimed is that of the layers
        // the deletions free, as dockerd counts it, not that of layers other images still share.
        let layerSizes = lock.withLock {
            state.images.values.reduce(into: [String: Int64]()) { sizes, record in
                guard let config = try? decodeConfig(record.id) else { return }
                for (chainID, blob) in zip(Snapshotter.chainIDs(config.rootfs.diff_ids), record.layers) {
                    sizes[chainID] = snapshotter.size(chainID) ?? content.size(blob)
                }
            }
        }
        var deleted: [DeleteResponseItem] = []
        var tried = Set<String>()
        // Images nothing was committed from first; their parents become such images in the next round.
        while true {
            let victims = try lock.withLock {
                try state.images.keys.filter { id in
                    guard !tried.contains(id), !hasChildren(id) else { return false }
                    guard all || !state.references.values.contains(id) else { return false }
                    if let users, !users(id).isEmpty { return false }
                    return filters.isEmpty ? true : try filters.matches(decodeConfig(id))
                }.sorted()
            }
            if victims.isEmpty { break }
            for id in victims {
                tried.insert(id)
                guard lock.withLock({ state.images[id] }) != nil else { continue }
                deleted += try remove(id, force: true)
            }
        }
        let reclaimed = deleted.compactMap(\.Deleted).reduce(0) { $0 + (layerSizes[$1] ?? 0) }
        return PruneReport(ImagesDeleted: deleted.isEmpty ? nil : deleted, SpaceReclaimed: reclaimed)
    }

    /// The `LowerDir` of a container made from the image: its layers' directories, topmost first.
    public func lowerDirectories(_ imageID: String) -> String? {
        if let known = lock.withLock({ lowerDirectoriesByImage[imageID] }) { return known }
        guard let config = try? decodeConfig(imageID) else { return nil }
        let dirs = Snapshotter.chainIDs(config.rootfs.diff_ids).reversed().map { snapshotter.directory($0) + "/diff" }
        guard !dirs.isEmpty else { return nil }
        let joined = dirs.joined(separator: ":")
        lock.withLock { lowerDirectoriesByImage[imageID] = joined }
        return joined
    }

    /// Where the image's layers are, as dockerd shows them for overlay2.
    private func graphDriverData(_ config: ImageConfig) -> [String: String] {
        let chain = Snapshotter.chainIDs(config.rootfs.diff_ids)
        guard let top = chain.last else { return [:] }
        let topDirectory = snapshotter.directory(top)
        var data = ["UpperDir": topDirectory + "/diff", "WorkDir": topDirectory + "/work", "MergedDir": topDirectory + "/merged"]
        let lowers = chain.dropLast().reversed().map { snapshotter.directory($0) + "/diff" }
        if !lowers.isEmpty { data["LowerDir"] = lowers.joined(separator: ":") }
        return data
    }

    /// What `docker images` shows as SIZE: the bytes of the files in all the image's layers
    /// (the stored blob sizes for a layer not unpacked).
    private func layerSize(_ record: Record, _ config: ImageConfig) -> Int64 {
        let chain = Snapshotter.chainIDs(config.rootfs.diff_ids)
        return zip(chain, record.layers).reduce(0) { total, layer in
            total + (snapshotter.size(layer.0) ?? content.size(layer.1))
        }
    }

    static func unixTime(_ text: String?) -> Int64 {
        guard let text else { return 0 }
        return LogTimestamp(rfc3339: text)?.seconds ?? 0
    }


    // MARK: - tag, remove

    public func tag(_ source: String, repository: String, tag: String?) throws {
        let target = try ImageReference.parse(repository + (tag.map { $0.isEmpty ? "" : ":" + $0 } ?? ""))
        guard target.digest == nil else { throw BerthError.invalidArgument("refusing to create a tag with a digest reference") }
        try lock.withLock {
            let record = try resolveLocked(source)
            state.references[target.repository + ":" + (target.tag ?? "latest")] = record.id
            state.images[record.id]?.lastTagTime = LogTimestamp.now().rfc3339(fixedFraction: false)
            try persist()
        }
    }

    /// `docker rmi`: untags a reference; deletes the image once nothing names it (or by ID).
    public func remove(_ name: String, force: Bool) throws -> [DeleteResponseItem] {
        try lock.withLock {
            let record = try resolveLocked(name)
            var removed: [DeleteResponseItem] = []
            let byReference = !Self.namesID(name, record.id)
            let names = state.references.filter { $0.value == record.id }.keys.sorted()
            let shortID = record.id.dropFirst(7).prefix(12)
            let users = self.users?(record.id) ?? ImageUsers()
            if byReference, let reference = try? ImageReference.parse(name), let digest = reference.digest {
                state.digests?[reference.repository + "@" + digest] = nil
                removed.append(.init(Untagged: reference.familiar))
                if !names.isEmpty || hasChildren(record.id) || !repoDigests(of: record.id).isEmpty {
                    try persist()
                    return removed
                }
            } else if byReference, let reference = try? ImageReference.parse(name) {
                let key = reference.repository + ":" + (reference.tag ?? "latest")
                if names.count == 1, !force, let user = (users.running + users.stopped).first {
                    throw BerthError.conflict("conflict: unable to remove repository reference \"\(name)\" (must force) - container \(user.prefix(12)) is using its referenced image \(shortID)")
                }
                state.references[key] = nil
                removed.append(.init(Untagged: reference.familiar))
                // The last tag takes the pulled digests along, as dockerd untags them.
                if names.count == 1 { removed += untagDigestsLocked(of: record.id) }
                // Another name, or an image committed from it, keeps it.
                if names.count > 1 || hasChildren(record.id) {
                    try persist()
                    return removed
                }
            } else {
                if hasChildren(record.id) {
                    throw BerthError.conflict("conflict: unable to delete \(shortID) (cannot be forced) - image has dependent child images")
                }
                if let user = users.running.first {
                    throw BerthError.conflict("conflict: unable to delete \(shortID) (cannot be forced) - image is being used by running container \(user.prefix(12))")
                }
                if !force, let user = users.stopped.first {
                    throw BerthError.conflict("conflict: unable to delete \(shortID) (must be forced) - image is being used by stopped container \(user.prefix(12))")
                }
                if names.count > 1 && !force {
                    throw BerthError.conflict("conflict: unable to delete \(shortID) (must be forced) - image is referenced in multiple repositories")
                }
                for key in names {
                    state.references[key] = nil
                    removed.append(.init(Untagged: (try? ImageReference.parse(key).familiar) ?? key))
                }
                removed += untagDigestsLocked(of: record.id)
            }
            if !users.isEmpty {
                // Forced while a stopped container uses it: untagged, but kept for the container.
                try persist()
                return removed
            }
            let layers = try deleteLocked(record)
            removed.append(.init(Deleted: record.id))
            removed += layers.map { .init(Deleted: $0) }
            // The image it was committed from goes too once nothing names or uses it (dockerd's prune of parents).
            var parent = record.parent.flatMap { state.images[$0] }
            while let candidate = parent, tags(of: candidate.id).isEmpty, !hasChildren(candidate.id),
                  (self.users?(candidate.id) ?? ImageUsers()).isEmpty {
                let layers = try deleteLocked(candidate)
                removed.append(.init(Deleted: candidate.id))
                removed += layers.map { .init(Deleted: $0) }
                parent = candidate.parent.flatMap { state.images[$0] }
            }
            return removed
        }
    }

    /// Forgets an image and removes its layers and blobs that no other image uses.
    /// Deletes the image and the layers no other image uses; returns those layers' chain IDs,
    /// topmost first, which dockerd reports as deleted too.
    @discardableResult
    private func deleteLocked(_ record: Record) throws -> [String] {
        state.images[record.id] = nil
        state.digests = state.digests?.filter { $0.value != record.id }
        containerBases.forget(record.id)
        try persist()
        let usedChains = Set(state.images.values.flatMap { image in
            (try? decodeConfig(image.id)).map { Snapshotter.chainIDs($0.rootfs.diff_ids) } ?? []
        })
        var removedLayers: [String] = []
        if let config = try? decodeConfig(record.id) {
            for chainID in Snapshotter.chainIDs(config.rootfs.diff_ids).reversed() where !usedChains.contains(chainID) {
                snapshotter.removeLayer(chainID)
                removedLayers.append(chainID)
            }
        }
        let stillUsed = Set(state.images.values.flatMap { $0.layers + [$0.id] })
        for blob in record.layers + [record.id] where !stillUsed.contains(blob) { content.remove(blob) }
        return removedLayers
    }

    // MARK: - persistence

    func persist() throws {
        try AtomicFile.write(try JSONEncoder().encode(state), to: root + "/state.json")
    }
}
