import Foundation
import Testing

/// `docker rmi` of an image by its ID says which container holds it, running or stopped, as
/// dockerd does; berthd keeps that knowledge one container at a time as each one changes.
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct ImageUsersTests {
    @Test func removingAnImageByIDNamesTheContainerThatHoldsItAsItIsNow() throws {
        try DockerParityTests.withDaemon { daemon in
            let image = daemon.docker(["image", "inspect", "-f", "{{.Id}}", "busybox"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let short = String(image.dropFirst("sha256:".count).prefix(12))
            func refusal(_ force: Bool) -> String {
                daemon.docker(["rmi"] + (force ? ["-f"] : []) + [image]).stderr
            }
            func running(_ id: String) -> String {
                "Error response from daemon: conflict: unable to delete \(short) (cannot be forced) - image is being used by running container \(id.prefix(12))\n"
            }
            func stopped(_ id: String) -> String {
                "Error response from daemon: conflict: unable to delete \(short) (must be forced) - image is being used by stopped container \(id.prefix(12))\n"
            }
            let first = daemon.docker(["run", "-d", "--name", "first", "busybox", "sleep", "100"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(refusal(true) == running(first))
            DockerParityTests.succeeds(daemon, ["stop", "-t", "0", "first"])
            #expect(refusal(false) == stopped(first))
            DockerParityTests.succeeds(daemon, ["start", "first"])
            #expect(refusal(true) == running(first))
            // Removed, it holds nothing; a new container holds it in its turn.
            DockerParityTests.succeeds(daemon, ["rm", "-f", "first"])
            let second = daemon.docker(["create", "--name", "second", "busybox", "true"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(refusal(false) == stopped(second))
            DockerParityTests.succeeds(daemon, ["rm", "second"])
            #expect(daemon.docker(["image", "inspect", "-f", "{{.Id}}", "busybox"]).stdout.hasPrefix(image))
        }
    }
}
