import BerthOCI
import FoundationEssentials
import Glibc

/// The user a container's process runs as: `Config.User` (`name`, `uid`, `name:group`,
/// `uid:gid`, ...) and HostConfig.GroupAdd, looked up in the container's own /etc/passwd and
/// /etc/group as runc's user package does, with its error texts.
public enum ContainerUser {
    static let maximumID = 2_147_483_647

    struct PasswdEntry { var name: String; var uid: Int; var gid: Int }
    struct GroupEntry { var name: String; var gid: Int; var members: [String] }

    /// Resolves `user` and `groupAdd` against the files under `rootfs`. Missing files are
    /// fine for numeric ids; names then fail as they do in Docker.
    public static func resolve(user: String?, groupAdd: [String]?, rootfs: String) throws -> Spec.User {
        let passwd = readFile(ScopedPath.resolve("/etc/passwd", inRoot: rootfs)).map(parsePasswd)
        let group = readFile(ScopedPath.resolve("/etc/group", inRoot: rootfs)).map(parseGroup)
        return try resolve(user: user ?? "", groupAdd: groupAdd ?? [], passwd: passwd, group: group)
    }

    static func resolve(user spec: String, groupAdd: [String], passwd: [PasswdEntry]?, group: [GroupEntry]?) throws -> Spec.User {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let userArg = parts.first ?? "", groupArg = parts.count > 1 ? parts[1] : ""
        let uidArg = try parseNumeric(userArg), gidArg = try parseNumeric(groupArg)

        var uid = 0, gid = 0
        var matchedName = ""
        let match = (passwd ?? []).first { entry in
            if userArg.isEmpty { return entry.uid == 0 }
            if let uidArg { return entry.uid == uidArg }
            return entry.name == userArg
        }
        if let match {
            matchedName = match.name
            uid = match.uid
            gid = match.gid
        } else if !userArg.isEmpty {
            guard let uidArg else {
                throw BerthError.invalidArgument("unable to find user \(userArg): no matching entries in passwd file")
            }
            uid = uidArg
        }

        var supplementary: [Int] = []
        if !groupArg.isEmpty {
            if let found = (group ?? []).first(where: { gidArg != nil ? $0.gid == gidArg : $0.name == groupArg }) {
                gid = found.gid
            } else if let gidArg {
                gid = gidArg
            } else {
                throw BerthError.invalidArgument("unable to find group \(groupArg): no matching entries in group file")
            }
        } else if !matchedName.isEmpty {
            supplementary = (group ?? []).filter { $0.members.contains(matchedName) }.map(\.gid)
        }

        var added: [Int] = []
        for name in groupAdd {
            let numeric = try parseNumeric(name)
            let found = (group ?? []).first { numeric != nil ? $0.gid == numeric : $0.name == name }
            guard let id = found?.gid ?? numeric else {
                throw BerthError.invalidArgument("Unable to find group \(name): no matching entries in group file")
            }
            if !added.contains(id) { added.append(id) }
        }
        // Docker lists the primary group first among the additional ones.
        let additional = ([gid] + supplementary + added).map { UInt32($0) }
        return Spec.User(uid: UInt32(uid), gid: UInt32(gid), additionalGids: additional)
    }

    /// A decimal id in 0...2^31-1, nil for a name.
    static func parseNumeric(_ text: String) throws -> Int? {
        let digits = (text.first == "-" || text.first == "+") ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        guard let value = Int(text), (0...maximumID).contains(value) else {
            throw BerthError.invalidArgument("uids and gids must be in range 0-\(maximumID)")
        }
        return value
    }

    /// An image's /etc/group can be empty (see readTextFile).
    static func readFile(_ path: String) -> String? {
        readTextFile(path)
    }

    static func lines(_ text: String) -> [[Substring]] {
        text.split(separator: "\n").compactMap { line in
            let trimmed = line.trimmed(newlines: false)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { return nil }
            return line.split(separator: ":", omittingEmptySubsequences: false)
        }
    }

    static func parsePasswd(_ text: String) -> [PasswdEntry] {
        lines(text).compactMap { fields in
            guard fields.count >= 4 else { return nil }
            return PasswdEntry(name: String(fields[0]), uid: Int(fields[2]) ?? 0, gid: Int(fields[3]) ?? 0)
        }
    }

    static func parseGroup(_ text: String) -> [GroupEntry] {
        lines(text).compactMap { fields in
            guard fields.count >= 3 else { return nil }
            let members = fields.count > 3 ? fields[3].split(separator: ",").map { $0.trimmed(newlines: false) } : []
            return GroupEntry(name: String(fields[0]), gid: Int(fields[2]) ?? 0, members: members)
        }
    }
}

/// A path inside a container's root, with symlinks followed as if the root were "/", so an
/// image's absolute link never leads out to the host.
public enum ScopedPath {
    public static func resolve(_ path: String, inRoot root: String) -> String {
        var walk = PathWalk(path)
        while let component = walk.next() {
            let candidate = root + "/" + (walk.resolved + [component]).joined(separator: "/")
            if walk.links < 255, let target = SymbolicLink.target(candidate) {
                walk.follow(target)
            } else {
                walk.accept(component)
            }
        }
        return root + "/" + walk.resolved.joined(separator: "/")
    }
}
