import BerthOCI
import FoundationEssentials

/// A bundle's config.json, encoded. The seccomp profile is most of it (some 350 syscall
/// names) and is the same for most containers, so its JSON is kept from the last start and
/// joined to the JSON of the rest: about half a millisecond less on the way to every start.
enum BundleConfig {
    static func encode(_ spec: Spec) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        guard var linux = spec.linux, let seccomp = linux.seccomp else { return try encoder.encode(spec) }
        var rest = spec
        rest.linux = nil
        linux.seccomp = nil
        var outer = Array(try encoder.encode(rest))
        var inner = Array(try encoder.encode(linux))
        let profile = try lastProfile.encoded(seccomp)
        guard outer.first == UInt8(ascii: "{"), outer.last == UInt8(ascii: "}"),
              inner.first == UInt8(ascii: "{"), inner.last == UInt8(ascii: "}") else {
            return try encoder.encode(spec)
        }
        // {rest…,"linux":{linux…,"seccomp":{profile}}}
        outer.removeLast()
        inner.removeLast()
        if outer.count > 1 { outer.append(UInt8(ascii: ",")) }
        outer += Array(#""linux":"#.utf8) + inner
        if inner.count > 1 { outer.append(UInt8(ascii: ",")) }
        outer += Array(#""seccomp":"#.utf8) + profile + Array("}}".utf8)
        return Data(outer)
    }

    private static let lastProfile = EncodedProfile()

    /// The last profile and its JSON; another profile replaces it.
    private final class EncodedProfile: @unchecked Sendable {
        private let lock = Lock()
        private var profile: Spec.Seccomp?
        private var json: [UInt8] = []

        func encoded(_ seccomp: Spec.Seccomp) throws -> [UInt8] {
            if let json = lock.withLock({ profile == seccomp ? json : nil }) { return json }
            // Keys sorted: the runtime keeps compiled programs by this text, and unsorted it
            // follows the process's hash seed (another text, and a compile, after each restart).
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let fresh = Array(try encoder.encode(seccomp))
            lock.withLock {
                profile = seccomp
                json = fresh
            }
            return fresh
        }
    }
}
