import BerthOCI
import BerthRuntime
import Foundation
import Testing

/// The same bundle run by Debian's runc and by berth-runtime must look the same from inside.
@Suite(.enabled(if: Harness.isRoot, "berth-runtime needs root"))
struct RuntimeDifferentialTests {
    static let runc = ["/usr/sbin/runc", "/usr/bin/runc"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// What a process can see of its own isolation, printed in a stable order.
    static let probe = """
        echo pid=$$; hostname; id; umask; ulimit -n
        grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp|Cpus_allowed_list):' /proc/self/status
        awk '$5 !~ "^/sys/fs/cgroup/" {print $5, $9}' /proc/self/mountinfo | sort
        cg=$(tail -1 /proc/self/cgroup | cut -d: -f3)
        sed "s|$cg|<cgroup>|" /proc/self/cgroup
        awk '$5 ~ "^/sys/fs/cgroup" {print $4, $5, $6}' /proc/self/mountinfo | sed "s|$cg|<cgroup>|"; ls -1 /sys/fs/cgroup
        ls -1 /dev | sort
        cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max 2>&1
        wc -c < /proc/keys; touch /proc/sys/x 2>&1 | sed 's/^touch: //'
        """

    @Test(.enabled(if: runc != nil, "runc is installed by scripts/install-deps"))
    func runcAndBerthRuntimeAgree() throws {
        var outputs: [String] = []
        for binary in [Self.runc!, Harness.binary("berth-runtime")] {
            let bundle = try TestBundle(args: ["sh", "-c", Self.probe], prefix: binary.hasSuffix("runc") ? "runc" : "berth")
            bundle.spec.hostname = "same-box"
            bundle.spec.process?.user = .init(uid: 65534, gid: 65534, umask: 0o027, additionalGids: [5])
            bundle.spec.process?.rlimits = [.init(type: "RLIMIT_NOFILE", hard: 2048, soft: 1024)]
            bundle.spec.process?.noNewPrivileges = true
            bundle.spec.linux?.seccomp = try DefaultSeccomp.spec()
            bundle.spec.linux?.resources?.memory = .init(limit: 64 << 20)
            bundle.spec.linux?.resources?.pids = .init(limit: 50)
            bundle.spec.linux?.resources?.cpu = .init(cpus: "0")
            let result = try bundle.run(binary: binary)
            #expect(result.status == 0, "\(binary): \(result.stderr)")
            outputs.append(result.stdout)
        }
        #expect(outputs[0] == outputs[1])
        #expect(outputs[1].contains("pid=1\nsame-box\nuid=65534(nobody) gid=65534(nobody)"))
    }
}
