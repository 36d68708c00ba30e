import BerthOCI
import FoundationEssentials
import Glibc

/// What `HEAD`/`GET /containers/{id}/archive` say about a path, in the
/// `X-Docker-Container-Path-Stat` header: base64 of {name,size,mode,mtime,linkTarget}, the
/// mode in Go's os.FileMode bits (the CLI decodes it as one).
public struct PathStat: Equatable, Sendable {
    public var name: String
    public var size: Int64
    /// Go's os.FileMode: permission bits plus the type and special bits below.
    public var mode: UInt32
    public var mtime: (seconds: Int64, nanoseconds: Int64)
    public var linkTarget: String

    public static func == (a: PathStat, b: PathStat) -> Bool {
        a.name == b.name && a.size == b.size && a.mode == b.mode && a.mtime == b.mtime && a.linkTarget == b.linkTarget
    }

    // Go's os.FileMode bits.
    static let modeDir: UInt32 = 1 << 31
    static let modeSymlink: UInt32 = 1 << 27
    static let modeDevice: UInt32 = 1 << 26
    static let modeNamedPipe: UInt32 = 1 << 25
    static let modeSocket: UInt32 = 1 << 24
    static let modeSetuid: UInt32 = 1 << 23
    static let modeSetgid: UInt32 = 1 << 22
    static let modeCharDevice: UInt32 = 1 << 21
    static let modeSticky: UInt32 = 1 << 20

    /// A unix st_mode as Go's os.FileMode.
    public static func goFileMode(_ unixMode: UInt32) -> UInt32 {
        var mode = unixMode & 0o777
        switch unixMode & UInt32(S_IFMT) {
        case UInt32(S_IFDIR): mode |= modeDir
        case UInt32(S_IFLNK): mode |= modeSymlink
        case UInt32(S_IFBLK): mode |= modeDevice
        case UInt32(S_IFCHR): mode |= modeDevice | modeCharDevice
        case UInt32(S_IFIFO): mode |= modeNamedPipe
        case UInt32(S_IFSOCK): mode |= modeSocket
        default: break
        }
        if unixMode & UInt32(S_ISUID) != 0 { mode |= modeSetuid }
        if unixMode & UInt32(S_ISGID) != 0 { mode |= modeSetgid }
        if unixMode & UInt32(S_ISVTX) != 0 { mode |= modeSticky }
        return mode
    }

    /// The JSON dockerd sends, in its field order (Go escapes no slashes; it does escape <, > and &).
    public var json: String {
        let time = LogTimestamp(seconds: mtime.seconds, nanoseconds: Int32(mtime.nanoseconds)).rfc3339(fixedFraction: false)
        return "{\"name\":\(name.goJSONQuoted),\"size\":\(size),\"mode\":\(mode),\"mtime\":\"\(time)\",\"linkTarget\":\(linkTarget.goJSONQuoted)}"
    }

    /// The value of the X-Docker-Container-Path-Stat header.
    public var header: String { Data(json.utf8).base64EncodedString() }
}
