import BerthOCI
import Glibc

/// Compiled seccomp programs by profile: `<root>/@seccomp/<hash>.profile` holds the profile's
/// JSON text as config.json has it, `<hash>.bpf` its program. A hit needs the whole text to
/// match, not just the hash, so a collision can only cost a compile; so does the same profile
/// written another way.
struct SeccompCache {
    let directory: String
    let key: [UInt8]
    let name: String

    init(directory: String, profileText: [UInt8]) {
        self.directory = directory + "/@seccomp"  // "@" is in no container ID
        key = profileText + Array("\n\(Self.formatVersion)".utf8)
        name = String(Self.fnv1a(key), radix: 16)
    }

    /// Bumped when what is stored changes meaning.
    static let formatVersion = "berth-seccomp-3"

    var programPath: String { directory + "/" + name + ".bpf" }

    func lookup() -> [UInt8]? {
        guard let stored = FileSystem.readBytes(directory + "/" + name + ".profile"), stored == key,
              let program = FileSystem.readBytes(programPath), !program.isEmpty else { return nil }
        return program
    }

    /// Best effort: a cache that cannot be written only means compiling next time. True when
    /// the program is stored.
    @discardableResult
    func store(_ program: [UInt8]) -> Bool {
        try? FileSystem.makeDirectories(directory, mode: 0o700)
        // The program first: a profile file never points at a missing or partial program.
        guard FileSystem.replace(programPath, with: program) else { return false }
        return FileSystem.replace(directory + "/" + name + ".profile", with: key)
    }

    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
