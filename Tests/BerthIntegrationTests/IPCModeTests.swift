import BerthOCI
import Foundation
import Testing

/// `--ipc host`, `shareable` and `container:<x>` as dockerd does them: /dev/shm is the host's,
/// a tmpfs on the host that joiners bind too, or the donor's; a private donor is refused.
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct IPCModeTests {
    static let shmLine = #"grep " /dev/shm " /proc/self/mountinfo | cut -d" " -f4-"#

    @Test func hostIPCSeesTheHostsSharedMemory() throws {
        let probe = "/dev/shm/berth-ipc-test-\(getpid())"
        #expect(FileManager.default.createFile(atPath: probe, contents: Data("host".utf8)))
        defer { try? FileManager.default.removeItem(atPath: probe) }
        try DockerParityTests.withDaemon { daemon in
            let run = daemon.docker(["run", "--rm", "--ipc", "host", "busybox", "cat", probe])
            #expect(run.status == 0 && run.stdout == "host", "\(run)")
        }
    }

    @Test func aShareableContainersSharedMemoryIsItsJoinersToo() throws {
        try DockerParityTests.withDaemon { daemon in
            DockerParityTests.succeeds(daemon, ["run", "-d", "--name", "donor", "--ipc", "shareable", "--shm-size", "8m",
                                                "busybox", "sh", "-c", "echo hi > /dev/shm/x; sleep 100"])
            #expect(ContainerBehaviourTests.eventually(5) { daemon.docker(["exec", "donor", "cat", "/dev/shm/x"]).stdout == "hi\n" })
            let joiner = daemon.docker(["run", "--rm", "--ipc", "container:donor", "busybox", "sh", "-c", "cat /dev/shm/x; " + Self.shmLine])
            #expect(joiner.status == 0, "\(joiner.stderr)")
            // dockerd's tmpfs of the donor's size, with nosuid, nodev and noexec.
            #expect(joiner.stdout == "hi\n/ /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=8192k\n")
            let donorNamespace = daemon.docker(["exec", "donor", "readlink", "/proc/self/ns/ipc"]).stdout
            let joinerNamespace = daemon.docker(["run", "--rm", "--ipc", "container:donor", "busybox", "readlink", "/proc/self/ns/ipc"]).stdout
            #expect(!donorNamespace.isEmpty && donorNamespace == joinerNamespace)

            // Stopped, the donor's tmpfs is gone from the host, and joining is refused.
            DockerParityTests.succeeds(daemon, ["stop", "-t", "0", "donor"])
            #expect(ContainerBehaviourTests.eventually(5) { !Self.hostMounts().contains(daemon.directory + "/data/overlay/") })
            // The mode names the donor by its ID, as dockerd keeps it (and words the refusal).
            let donorID = DockerParityTests.inspect(daemon, "{{.Id}}", "donor")
            let stopped = daemon.docker(["run", "--rm", "--ipc", "container:donor", "busybox", "true"])
            #expect(stopped.status == 125 && stopped.stderr == DockerParityTests.runError("failed to join IPC namespace: container \(donorID) is not running"),
                    "\(stopped.stderr)")
            DockerParityTests.succeeds(daemon, ["rm", "donor"])
        }
    }

    @Test func aPrivateOrMissingDonorIsRefused() throws {
        try DockerParityTests.withDaemon { daemon in
            DockerParityTests.succeeds(daemon, ["run", "-d", "--name", "private", "busybox", "sleep", "100"])
            #expect(DockerParityTests.inspect(daemon, "{{.HostConfig.IpcMode}}", "private") == "private")
            let privateID = DockerParityTests.inspect(daemon, "{{.Id}}", "private")
            let refused = daemon.docker(["run", "--rm", "--ipc", "container:private", "busybox", "true"])
            #expect(refused.status == 125, "\(refused)")
            #expect(refused.stderr == DockerParityTests.runError(
                "failed to join IPC namespace: container \(privateID): non-shareable IPC (hint: use IpcMode:shareable for the donor container)"),
                    "\(refused.stderr)")
            // A missing donor is refused at create, as by dockerd.
            let missing = daemon.docker(["run", "--rm", "--ipc", "container:nosuch", "busybox", "true"])
            #expect(missing.status == 125 && missing.stderr == DockerParityTests.runError("No such container: nosuch"), "\(missing.stderr)")
            // A private container keeps its own tmpfs of its own size.
            let own = daemon.docker(["run", "--rm", "--shm-size", "4m", "busybox", "sh", "-c", Self.shmLine])
            #expect(own.stdout == "/ /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=4096k\n", "\(own)")
            DockerParityTests.succeeds(daemon, ["rm", "-f", "private"])
            #expect(daemon.docker(["ps", "-aq"]).stdout.isEmpty)
        }
    }

    static func hostMounts() -> String { readProcFile("/proc/self/mounts") ?? "" }
}
