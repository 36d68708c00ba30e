import BerthOCI
import FoundationEssentials
import Glibc

/// Layers unpacked under `<data-root>/overlay`, one directory per chain ID, and the overlay
/// mounts made from them. Each layer has a short link name (`overlay/l/<id>` → its diff) so
/// that a lowerdir list of ~100 layers stays within the kernel's one-page mount options.
public final class Snapshotter: @unchecked Sendable {
    public let root: String
    private var links: String { root + "/l" }

    init(root: String) throws {
        self.root = root
        try FileManager.default.createDirectory(atPath: root + "/l", withIntermediateDirectories: true)
        TopDirectory.mark(root)
        // A crash in the middle of an unpack leaves an -incomplete directory: never used, removed.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where name.hasSuffix("-incomplete") {
            try? FileManager.default.removeItem(atPath: root + "/" + name)
        }
    }

    /// chainID(1) = diffID(1); chainID(n) = sha256(chainID(n-1) + " " + diffID(n)).
    static func chainIDs(_ diffIDs: [String]) -> [String] {
        var chain: [String] = []
        for diffID in diffIDs {
            chain.append(chain.last.map { SHA256Hasher.digest(Data(($0 + " " + diffID).utf8)) } ?? diffID)
        }
        return chain
    }

    func directory(_ chainID: String) -> String { root + "/" + chainID.dropFirst(7) }

    func hasLayer(_ chainID: String) -> Bool {
        FileManager.default.fileExists(atPath: directory(chainID) + "/link")
    }

    /// Unpacks a layer on top of `parent`, all or nothing.
    func addLayer(_ chainID: String, parent: String?, layerFD: Int32) throws {
        if hasLayer(chainID) { return }
        let final = directory(chainID)
        let temp = final + "-incomplete"
        try? FileManager.default.removeItem(atPath: temp)
        try FileManager.default.createDirectory(atPath: temp + "/diff", withIntermediateDirectories: true)
        do {
            let size = try LayerUnpacker.unpack(layerFD: layerFD, into: temp + "/diff")
            try String(size).write(toFile: temp + "/size", atomically: true, encoding: .utf8)
            let link = String(UUID().uuidString.replacing("-", with: "").prefix(26)).uppercased()
            let lower = try parent.map { try lowerChain(of: $0) } ?? []
            try lower.joined(separator: ":").write(toFile: temp + "/lower", atomically: true, encoding: .utf8)
            try link.write(toFile: temp + "/link", atomically: true, encoding: .utf8)
            try FileManager.default.createSymbolicLink(atPath: links + "/" + link, withDestinationPath: "../" + chainID.dropFirst(7) + "/diff")
            guard rename(temp, final) == 0 else { throw BerthError.internalError("rename \(temp): \(String(cString: strerror(errno)))") }
        } catch {
            try? FileManager.default.removeItem(atPath: temp)
            throw error
        }
    }

    /// The bytes of the files a layer holds (not counting its parents).
    func size(_ chainID: String) -> Int64? {
        readTextFile(directory(chainID) + "/size").flatMap { Int64($0) }
    }

    /// "l/<link>" of a layer and of everything below it, topmost first.
    func lowerChain(of chainID: String) throws -> [String] {
        let dir = directory(chainID)
        // Not String(contentsOfFile:): see readTextFile (a base layer's `lower` is empty).
        guard let link = readTextFile(dir + "/link") else {
            throw BerthError.notFound("layer \(chainID) is not unpacked")
        }
        let below = readTextFile(dir + "/lower") ?? ""
        return ["l/" + link] + below.split(separator: ":").map(String.init)
    }

    /// The directories of an image's layers (its top chain ID and those below), topmost
    /// first, through their short links: what a read-only overlay of the image stacks.
    public func layerDirectories(of chainID: String) throws -> [String] {
        try lowerChain(of: chainID).map { root + "/" + $0 }
    }

    /// The overlay options for a writable container root on top of `parent` (an image's top
    /// chain ID); makes `<key>/{diff,work,merged}`. Absolute short links keep them short.
    public func prepare(key: String, parent: String) throws -> Spec.Mount {
        guard !key.isEmpty, !key.contains("/"), !key.hasPrefix("sha256") else { throw BerthError.invalidArgument("invalid snapshot key \(key)") }
        let dir = root + "/" + key
        // One mkdir each (the root is made at start): FileManager's walk checks every parent.
        for path in [dir, dir + "/diff", dir + "/work", dir + "/merged"] where mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw BerthError.internalError("mkdir \(path): \(String(cString: strerror(errno)))")
        }
        return try mount(key: key, parent: parent)
    }

    public func mount(key: String, parent: String) throws -> Spec.Mount {
        let dir = root + "/" + key
        let lowers = try lowerChain(of: parent).map { root + "/" + $0 }.joined(separator: ":")
        return Spec.Mount(destination: "/", type: "overlay", source: "overlay",
                          options: ["lowerdir=" + lowers, "upperdir=" + dir + "/diff", "workdir=" + dir + "/work"])
    }

    /// The writable roots `prepare` made (every directory that is not a layer: a layer has its
    /// `link` before it gets its name), for a reconcile against the containers that exist.
    public func preparedKeys() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { name in
            name != "l" && !name.hasSuffix("-incomplete") && access(root + "/" + name + "/link", F_OK) != 0
        }
    }

    public func remove(key: String) throws {
        guard !key.isEmpty, !key.contains("/"), !key.hasPrefix("sha256"), !key.hasPrefix("l") || key.count > 1 else {
            throw BerthError.invalidArgument("invalid snapshot key \(key)")
        }
        try? FileManager.default.removeItem(atPath: root + "/" + key)
    }

    /// Removes an unpacked layer (when no image uses it any more).
    func removeLayer(_ chainID: String) {
        let dir = directory(chainID)
        if let link = readTextFile(dir + "/link") { unlink(links + "/" + link) }
        try? FileManager.default.removeItem(atPath: dir)
    }
}
