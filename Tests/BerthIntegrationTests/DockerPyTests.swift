import Foundation
import Testing

/// docker-py, one of the clients Berth must serve unchanged: `scripts/dockerpy-workflow` goes
/// through its everyday calls (run, exec, attach, logs, archives, networks, volumes, events,
/// errors) against the test's berthd and checks each result itself; it exits non-zero naming
/// the steps that went wrong. It runs at the current API version and at 1.41, which docker-py 5
/// and docker-compose 1 speak, and some answers differ between the two.
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct DockerPyTests {
    static let script = Harness.packageRoot + "/scripts/dockerpy-workflow"

    /// A python3 that can import docker: Debian's python3-docker (scripts/install-deps) or
    /// one on PATH.
    static let python: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates = ["/usr/bin/python3"] + path.split(separator: ":").map { $0 + "/python3" }
        return candidates.first { candidate in
            FileManager.default.isExecutableFile(atPath: candidate)
                && Harness.run(candidate, ["-c", "import docker"]).status == 0
        }
    }()

    static func workflow(_ daemon: TestDaemon, _ arguments: [String]) throws -> Harness.Result {
        let python = try #require(python, "no python3 can import docker: run scripts/install-deps (it installs python3-docker)")
        return Harness.run("/usr/bin/env", ["DOCKER_HOST=" + daemon.host, python, script] + arguments, timeout: 600)
    }

    static func lines(_ output: String) -> [String: String] {
        var steps: [String: String] = [:]
        for line in output.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            steps[String(line[..<colon])] = String(line[line.index(colon, offsetBy: 2)...])
        }
        return steps
    }

    @Test func theWorkflowPassesAtTheCurrentAPIVersion() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let result = try Self.workflow(daemon, [])
            #expect(result.status == 0, "\(result.stderr)\n\(result.stdout)")
            #expect(result.stderr.contains("steps passed"), "\(result.stderr)")
            let steps = Self.lines(result.stdout)
            #expect(steps.count > 60, "\(result.stdout)")
            #expect(!result.stdout.contains("FAIL") && !result.stdout.contains("ERROR"), "\(result.stdout)")
            // What the fixes made for docker-py show, word for word.
            #expect(steps["containers.list"]?.hasPrefix("running=['dpy-life', 'dpy-web'] ") == true, "\(steps["containers.list"] ?? "")")
            #expect(steps["attach stream"] == "stream=b'one\\ntwo\\n' logs stdout=[(1, b'one\\n')] both=[(1, b'one\\n'), (2, b'two\\n')] neither logs nor stream=[]",
                    "\(steps["attach stream"] ?? "")")
            #expect(steps["network disconnect remove"]?.contains("disconnect again: APIError 500 'container <id> is not connected to network dpy-net'") == true,
                    "\(steps["network disconnect remove"] ?? "")")
            #expect(steps["network disconnect remove"]?.contains("stopped container: APIError 500 'container <id> is not connected to the network dpy-net'") == true,
                    "\(steps["network disconnect remove"] ?? "")")
            #expect(steps["run ContainerError"]?.hasPrefix("exit_status=3 stderr=b'oops\\n' ") == true, "\(steps["run ContainerError"] ?? "")")
            #expect(steps["error missing container"]?.hasPrefix("NotFound 404 'No such container: dpy-nosuch' ") == true)
            #expect(steps["volumes.prune"] == "pruned=['dpy-prune', 'dpy-vol'] keys=['SpaceReclaimed', 'VolumesDeleted'] again={'SpaceReclaimed': 0, 'VolumesDeleted': []}",
                    "\(steps["volumes.prune"] ?? "")")
            #expect(steps["containers.prune"] == "deleted=1 keys=['ContainersDeleted', 'SpaceReclaimed'] again={'ContainersDeleted': None, 'SpaceReclaimed': 0}",
                    "\(steps["containers.prune"] ?? "")")
            #expect(steps["network with IPAM"]?.hasSuffix("pruned={'NetworksDeleted': ['dpy-ipam']} again={'NetworksDeleted': None}") == true,
                    "\(steps["network with IPAM"] ?? "")")
            #expect(steps["exec_run output never lost"] == "100 of 100 intact", "\(steps["exec_run output never lost"] ?? "")")
            #expect(steps["run auto_remove"] == "wait={'Error': None, 'StatusCode': 0} gone; run(auto_remove=True) 5 of 5 answered",
                    "\(steps["run auto_remove"] ?? "")")
            #expect(daemon.docker(["ps", "-aq"]).stdout.isEmpty)
        }
    }

    /// docker-py loses what arrives with the 101 head, so a docker-py client gets the head
    /// alone, however late it reads it; the exec's output follows.
    @Test func aDockerPyClientGetsTheExecHeadAlone() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["run", "-d", "--name", "ex", "busybox", "sleep", "100"]).status == 0)
            let client = #"""
                import json, socket, sys, time
                s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
                body = json.dumps({"Detach": False, "Tty": False}).encode()
                s.sendall(("POST /v1.50/exec/%s/start HTTP/1.1\r\nHost: x\r\nUser-Agent: docker-sdk-python/7.1.0\r\n"
                           "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\n"
                           "Content-Length: %d\r\n\r\n" % (sys.argv[2], len(body))).encode() + body)
                time.sleep(0.1)
                head = s.recv(65536)
                rest = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk: break
                    rest += chunk
                print(repr(head.split(b"\r\n")[0]), head.endswith(b"\r\n\r\n"), repr(rest))
                """#
            for _ in 0..<3 {
                let created = daemon.curl(["-X", "POST", "-H", "Content-Type: application/json", "-d", #"{"Cmd": ["echo", "hello"], "AttachStdout": true}"#,
                                           "http://berth/v1.50/containers/ex/exec"])
                let id = try #require(created.stdout.split(separator: "\"").dropFirst(3).first.map(String.init), "\(created)")
                let result = Harness.run("/usr/bin/python3", ["-c", client, daemon.socket, id])
                #expect(result.stdout == "b'HTTP/1.1 101 UPGRADED' True b'\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x06hello\\n'\n", "\(result)")
            }
            #expect(daemon.docker(["rm", "-f", "ex"]).status == 0)
        }
    }

    @Test func theWorkflowPassesAtAPIVersion141() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let result = try Self.workflow(daemon, ["--api-version", "1.41"])
            #expect(result.status == 0, "\(result.stderr)\n\(result.stdout)")
            #expect(result.stderr.contains("API 1.41"), "\(result.stderr)")
            // Named volumes are pruned for these clients without the `all` filter.
            #expect(Self.lines(result.stdout)["volumes.prune"]?.hasPrefix("pruned=['dpy-prune', 'dpy-vol'] ") == true,
                    "\(result.stdout)")
        }
    }
}
