import Foundation

/// A throwaway root filesystem with /etc/passwd and /etc/group, removed on deinit.
final class TestRootfs {
    let path: String

    init(passwd: String = TestRootfs.passwd, group: String = TestRootfs.group) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("berth-rootfs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path + "/etc", withIntermediateDirectories: true)
        try passwd.write(toFile: path + "/etc/passwd", atomically: true, encoding: .utf8)
        try group.write(toFile: path + "/etc/group", atomically: true, encoding: .utf8)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    static let passwd = """
    root:x:0:0:root:/root:/bin/sh
    daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
    # a comment
    www:x:33:33:www-data:/var/www:/usr/sbin/nologin
    app:x:1000:1000::/home/app:/bin/sh

    """

    static let group = """
    root:x:0:
    daemon:x:1:
    www:x:33:
    audio:x:29:app
    video:x:44:app,www
    app:x:1000:
    staff:x:50:

    """
}
