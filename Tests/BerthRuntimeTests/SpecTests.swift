import BerthOCI
import FoundationEssentials
import Testing
@testable import BerthRuntime

struct SpecTests {
    /// A config.json in the shape `runc spec` writes, trimmed.
    let runcStyle = """
    {"ociVersion":"1.0.2-dev","process":{"terminal":true,"user":{"uid":0,"gid":0},"args":["sh"],
     "env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","TERM=xterm"],"cwd":"/",
     "capabilities":{"bounding":["CAP_AUDIT_WRITE","CAP_KILL"],"effective":["CAP_KILL"],"permitted":["CAP_KILL"],"ambient":["CAP_KILL"]},
     "rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}],"noNewPrivileges":true},
     "root":{"path":"rootfs","readonly":true},"hostname":"runc",
     "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
               {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]}],
     "linux":{"resources":{"devices":[{"allow":false,"access":"rwm"}],"memory":{"limit":1048576,"swap":-1},"cpu":{"shares":512,"cpus":"0-1"},"pids":{"limit":10}},
              "namespaces":[{"type":"pid"},{"type":"network"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"cgroup"}],
              "uidMappings":[{"containerID":0,"hostID":1000,"size":1}],
              "seccomp":{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"architectures":["SCMP_ARCH_X86_64"],
                         "syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":0,"op":"SCMP_CMP_EQ"}]}]},
              "maskedPaths":["/proc/kcore"],"readonlyPaths":["/proc/sys"],"sysctl":{"net.ipv4.ip_forward":"1"}},
     "annotations":{"a":"b"}}
    """

    @Test func decodesARuncStyleConfig() throws {
        let spec = try JSONDecoder().decode(Spec.self, from: Data(runcStyle.utf8))
        #expect(spec.process?.args == ["sh"])
        #expect(spec.process?.capabilities?.ambient == ["CAP_KILL"])
        #expect(spec.process?.rlimits?.first?.hard == 1024)
        #expect(spec.root == .init(path: "rootfs", readonly: true))
        #expect(spec.linux?.resources?.memory?.swap == -1)
        #expect(spec.linux?.resources?.cpu?.cpus == "0-1")
        #expect(spec.linux?.resources?.devices?.first?.type == nil)
        #expect(spec.linux?.seccomp?.syscalls?.first?.args?.first?.op == "SCMP_CMP_EQ")
        #expect(spec.linux?.uidMappings?.first?.hostID == 1000)
        #expect(spec.annotations == ["a": "b"])
    }

    @Test func defaultSpecRoundTrips() throws {
        let spec = DefaultSpec.make(args: ["true"], terminal: false)
        let decoded = try JSONDecoder().decode(Spec.self, from: JSONEncoder().encode(spec))
        #expect(decoded == spec)
        #expect(spec.process?.capabilities?.bounding?.count == 14)
        #expect(spec.linux?.maskedPaths?.contains("/proc/kcore") == true)
    }

    @Test func processSetupRejectsBadInput() {
        #expect(throws: ConfigError.self) { try ProcessSetup(process: .init(args: []), seccompFilter: nil) }
        #expect(throws: ConfigError.self) { try ProcessSetup(process: .init(args: ["sh"], cwd: "relative"), seccompFilter: nil) }
        #expect(throws: ConfigError.self) {
            try ProcessSetup(process: .init(args: ["sh"], rlimits: [.init(type: "RLIMIT_BOGUS", hard: 1, soft: 1)]), seccompFilter: nil)
        }
        #expect(throws: ConfigError.self) {
            try ProcessSetup(process: .init(args: ["sh"], rlimits: [.init(type: "RLIMIT_NOFILE", hard: 1, soft: 2)]), seccompFilter: nil)
        }
    }

    @Test func containerIDsAreValidated() {
        #expect(throws: ConfigError.self) { try ContainerStore.validate(id: "../etc") }
        #expect(throws: ConfigError.self) { try ContainerStore.validate(id: "") }
        #expect(throws: Never.self) { try ContainerStore.validate(id: "web-1_a.b+c") }
    }

    @Test func exitCodesFollowTheShell() {
        #expect(SignalForwarder.exitCode(7 << 8) == 7)
        #expect(SignalForwarder.exitCode(9) == 137)
    }
}
