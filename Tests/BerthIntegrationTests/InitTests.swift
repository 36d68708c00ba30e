import BerthOCI
import BerthRuntime
import Foundation
import Testing

/// berth-init as PID 1 of a container, bound in at /sbin/docker-init as `docker run --init` does.
@Suite(.enabled(if: Harness.isRoot, "containers need root"))
struct InitTests {
    func bundle(running command: String) throws -> TestBundle {
        let bundle = try TestBundle(args: ["/sbin/docker-init", "--", "sh", "-c", command], prefix: "init")
        bundle.spec.mounts?.append(.init(destination: "/sbin/docker-init", type: "bind",
                                         source: Harness.binary("berth-init"), options: ["bind", "ro"]))
        return bundle
    }

    @Test func exitStatusIsTheCommandsAndOrphansAreReaped() throws {
        // The orphaned sleep is re-parented to berth-init, which must reap it (no zombie).
        let bundle = try bundle(running: "(sleep 0.1 &); sleep 0.4; ps -o stat,comm | grep -c '^Z'; exit 4")
        let result = try bundle.run()
        #expect(result.status == 4, "\(result.stderr)")
        #expect(result.stdout == "0\n")
    }

    @Test func signalsAreForwardedToTheCommand() throws {
        let bundle = try bundle(running: "trap 'exit 7' TERM; while true; do sleep 0.05; done")
        let runner = try bundle.startRun()
        #expect(bundle.waitForState("running"))
        usleep(200_000)
        #expect(bundle.runtime(["kill", bundle.id, "TERM"]).status == 0)
        runner.waitUntilExit()
        #expect(runner.terminationStatus == 7)
    }

    @Test func aMissingCommandIs127() throws {
        let bundle = try TestBundle(args: ["/sbin/docker-init", "--", "no-such-command"], prefix: "init")
        bundle.spec.mounts?.append(.init(destination: "/sbin/docker-init", type: "bind",
                                         source: Harness.binary("berth-init"), options: ["bind", "ro"]))
        let result = try bundle.run()
        #expect(result.status == 127)
        #expect(result.stderr.contains("no-such-command"))
    }
}
