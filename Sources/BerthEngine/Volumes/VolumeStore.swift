import BerthOCI
import BerthStore
import CSystemShims
import FoundationEssentials
import Glibc

/// The volumes of the local driver: `<data-root>/volumes/<name>/_data` and a metadata file
/// beside it, and which containers use each. Callable from any thread (a lock guards it), so
/// the container service can use it inside its own steps.
public final class VolumeStore: @unchecked Sendable {
    public let root: String
    private let lock = Lock()
    private var records: [String: VolumeRecord] = [:]
    /// Volume name → IDs of the containers that mount it.
    private var users: [String: Set<String>] = [:]
    private var publish: (@Sendable (String, String, [String: String]) -> Void)?
    private let localMounts = LocalVolumeMounts()

    public init(root: String) throws {
        self.root = root
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        TopDirectory.mark(root)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
            guard let data = try? Data(contentsOf: URL(fileURLWithPath: metadataPath(name))),
                  let record = try? JSONDecoder().decode(VolumeRecord.self, from: data), record.Name == name
            else {
                // A create or a removal cut off by a crash: not a volume, and swept (never
                // through something still mounted on it).
                var isDirectory = false
                if FileManager.default.fileExists(atPath: root + "/" + name, isDirectory: &isDirectory), isDirectory,
                   !LocalVolumeMounts.isMountpoint(mountpoint(name)) {
                    try? FileManager.default.removeItem(atPath: root + "/" + name)
                }
                continue
            }
            records[name] = record
        }
    }

    /// Where volume events go (action, volume name, attributes).
    public func setEventSink(_ sink: @escaping @Sendable (String, String, [String: String]) -> Void) {
        lock.withLock { publish = sink }
    }

    func metadataPath(_ name: String) -> String { root + "/" + name + "/volume.json" }
    public func mountpoint(_ name: String) -> String { root + "/" + name + "/_data" }

    // MARK: create, get, list

    /// Makes the volume, or answers the one of that name (as dockerd, labels are not changed).
    /// `user`: a container that uses it from now on, recorded at once so that no removal
    /// comes in between.
    @discardableResult
    public func create(name requested: String?, labels: [String: String]? = nil, driver: String? = nil,
                       driverOptions: [String: String]? = nil, user: String? = nil) throws -> VolumeRecord {
        let name = requested.flatMap { $0.isEmpty ? nil : $0 } ?? ContainerIdentity.newID()
        // As current dockerd: a volume made without a name is anonymous (`volume prune` takes it).
        var labels = labels
        if name != requested { labels = (labels ?? [:]).merging([VolumeRecord.anonymousLabel: ""]) { own, _ in own } }
        if let driver, !driver.isEmpty, driver != "local" {
            throw BerthError.notFound("create \(name): error looking up volume plugin \(driver): plugin \"\(driver)\" not found")
        }
        let (record, made) = try lock.withLock { () throws -> (VolumeRecord, Bool) in
            // An existing volume is answered as it is: its options were checked when it was made.
            if let existing = records[name] {
                if let user { users[name, default: []].insert(user) }
                return (existing, false)
            }
            do {
                try VolumeName.validate(name)
                try VolumeDriverOptions.validate(driverOptions ?? [:])
            } catch let error as BerthError {
                throw BerthError(error.code, "create \(name): \(error.message)")
            }
            if let user { users[name, default: []].insert(user) }
            let record = VolumeRecord(Name: name, Labels: labels.flatMap { $0.isEmpty ? nil : $0 },
                                      Options: driverOptions.flatMap { $0.isEmpty ? nil : $0 }, CreatedAt: Self.now())
            do {
                try FileManager.default.createDirectory(atPath: mountpoint(name), withIntermediateDirectories: true)
                try AtomicFile.write(try JSONEncoder().encode(record), to: metadataPath(name), durable: true)
            } catch {
                if let user { users[name]?.remove(user); if users[name]?.isEmpty == true { users[name] = nil } }
                throw BerthError.internalError("create \(name): \(error)")
            }
            records[name] = record
            return (record, true)
        }
        if made { emit("create", name) }
        return record
    }

    public func get(_ name: String) throws -> VolumeRecord {
        guard let record = lock.withLock({ records[name] }) else {
            throw BerthError.notFound("get \(name): no such volume")
        }
        return record
    }

    public func view(_ record: VolumeRecord) -> VolumeView { VolumeView(record: record, mountpoint: mountpoint(record.Name)) }

    /// Every volume with how many containers use it and the bytes of its data (`docker system df`).
    public func usage() -> [VolumeView] {
        // As dockerd, volumes with mount options are left out: their data is not on this disk.
        list(VolumeFilters()).filter { ($0.Options ?? [:]).isEmpty }.map { record in
            var view = view(record)
            view.usage = .init(RefCount: users(of: record.Name).count, Size: DirectorySize.of(view.mountpoint))
            return view
        }
    }

    public func list(_ filters: VolumeFilters) -> [VolumeRecord] {
        lock.withLock {
            records.values.filter { filters.matches($0, inUse: !(users[$0.Name] ?? []).isEmpty) }
        }.sorted { $0.Name < $1.Name }
    }

    public var count: Int { lock.withLock { records.count } }

    // MARK: users

    /// Records that a container mounts these volumes (at create, and for every container at start).
    public func use(_ names: [String], by container: String) {
        lock.withLock { for name in names { users[name, default: []].insert(container) } }
    }

    /// The container is gone: it no longer holds its volumes.
    public func release(_ names: [String], by container: String) {
        lock.withLock {
            for name in names {
                users[name]?.remove(container)
                if users[name]?.isEmpty == true { users[name] = nil }
            }
        }
    }

    public func users(of name: String) -> [String] { lock.withLock { (users[name] ?? []).sorted() } }

    // MARK: mounts of volumes with driver options

    /// A container using the volume starts: a volume made with mount options gets mounted.
    public func mount(_ name: String, by container: String) throws {
        try localMounts.mount(try get(name), at: mountpoint(name), by: container)
    }

    /// A container using the volume ended: the last one out unmounts it.
    public func unmount(_ name: String, by container: String) {
        localMounts.unmount(name, at: mountpoint(name), by: container)
    }

    /// At daemon start, with the volumes of the containers still running.
    public func reconcileMounts(running: [String: Set<String>]) {
        localMounts.reconcile(list(VolumeFilters()), path: mountpoint, running: running)
    }

    // MARK: remove, prune

    /// `force` removes a missing volume quietly; a volume in use is never removed.
    public func remove(_ name: String, force: Bool) throws {
        let record = try lock.withLock { () throws -> VolumeRecord? in
            guard let record = records[name] else {
                if force { return nil }
                throw BerthError.notFound("get \(name): no such volume")
            }
            if let holders = users[name], !holders.isEmpty {
                throw BerthError.conflict("remove \(name): volume is in use - [\(holders.sorted().joined(separator: ", "))]")
            }
            // Never delete through a mount (a bind of a host directory would lose its files).
            if LocalVolumeMounts.isMountpoint(mountpoint(name)) {
                _ = berth_umount2(mountpoint(name), Int32(MNT_DETACH))
                if LocalVolumeMounts.isMountpoint(mountpoint(name)) {
                    throw BerthError.internalError("remove \(name): its data directory is still mounted")
                }
            }
            // The metadata goes first: a crash part way leaves a directory the next start ignores.
            if unlink(metadataPath(name)) != 0 && errno != ENOENT {
                throw BerthError.internalError("remove \(name): \(String(cString: strerror(errno)))")
            }
            records[name] = nil
            return record
        }
        guard record != nil else { return }
        try? FileManager.default.removeItem(atPath: root + "/" + name)
        emit("destroy", name)
    }

    /// Unused volumes passing the filters (only anonymous ones unless `all`), with the bytes
    /// their data took.
    public func prune(_ filters: VolumeFilters) -> (deleted: [String], reclaimed: Int64) {
        var unused = filters
        unused.dangling = true
        // Volumes with mount options are never pruned, as dockerd's: removing one reclaims nothing.
        let candidates = list(unused).filter { (filters.all || $0.isAnonymous) && ($0.Options ?? [:]).isEmpty }
        var deleted: [String] = []
        var reclaimed: Int64 = 0
        for record in candidates {
            let size = DirectorySize.of(mountpoint(record.Name))
            guard (try? remove(record.Name, force: false)) != nil else { continue }  // taken meanwhile
            deleted.append(record.Name)
            reclaimed += size
        }
        return (deleted, reclaimed)
    }

    func emit(_ action: String, _ name: String, _ extra: [String: String] = [:]) {
        let sink = lock.withLock { publish }
        sink?(action, name, extra.merging(["driver": "local"]) { own, _ in own })
    }

    /// What dockerd shows as CreatedAt: RFC 3339 to the second, UTC.
    static func now() -> String {
        timestamp(seconds: Int64(time(nil)), nanoseconds: 0)
    }
}
