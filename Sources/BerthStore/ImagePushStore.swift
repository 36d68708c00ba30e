import BerthOCI
import CArchive
import FoundationEssentials
import Glibc

/// One layer of an image to push: its stored blob and what it is.
public struct PushLayer: Sendable {
    /// The stored blob's digest (as loaded, built or pulled: plain, gzip or zstd).
    public var blob: String
    public var diffID: String
    /// The stored blob is gzip data: it is pushed as it is.
    public var isGzip: Bool
    public var size: Int64
    /// The id progress lines show: the diff ID, 12 hex digits (as dockerd's push shows).
    public var shortID: String { String(diffID.dropFirst(7).prefix(12)) }
}

/// What a push needs of the image store: the image's config and layers, the tags of a
/// repository, layers compressed with gzip for the registry, and the repository digest a
/// push records.
extension ImageStore {
    /// The config's bytes and the layers (base first) of the image `name` names.
    public func pushSource(_ name: String) throws -> (id: String, config: Data, layers: [PushLayer]) {
        let record = try resolve(name)
        let config = try content.read(record.id)
        let diffIDs = try decodeConfig(record.id).rootfs.diff_ids
        guard diffIDs.count == record.layers.count else {
            throw BerthError.internalError("unable to get rootfs for image \(name): \(record.layers.count) layers for \(diffIDs.count) diff IDs")
        }
        let layers = zip(record.layers, diffIDs).map { blob, diffID in
            PushLayer(blob: blob, diffID: diffID, isGzip: isGzipBlob(blob), size: content.size(blob))
        }
        return (record.id, config, layers)
    }

    /// The tags of a repository ("registry/path") with their image IDs, sorted by tag as
    /// dockerd's reference store lists them.
    public func tags(ofRepository repository: String) -> [(tag: String, id: String)] {
        lock.withLock {
            state.references.compactMap { key, id -> (String, String)? in
                guard key.hasPrefix(repository + ":") else { return nil }
                let tag = String(key.dropFirst(repository.count + 1))
                return tag.contains("/") ? nil : (tag, id)
            }.sorted { $0.0 < $1.0 }
        }
    }

    /// The path of a stored blob.
    public func blobPath(_ digest: String) -> String? {
        content.exists(digest) ? content.path(digest) : nil
    }

    private func isGzipBlob(_ digest: String) -> Bool {
        guard let path = content.path(digest) else { return false }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var magic: [UInt8] = [0, 0]
        return magic.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 2, 0) } == 2 && magic == [0x1F, 0x8B]
    }

    /// A layer blob (plain, zstd…) as gzip data in a new file beside the blobs, with the
    /// gzip data's digest and size. The caller removes the file. No timestamp or name goes in
    /// the gzip header, so the same layer compresses to the same bytes each time.
    public func gzipLayer(_ blob: String) throws -> (path: String, digest: String, size: Int64) {
        guard let source = content.path(blob) else { throw BerthError.internalError("invalid layer digest \(blob)") }
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw BerthError.internalError("open \(source): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        let path = content.ingest + "/push-" + UUID().uuidString + ".gz"
        let output = open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw BerthError.internalError("open \(path): \(String(cString: strerror(errno)))") }
        defer { close(output) }
        do {
            guard let archive = archive_write_new() else { throw BerthError.internalError("libarchive: cannot allocate a writer") }
            defer { archive_write_free(archive) }
            func failure(_ step: String) -> BerthError {
                .internalError("\(step): \(archive_error_string(archive).map { String(cString: $0) } ?? "unknown error")")
            }
            // A raw stream (no tar around it) through the gzip filter, without padding.
            guard archive_write_add_filter_gzip(archive) == ARCHIVE_OK, archive_write_set_format_raw(archive) == ARCHIVE_OK,
                  archive_write_set_filter_option(archive, "gzip", "timestamp", nil) == ARCHIVE_OK,
                  archive_write_set_bytes_in_last_block(archive, 1) == ARCHIVE_OK,
                  archive_write_open_fd(archive, output) == ARCHIVE_OK else { throw failure("gzip") }
            guard let entry = archive_entry_new() else { throw BerthError.internalError("libarchive: cannot allocate an entry") }
            defer { archive_entry_free(entry) }
            archive_entry_set_filetype(entry, UInt32(0o100000))
            archive_entry_set_pathname(entry, "layer")
            guard archive_write_header(archive, entry) == ARCHIVE_OK else { throw failure("gzip") }
            try ArchiveReader.decompress(fd: input) { chunk in
                guard writeArchiveData(archive, chunk) else { throw failure("gzip") }
            }
            guard archive_write_close(archive) == ARCHIVE_OK else { throw failure("gzip") }
            guard lseek(output, 0, SEEK_SET) == 0 else { throw BerthError.internalError("seek \(path): \(String(cString: strerror(errno)))") }
            let hasher = SHA256Hasher()
            var size: Int64 = 0
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = read(output, &buffer, buffer.count)
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else { throw BerthError.internalError("read \(path): \(String(cString: strerror(errno)))") }
                if n == 0 { break }
                buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
                size += Int64(n)
            }
            return (path, hasher.finish(), size)
        } catch {
            unlink(path)
            throw error
        }
    }

    /// Records "repository@digest" for an image after a push, as dockerd adds the digest
    /// reference (`docker images --digests` shows it).
    public func recordPushedDigest(repository: String, digest: String, id: String) throws {
        try lock.withLock {
            guard state.images[id] != nil else { return }
            if state.digests == nil { state.digests = [:] }
            state.digests?[repository + "@" + digest] = id
            try persist()
        }
    }

    /// After a pull: the gzip layers recorded as held by the repository they came from, so a
    /// push to another repository of that registry can mount them.
    public func recordPulledLayers(configDigest: String, layers: [(digest: String, mediaType: String?)], repository: String) {
        guard let diffIDs = try? decodeConfig(configDigest).rootfs.diff_ids, diffIDs.count == layers.count else { return }
        for (layer, diffID) in zip(layers, diffIDs) where layer.mediaType?.hasSuffix("gzip") == true {
            distribution.record(diffID: diffID, digest: layer.digest, repository: repository)
        }
    }
}
