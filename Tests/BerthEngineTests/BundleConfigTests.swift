import BerthOCI
import Foundation
import Testing
@testable import BerthEngine

/// config.json is joined from the JSON of its parts (the seccomp profile's is kept between
/// starts): it must decode to the spec it was made from, whatever the parts hold.
struct BundleConfigTests {
    static let profile = Spec.Seccomp(defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 1, architectures: ["SCMP_ARCH_X86_64"],
                                      syscalls: [.init(names: ["read", "write"], action: "SCMP_ACT_ALLOW")])

    static func roundTrip(_ spec: Spec) throws -> Spec {
        try JSONDecoder().decode(Spec.self, from: BundleConfig.encode(spec))
    }

    @Test func decodesToTheSpecItWasMadeFrom() throws {
        let spec = Spec(process: .init(user: .init(uid: 0, gid: 0), args: ["sh"], cwd: "/"), root: .init(path: "/x/merged"),
                        hostname: "h", mounts: [.init(destination: "/proc", type: "proc", source: "proc")],
                        linux: .init(cgroupsPath: "/berth/x", namespaces: [.init(type: "mount")], seccomp: Self.profile,
                                     maskedPaths: ["/proc/kcore"]))
        #expect(try Self.roundTrip(spec) == spec)
        // Again, with the profile's JSON from the first call.
        #expect(try Self.roundTrip(spec) == spec)
    }

    @Test func aLinuxSectionWithOnlyTheProfile() throws {
        let spec = Spec(linux: .init(seccomp: Self.profile))
        #expect(try Self.roundTrip(spec) == spec)
    }

    @Test func withoutAProfile() throws {
        #expect(try Self.roundTrip(Spec(hostname: "h")) == Spec(hostname: "h"))
        #expect(try Self.roundTrip(Spec(linux: .init(cgroupsPath: "/c"))) == Spec(linux: .init(cgroupsPath: "/c")))
    }

    /// Another profile (other capabilities, `--security-opt seccomp=`) is not given the last one's JSON.
    @Test func anotherProfileIsEncodedAfresh() throws {
        var other = Self.profile
        other.syscalls?.append(.init(names: ["mount"], action: "SCMP_ACT_ALLOW"))
        let first = Spec(linux: .init(seccomp: Self.profile))
        let second = Spec(linux: .init(seccomp: other))
        #expect(try Self.roundTrip(first) == first)
        #expect(try Self.roundTrip(second) == second)
        #expect(try Self.roundTrip(first) == first)
    }

    /// The runtime caches compiled programs by the profile's text: the same profile is the
    /// same text in every berthd process, whatever its hash seed (keys sorted).
    @Test func theProfileIsTheSameTextInEveryProcess() throws {
        let spec = Spec(linux: .init(seccomp: Self.profile))
        let text = try #require(String(data: BundleConfig.encode(spec), encoding: .utf8))
        #expect(text.contains(#""seccomp":{"architectures":["SCMP_ARCH_X86_64"],"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"#
                              + #""syscalls":[{"action":"SCMP_ACT_ALLOW","names":["read","write"]}]}"#), "\(text)")
    }
}
