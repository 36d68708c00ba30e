@testable import BerthEngine
import Foundation
import Glibc
import Testing

@Suite struct ContainerArchivePathTests {
    /// The header dockerd 20.10 sent for a 13-byte /etc/hostname (mode 0644).
    @Test func statHeaderIsDockerdsBase64JSON() {
        let stat = PathStat(name: "hostname", size: 13, mode: 420, mtime: (1_795_967_529, 133_560_957), linkTarget: "")
        #expect(stat.json == #"{"name":"hostname","size":13,"mode":420,"mtime":"2026-11-29T15:52:09.133560957Z","linkTarget":""}"#)
        #expect(stat.header == "eyJuYW1lIjoiaG9zdG5hbWUiLCJzaXplIjoxMywibW9kZSI6NDIwLCJtdGltZSI6IjIwMjYtMTEtMjlUMTU6NTI6MDkuMTMzNTYwOTU3WiIsImxpbmtUYXJnZXQiOiIifQ==")
        // Whole seconds print without a fraction; Go escapes <, > and & but not "/".
        let link = PathStat(name: "a<b", size: 4, mode: PathStat.goFileMode(UInt32(S_IFLNK) | 0o777), mtime: (0, 0), linkTarget: "/etc")
        #expect(link.json == #"{"name":"a\u003cb","size":4,"mode":134218239,"mtime":"1970-01-01T00:00:00Z","linkTarget":"/etc"}"#)
    }

    @Test func unixModesBecomeGoFileModes() {
        #expect(PathStat.goFileMode(UInt32(S_IFDIR) | 0o755) == 2_147_484_141)
        #expect(PathStat.goFileMode(UInt32(S_IFREG) | 0o644) == 420)
        #expect(PathStat.goFileMode(UInt32(S_IFDIR) | 0o1777) == (1 << 31) | (1 << 20) | 0o777)
        #expect(PathStat.goFileMode(UInt32(S_IFREG) | 0o4755) == (1 << 23) | 0o755)
        #expect(PathStat.goFileMode(UInt32(S_IFCHR) | 0o666) == (1 << 26) | (1 << 21) | 0o666)
        #expect(PathStat.goFileMode(UInt32(S_IFIFO) | 0o600) == (1 << 25) | 0o600)
    }

    /// dockerd's ResolvePath: cleaned and absolute, a trailing "/" or "/." kept.
    @Test func pathsKeepTheirTrailingSeparatorOrDot() {
        let file = ArchivePath("etc/../etc//hostname")
        #expect(file.absolute == "/etc/hostname" && file.directory == "/etc/" && file.base == "hostname" && file.name == "hostname")
        let followed = ArchivePath("/newdir/l/")
        #expect(followed.absolute == "/newdir/l/" && followed.base == "" && followed.name == "l")
        let contents = ArchivePath("/etc/.")
        #expect(contents.absolute == "/etc/." && contents.base == "." && contents.name == ".")
        let root = ArchivePath("/")
        #expect(root.absolute == "/" && root.name == "/")
        #expect(ArchivePath("/../../tmp").absolute == "/tmp")
    }
}
