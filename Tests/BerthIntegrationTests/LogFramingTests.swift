import Foundation
import Testing

/// `docker logs` over the API frames each record as dockerd does, one stdcopy frame per line,
/// since clients read a frame as a line (docker-py's `logs(stream=True)`, `containers.run(stream=True)`);
/// the docker CLI, which writes the bytes out as they are, gets records of a stream joined.
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct LogFramingTests {
    /// The (stream, payload) frames of a multiplexed body.
    static func frames(_ body: String) -> [(UInt8, String)] {
        var bytes = Array(body.utf8)[...]
        var frames: [(UInt8, String)] = []
        while bytes.count >= 8 {
            let header = Array(bytes.prefix(8))
            let length = Int(header[4]) << 24 | Int(header[5]) << 16 | Int(header[6]) << 8 | Int(header[7])
            bytes = bytes.dropFirst(8)
            frames.append((header[0], String(decoding: bytes.prefix(length), as: UTF8.self)))
            bytes = bytes.dropFirst(length)
        }
        return frames
    }

    @Test func aFramePerLineUnlessTheClientIsTheDockerCLI() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["run", "--name", "fr", "busybox", "sh", "-c", "printf 'a\\nb\\nc\\n'"]).status == 0)
            let url = "http://berth/v1.50/containers/fr/logs?stdout=1&stderr=1"
            let sdk = Self.frames(daemon.curl(["-A", "docker-sdk-python/7.1.0", url]).stdout)
            #expect(sdk.map(\.0) == [1, 1, 1] && sdk.map(\.1) == ["a\n", "b\n", "c\n"], "\(sdk)")
            let plain = Self.frames(daemon.curl([url]).stdout)
            #expect(plain.map(\.1) == ["a\n", "b\n", "c\n"], "\(plain)")
            let cli = Self.frames(daemon.curl(["-A", "Docker-Client/28.2.2 (linux)", url]).stdout)
            #expect(cli.map(\.0) == [1] && cli.map(\.1) == ["a\nb\nc\n"], "\(cli)")
            #expect(daemon.docker(["logs", "fr"]).stdout == "a\nb\nc\n")
        }
    }
}
