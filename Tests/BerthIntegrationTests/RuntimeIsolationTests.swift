import BerthOCI
import BerthRuntime
import Foundation
import Testing

/// berth-runtime on busybox bundles, as root: what a process inside the container sees.
@Suite(.enabled(if: Harness.isRoot, "berth-runtime needs root"))
struct RuntimeIsolationTests {
    @Test func initIsPidOneWithItsOwnHostname() throws {
        let bundle = try TestBundle(args: ["sh", "-c", "echo pid=$$; hostname"])
        bundle.spec.hostname = "berth-box"
        let result = try bundle.run()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "pid=1\nberth-box\n")
    }

    @Test func exitCodeOfTheProcessBecomesTheRuntimes() throws {
        let bundle = try TestBundle(args: ["sh", "-c", "exit 7"])
        #expect(try bundle.run().status == 7)
    }

    @Test func mountsAreTheStandardSet() throws {
        let bundle = try TestBundle(args: ["cat", "/proc/self/mountinfo"])
        let result = try bundle.run()
        #expect(result.status == 0, "\(result.stderr)")
        let mountPoints = Set(result.stdout.split(separator: "\n").map { String($0.split(separator: " ")[4]) })
        var expectedMounts = ["/", "/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm",
                              "/proc/keys", "/proc/sys", "/sys/firmware"]
        // Some kernels (this VM's among them) have no /proc/kcore; where it exists it is masked.
        if FileManager.default.fileExists(atPath: "/proc/kcore") { expectedMounts.append("/proc/kcore") }
        for expected in expectedMounts {
            #expect(mountPoints.contains(expected), "missing \(expected) in \(mountPoints.sorted())")
        }
        // The host's own mounts are gone with the old root: every mount point is one of ours.
        let ours = Set(expectedMounts + (DefaultSpec.maskedPaths + DefaultSpec.readonlyPaths))
        for point in mountPoints where !point.hasPrefix("/sys/fs/cgroup/") {
            #expect(ours.contains(point), "unexpected mount point \(point)")
        }
    }

    @Test func defaultCapabilitiesAreDockers() throws {
        let bundle = try TestBundle(args: ["sh", "-c", "grep -E '^Cap(Eff|Prm|Bnd)' /proc/self/status"])
        let result = try bundle.run()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("CapEff:\t00000000a80425fb"))
        #expect(result.stdout.contains("CapPrm:\t00000000a80425fb"))
        #expect(result.stdout.contains("CapBnd:\t00000000a80425fb"))
    }

    @Test func seccompFilterIsLoadedAndDeniesWithEPERM() throws {
        let bundle = try TestBundle(args: ["sh", "-c", "grep Seccomp: /proc/self/status; mkdir /tmp/denied; echo rc=$?"])
        bundle.spec.linux?.seccomp = .init(defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64"],
                                           syscalls: [.init(names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO")])
        let result = try bundle.run()
        #expect(result.stdout.contains("Seccomp:\t2"), "\(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains("Operation not permitted"))
        #expect(result.stdout.contains("rc=1"))
    }

    @Test func dockerDefaultSeccompProfileRunsBusybox() throws {
        let bundle = try TestBundle(args: ["sh", "-c", "grep Seccomp: /proc/self/status; ls / >/dev/null && echo ok"])
        bundle.spec.linux?.seccomp = try DefaultSeccomp.spec()
        let result = try bundle.run()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "Seccomp:\t2\nok\n")
    }

    @Test func readOnlyRootRefusesWrites() throws {
        let bundle = try TestBundle(args: ["sh", "-c", "touch /newfile"])
        bundle.spec.root?.readonly = true
        let result = try bundle.run()
        #expect(result.status == 1)
        #expect(result.stderr.contains("Read-only file system"))
        #expect(!FileManager.default.fileExists(atPath: bundle.rootfs + "/newfile"))
    }

    @Test func maskedAndReadOnlyProcPaths() throws {
        let bundle = try TestBundle(args: ["sh", "-c",
            "wc -c < /proc/keys; [ -e /proc/kcore ] && wc -c < /proc/kcore; echo 1 > /proc/sys/kernel/shmmax; echo rc=$?"])
        let result = try bundle.run()
        let expectedSizes = FileManager.default.fileExists(atPath: "/proc/kcore") ? "0\n0\n" : "0\n"
        #expect(result.stdout.hasPrefix(expectedSizes), "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("rc=1"))
        #expect(result.stderr.contains("Read-only file system"))
    }

    @Test func noNewPrivilegesUserAndUmask() throws {
        let bundle = try TestBundle(args: ["sh", "-c", "id -u; id -g; id -G; grep NoNewPrivs /proc/self/status; umask"])
        bundle.spec.process?.user = .init(uid: 65534, gid: 65534, umask: 0o027, additionalGids: [5, 65534])
        bundle.spec.process?.noNewPrivileges = true
        let result = try bundle.run()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "65534\n65534\n65534 5\nNoNewPrivs:\t1\n0027\n")
    }

    @Test func sysctlRlimitsAndEnvironment() throws {
        let bundle = try TestBundle(args: ["sh", "-c", "cat /proc/sys/kernel/msgmax; ulimit -n; echo $GREETING; pwd"])
        bundle.spec.linux?.sysctl = ["kernel.msgmax": "12345"]
        bundle.spec.linux?.readonlyPaths = []
        bundle.spec.process?.rlimits = [.init(type: "RLIMIT_NOFILE", hard: 1000, soft: 500)]
        bundle.spec.process?.env?.append("GREETING=hello")
        bundle.spec.process?.cwd = "/tmp"
        let result = try bundle.run()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "12345\n500\nhello\n/tmp\n")
    }

    @Test func rlimitAboveTheHardLimitIsRefusedByName() throws {
        let bundle = try TestBundle(args: ["true"])
        var hard = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &hard)
        bundle.spec.process?.rlimits = [.init(type: "RLIMIT_NOFILE", hard: UInt64(hard.rlim_max) + 1, soft: 10)]
        let result = try bundle.run()
        if Harness.holdsCapability(24) {  // CAP_SYS_RESOURCE: then raising is allowed
            #expect(result.status == 0, "\(result.stderr)")
        } else {
            #expect(result.status == 1)
            #expect(result.stderr.contains("RLIMIT_NOFILE"))
            #expect(result.stderr.contains("CAP_SYS_RESOURCE"))
        }
    }

    @Test func devicesOOMScoreAndAmbientCapabilities() throws {
        let bundle = try TestBundle(args: ["sh", "-c",
            "ls -l /dev/mydev | cut -c1-10; cat /proc/self/oom_score_adj; id -u; grep -E '^Cap(Amb|Eff)' /proc/self/status"])
        bundle.spec.linux?.devices = [.init(type: "c", path: "/dev/mydev", major: 1, minor: 3, fileMode: 0o600, uid: 0, gid: 0)]
        bundle.spec.process?.oomScoreAdj = 500
        bundle.spec.process?.user = .init(uid: 1000, gid: 1000)
        let bind = ["CAP_NET_BIND_SERVICE"]
        bundle.spec.process?.capabilities = .init(bounding: bind, effective: bind, inheritable: bind, permitted: bind, ambient: bind)
        let result = try bundle.run()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "crw-------\n500\n1000\nCapEff:\t0000000000000400\nCapAmb:\t0000000000000400\n")
    }

    @Test func recursiveReadOnlyBindThroughMountSetattr() throws {
        let bundle = try TestBundle(args: ["sh", "-c", "cat /data/hello; touch /data/new 2>&1 | grep -o 'Read-only file system'"])
        let source = bundle.directory + "/data"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try "hi\n".write(toFile: source + "/hello", atomically: true, encoding: .utf8)
        bundle.spec.mounts?.append(.init(destination: "/data", type: "bind", source: source, options: ["rbind", "rro"]))
        let result = try bundle.run()
        #expect(result.stdout == "hi\nRead-only file system\n", "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: source + "/new"))
    }
}
