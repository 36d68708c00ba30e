import BerthOCI
import BerthStore
import FoundationEssentials

extension ContainerUser {
    /// The owner `docker cp -a` gives what it unpacks: the container's `User`, looked up in
    /// its /etc/passwd and /etc/group as current dockerd's copy does (getUIDGID), which is
    /// not quite `docker run`'s lookup: a uid with no passwd entry gets gid 0, a name must be
    /// found, and the errors are worded its way.
    static func copyOwner(user spec: String, rootfs: String) throws -> (uid: UInt32, gid: UInt32) {
        let userPart = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let groupPart = spec.contains(":") ? String(spec[spec.index(after: spec.firstIndex(of: ":")!)...]) : ""
        var uid = 0, gid = 0
        if !userPart.isEmpty {
            let passwd = readFile(ScopedPath.resolve("/etc/passwd", inRoot: rootfs)).map(parsePasswd) ?? []
            if let id = numericID(userPart) {
                uid = id
                if let entry = passwd.first(where: { $0.uid == id }) { gid = entry.gid }
            } else if let entry = passwd.first(where: { $0.name == userPart }) {
                (uid, gid) = (entry.uid, entry.gid)
            } else {
                throw BerthError.invalidArgument("failed to look up user \(userPart.goJSONQuoted) in container: no matching entries in passwd file")
            }
        }
        if !groupPart.isEmpty {
            if let id = numericID(groupPart) {
                gid = id
            } else if let entry = (readFile(ScopedPath.resolve("/etc/group", inRoot: rootfs)).map(parseGroup) ?? [])
                .first(where: { $0.name == groupPart }) {
                gid = entry.gid
            } else {
                throw BerthError.invalidArgument("failed to look up group \(groupPart.goJSONQuoted) in container: no matching entries in group file")
            }
        }
        return (UInt32(uid), UInt32(gid))
    }

    /// dockerd's getIDOrName: a 32-bit unsigned number up to MaxInt32 is an ID, anything else a name.
    private static func numericID(_ text: String) -> Int? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = UInt32(text), value <= UInt32(Int32.max) else {
            return nil
        }
        return Int(value)
    }
}
