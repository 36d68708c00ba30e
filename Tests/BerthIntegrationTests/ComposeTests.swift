import Foundation
import Glibc
import Testing

/// docker-compose (Debian's 1.29, on docker-py) driving berthd, with the anchor dockerd 20.10's
/// outcome as the reference: the same messages, exit codes and resulting containers, networks
/// and volumes. Compose asks the daemon for its API version and then talks 1.50 to Berth.
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct ComposeTests {
    static let composeCLI = "/usr/bin/docker-compose"

    /// web serves a page from a named volume on a published port and has a healthcheck; worker
    /// waits for it to be healthy, fetches it by service name over the `back` network, reads the
    /// same volume and prints its environment (env_file and environment); scaled is a plain
    /// service to recreate and scale; once (profile oneshot) exits with 3 in the foreground.
    /// compose compares the `back` network's IPAM options with the daemon's at every `up`.
    static func composeFile(port: Int, scaledCommand: String = "sleep 300") -> String {
        """
        services:
          web:
            image: busybox
            command: ["sh", "-c", "echo hello-from-web > /www/index.html; echo web starting; exec httpd -f -p 80 -h /www"]
            ports: ["127.0.0.1:\(port):80"]
            volumes: ["shared:/www"]
            environment:
              ROLE: web
            env_file: app.env
            labels:
              com.example.role: frontend
            healthcheck:
              test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1/"]
              interval: 1s
              timeout: 2s
              retries: 5
            restart: unless-stopped
            networks: [front, back]
          worker:
            image: busybox
            command: ["sh", "-c", "wget -q -O - http://web/ && cat /data/index.html && echo worker $$ROLE $$GREETING && exec sleep 300"]
            depends_on:
              web:
                condition: service_healthy
            volumes: ["shared:/data:ro"]
            environment: ["ROLE=worker"]
            env_file: app.env
            networks: [back]
          scaled:
            image: busybox
            command: \(scaledCommand)
            networks: [back]
          once:
            image: busybox
            command: ["sh", "-c", "echo once done; exit 3"]
            profiles: ["oneshot"]
        volumes:
          shared:
        networks:
          front:
          back:
            ipam:
              options: {purpose: tests}

        """
    }

    /// A new project; docker-compose must be there (scripts/install-deps puts it there).
    static func project() throws -> Project {
        try #require(FileManager.default.isExecutableFile(atPath: Self.composeCLI),
                     "docker-compose is missing: run scripts/install-deps")
        return try Project()
    }

    /// A compose project in a directory of its own on a daemon of its own; `down` and the
    /// daemon's own clean-up remove everything, whatever the test did.
    final class Project {
        let net: NetworkDaemon
        let directory: String
        let name: String
        let port = Harness.freePort()

        init() throws {
            net = try NetworkDaemon()
            name = "cmp\(getpid() % 10_000)"
            directory = NSTemporaryDirectory() + Harness.uniqueID("compose")
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try "GREETING=hi there\n".write(toFile: directory + "/app.env", atomically: true, encoding: .utf8)
            try write(ComposeTests.composeFile(port: port))
        }

        func write(_ file: String) throws {
            try file.write(toFile: directory + "/docker-compose.yml", atomically: true, encoding: .utf8)
        }

        @discardableResult
        func compose(_ args: [String], profile: String? = nil) -> Harness.Result {
            let global = ["-H", net.daemon.host, "-p", name, "-f", directory + "/docker-compose.yml"]
                + (profile.map { ["--profile", $0] } ?? [])
            return Harness.run(ComposeTests.composeCLI, global + args, timeout: 60)
        }

        /// The project's containers as `name state`, sorted.
        func containers() -> String {
            let ps = net.docker(["ps", "-a", "--filter", "label=com.docker.compose.project=\(name)", "--format", "{{.Names}} {{.State}}"])
            return ps.stdout.split(separator: "\n").sorted().joined(separator: "\n")
        }

        func id(_ container: String) -> String {
            net.docker(["inspect", "-f", "{{.Id}}", container]).stdout
        }

        /// Polls the service's logs until they contain `text`.
        func waitForLogs(_ service: String, containing text: String, seconds: Double = 15) -> String {
            let deadline = Date().addingTimeInterval(seconds)
            var logs = ""
            while Date() < deadline {
                logs = compose(["logs", "--no-color", service]).stdout
                if logs.contains(text) { break }
                usleep(200_000)
            }
            return logs
        }

        deinit {
            compose(["down", "-v", "--remove-orphans", "-t", "0"], profile: "oneshot")
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    @Test func theComposeWorkflowEndsAsOnDockerd() throws {
        let project = try Self.project()
        let name = project.name

        // up -d: networks, the volume, web first, worker once web is healthy.
        let up = project.compose(["up", "-d"])
        #expect(up.status == 0, "\(up.stderr)\n\(project.net.daemon.log)")
        for line in ["Creating network \"\(name)_front\" with the default driver", "Creating network \"\(name)_back\" with the default driver",
                     "Creating volume \"\(name)_shared\" with default driver", "Creating \(name)_web_1", "Creating \(name)_worker_1 ... done"] {
            #expect(up.stderr.contains(line), "\(up.stderr)")
        }
        #expect(project.containers() == "\(name)_scaled_1 running\n\(name)_web_1 running\n\(name)_worker_1 running")
        #expect(NetworkDaemon.fetch("http://127.0.0.1:\(project.port)/") == "hello-from-web\n")

        // worker reached web by its service name, read the shared volume and got its environment.
        let logs = project.waitForLogs("worker", containing: "worker worker hi there")
        #expect(logs.contains("worker_1  | hello-from-web\n") && logs.components(separatedBy: "hello-from-web").count == 3, "\(logs)")
        #expect(logs.contains("worker_1  | worker worker hi there\n"), "\(logs)")
        #expect(project.compose(["logs", "--no-color", "web"]).stdout.contains("web_1     | web starting\n"))

        let fetched = project.compose(["exec", "-T", "worker", "wget", "-q", "-O", "-", "http://web/"])
        #expect(fetched.status == 0 && fetched.stdout == "hello-from-web\n", "\(fetched.stderr)")
        #expect(project.compose(["exec", "-T", "worker", "sh", "-c", "exit 7"]).status == 7)
        let run = project.compose(["run", "--rm", "-T", "worker", "sh", "-c", "echo ran; exit 5"])
        #expect(run.status == 5 && run.stdout == "ran\n", "\(run.stdout) \(run.stderr)")
        #expect(!project.containers().contains("_run_"), "run --rm removed its container")

        let ps = project.compose(["ps"]).stdout
        #expect(ps.contains("Up (healthy)   127.0.0.1:\(project.port)->80/tcp"), "\(ps)")
        #expect(project.compose(["port", "web", "80"]).stdout == "127.0.0.1:\(project.port)\n")
        let labels = project.net.docker(["inspect", "-f", #"{{index .Config.Labels "com.example.role"}} {{index .Config.Labels "com.docker.compose.service"}} {{.HostConfig.RestartPolicy.Name}}"#,
                                         "\(name)_web_1"])
        #expect(labels.stdout == "frontend web unless-stopped\n", "\(labels.stderr)")

        #expect(project.compose(["pause", "web"]).status == 0)
        #expect(project.compose(["ps", "web"]).stdout.contains(" Paused "))
        #expect(project.compose(["unpause", "web"]).status == 0)
        #expect(project.compose(["restart", "-t", "1", "worker"]).status == 0)

        // up -d again changes nothing; a changed service alone is recreated.
        let ids = ["web", "worker", "scaled"].map { project.id("\(name)_\($0)_1") }
        let again = project.compose(["up", "-d"])
        #expect(again.status == 0)
        #expect(again.stderr.split(separator: "\n").sorted() == ["\(name)_scaled_1 is up-to-date", "\(name)_web_1 is up-to-date",
                                                                  "\(name)_worker_1 is up-to-date"], "\(again.stderr)")
        #expect(["web", "worker", "scaled"].map { project.id("\(name)_\($0)_1") } == ids)
        try project.write(Self.composeFile(port: project.port, scaledCommand: "sleep 301"))
        let changed = project.compose(["up", "-d", "-t", "1"])
        #expect(changed.status == 0, "\(changed.stderr)")
        #expect(changed.stderr.contains("Recreating \(name)_scaled_1 ... done") && changed.stderr.contains("\(name)_web_1 is up-to-date")
                && changed.stderr.contains("\(name)_worker_1 is up-to-date"), "\(changed.stderr)")
        #expect(["web", "worker"].map { project.id("\(name)_\($0)_1") } == Array(ids.prefix(2)))
        #expect(project.id("\(name)_scaled_1") != ids[2])

        let scale = project.compose(["up", "-d", "--scale", "scaled=2"])
        #expect(scale.status == 0 && scale.stderr.contains("Creating \(name)_scaled_2 ... done"), "\(scale.stderr)")
        #expect(project.compose(["kill", "-s", "KILL", "scaled"]).status == 0)
        #expect(project.containers().contains("\(name)_scaled_1 exited\n\(name)_scaled_2 exited"))
        let removed = project.compose(["rm", "-f", "scaled"])
        #expect(removed.stdout == "Going to remove \(name)_scaled_2, \(name)_scaled_1\n" || removed.stdout == "Going to remove \(name)_scaled_1, \(name)_scaled_2\n",
                "\(removed.stdout)")
        #expect(project.containers() == "\(name)_web_1 running\n\(name)_worker_1 running")

        // In the foreground: attached output, then the exit code of the service that ended.
        let once = project.compose(["up", "--no-color", "--exit-code-from", "once", "once"], profile: "oneshot")
        #expect(once.status == 3, "\(once.stdout) \(once.stderr)")
        #expect(once.stdout == "Attaching to \(name)_once_1\nonce_1    | once done\n\(name)_once_1 exited with code 3\nAborting on container exit...\n",
                "\(once.stdout)")

        // down -v removes every container, network and volume of the project.
        let down = project.compose(["down", "-v", "--remove-orphans", "-t", "1"], profile: "oneshot")
        #expect(down.status == 0, "\(down.stderr)")
        #expect(down.stderr.contains("Removing network \(name)_front") && down.stderr.contains("Removing volume \(name)_shared"), "\(down.stderr)")
        #expect(project.containers().isEmpty)
        #expect(!project.net.docker(["network", "ls", "--format", "{{.Name}}"]).stdout.contains(name))
        #expect(!project.net.docker(["volume", "ls", "--format", "{{.Name}}"]).stdout.contains(name))
    }

    /// `network_mode: service:app` shares app's network namespace and, as on dockerd, its
    /// hostname and /etc files; app's `hostname:` is a name other services resolve.
    @Test func aSidecarSharesItsServicesNamesAndFiles() throws {
        let project = try Self.project()
        try project.write("""
            services:
              app:
                image: busybox
                command: sleep 300
                hostname: apphost
                domainname: example.org
              sidecar:
                image: busybox
                command: sleep 300
                network_mode: "service:app"
                depends_on: [app]
              client:
                image: busybox
                command: sleep 300

            """)
        let up = project.compose(["up", "-d"])
        #expect(up.status == 0, "\(up.stderr)")
        let name = project.name
        #expect(project.compose(["exec", "-T", "sidecar", "hostname"]).stdout == "apphost\n")
        let inspect = project.net.docker(["inspect", "-f", "{{.Config.Hostname}} {{.Config.Domainname}} {{.HostsPath}}", "\(name)_sidecar_1"]).stdout
        let appHosts = project.net.docker(["inspect", "-f", "{{.HostsPath}}", "\(name)_app_1"]).stdout
        #expect(inspect == "apphost example.org \(appHosts)", "\(inspect)")
        let address = project.net.address("\(name)_app_1", network: "\(name)_default")
        let hosts = project.compose(["exec", "-T", "sidecar", "cat", "/etc/hosts"]).stdout
        #expect(hosts.contains("\(address)\tapphost.example.org apphost\n"), "\(hosts)")
        let lookup = project.compose(["exec", "-T", "client", "nslookup", "apphost"]).stdout
        #expect(lookup.contains("Address: \(address)\n"), "\(lookup)")
        // Its name first and its hostname last, once each; compose gives the service name and
        // the short ID as aliases in a Python set's order.
        let names = project.net.docker(["inspect", "-f", "{{range (index .NetworkSettings.Networks \"\(name)_default\").DNSNames}}{{.}} {{end}}",
                                        "\(name)_app_1"]).stdout.split(separator: " ").map(String.init).filter { $0 != "\n" }
        let shortID = String(project.id("\(name)_app_1").prefix(12))
        #expect(names.first == "\(name)_app_1" && names.last == "apphost" && names.sorted() == ["\(name)_app_1", "app", "apphost", shortID].sorted(),
                "\(names)")
        // Below API 1.45 the short ID and hostname are among the aliases, as dockerd lists them.
        func aliases(_ version: String) throws -> [String] {
            let body = project.net.daemon.curl(["http://berth/v\(version)/containers/\(name)_app_1/json"]).stdout
            let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            let networks = (object["NetworkSettings"] as? [String: Any])?["Networks"] as? [String: Any]
            return ((networks?["\(name)_default"] as? [String: Any])?["Aliases"] as? [String]) ?? []
        }
        #expect(try Set(aliases("1.41")) == ["app", shortID, "apphost"])
        #expect(try !aliases("1.50").contains("apphost"))
        #expect(project.compose(["down", "-t", "0"]).status == 0)
    }

    /// compose's `links:` on the project network: as on dockerd, the aliases are the linking
    /// service's names in the network's DNS (compose connects it with EndpointConfig.Links),
    /// with no legacy environment, hosts line or HostConfig.Links.
    @Test func linksOnTheProjectNetworkAreNamesOfTheLinkingService() throws {
        let project = try Self.project()
        try project.write("""
            services:
              web:
                image: busybox
                command: sleep 300
              client:
                image: busybox
                command: sleep 300
                links: ["web:db"]

            """)
        let up = project.compose(["up", "-d"])
        #expect(up.status == 0, "\(up.stderr)")
        let name = project.name
        let address = project.net.address("\(name)_web_1", network: "\(name)_default")
        let lookup = project.compose(["exec", "-T", "client", "nslookup", "db"])
        #expect(lookup.status == 0 && lookup.stdout.contains("Address: \(address)\n"), "\(lookup.stdout)")
        #expect(project.compose(["exec", "-T", "web", "nslookup", "db"]).status != 0)
        let legacy = project.compose(["exec", "-T", "client", "sh", "-c", "env | grep -c ^DB_; grep -cw db /etc/hosts"])
        #expect(legacy.stdout == "0\n0\n", "\(legacy.stdout)")
        #expect(project.net.docker(["inspect", "-f", "{{json .HostConfig.Links}}", "\(name)_client_1"]).stdout == "null\n")
        // compose names the container under each of its names, in a Python set's order.
        let links = project.net.docker(["inspect", "-f", "{{range (index .NetworkSettings.Networks \"\(name)_default\").Links}}{{.}} {{end}}",
                                        "\(name)_client_1"]).stdout.split(whereSeparator: \.isWhitespace).map(String.init)
        #expect(links.contains("\(name)_web_1:db") && links.allSatisfy { $0.hasPrefix("\(name)_web_1:") }, "\(links)")
        #expect(project.compose(["down", "-t", "0"]).status == 0)
    }

    /// compose's `links:` from a default-bridge service: dockerd refuses at start a link to a
    /// container off the default bridge, or not running, in these words.
    @Test func legacyLinksNeedARunningContainerOnTheDefaultBridge() throws {
        let net = try NetworkDaemon()
        #expect(net.docker(["network", "create", "elsewhere"]).status == 0)
        #expect(net.docker(["run", "-d", "--name", "away", "--network", "elsewhere", "busybox", "sleep", "60"]).status == 0)
        #expect(net.docker(["create", "--name", "idle", "busybox", "sleep", "60"]).status == 0)
        #expect(net.docker(["run", "-d", "--name", "near", "busybox", "sleep", "60"]).status == 0)
        let away = net.docker(["run", "--name", "toaway", "--link", "away:x", "busybox", "true"])
        #expect(away.status == 125 && away.stderr.contains("Error response from daemon: Cannot link to /away, as it does not belong to the default network\n"),
                "\(away.stderr)")
        #expect(net.docker(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}", "toaway"]).stdout
            == "created 128 Cannot link to /away, as it does not belong to the default network\n")
        #expect(net.docker(["create", "--name", "toidle", "--link", "idle:y", "busybox", "true"]).status == 0)
        let idle = net.docker(["start", "toidle"])
        #expect(idle.status == 1 && idle.stderr == "Error response from daemon: Cannot link to a non running container: /idle AS /toidle/y\nError: failed to start containers: toidle\n",
                "\(idle.stderr)")
        let near = net.docker(["run", "--rm", "--link", "near:z", "busybox", "grep", "-cw", "z", "/etc/hosts"])
        #expect(near.status == 0 && near.stdout == "1\n", "\(near.stdout) \(near.stderr)")
    }

    /// What compose and docker-py read of an image, in the shape of the version they ask for.
    @Test func imageInspectKeepsEachAPIVersionsShape() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            func inspect(_ version: String) throws -> [String: Any] {
                let body = daemon.curl(["http://berth/v\(version)/images/busybox/json"]).stdout
                return try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any], "\(body)")
            }
            let old = try inspect("1.41")
            let config = try #require(old["Config"] as? [String: Any])
            #expect(config["Hostname"] as? String == "" && config["AttachStdout"] as? Bool == false && config["Image"] as? String == "")
            #expect(config["Entrypoint"] is NSNull && config["Cmd"] as? [String] == ["sh"])
            let containerConfig = try #require(old["ContainerConfig"] as? [String: Any], "compose 1.29 reads it at every recreate")
            #expect(containerConfig["Volumes"] is NSNull && containerConfig["Cmd"] is NSNull)
            #expect(old["Container"] as? String == "" && old["VirtualSize"] as? Int == old["Size"] as? Int)

            let current = try inspect("1.50")
            #expect(current["Config"] as? [String: [String]] == ["Cmd": ["sh"], "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]])
            #expect(current["ContainerConfig"] as? [String: String] == [:])
            #expect(current["Container"] == nil && current["VirtualSize"] == nil)
            #expect(try inspect("1.44")["VirtualSize"] == nil)

            // A committed image names the container it came from, below 1.45.
            #expect(daemon.docker(["create", "--name", "base", "busybox"]).status == 0)
            #expect(daemon.docker(["commit", "--change", "VOLUME /v", "base", "busybox"]).status == 0)
            let id = daemon.docker(["inspect", "-f", "{{.Id}}", "base"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let committed = try inspect("1.41")
            #expect(committed["Container"] as? String == id && (committed["Config"] as? [String: Any])?["Volumes"] as? [String: [String: String]] == ["/v": [:]])
            #expect((committed["ContainerConfig"] as? [String: Any])?["Cmd"] as? [String] == ["sh"])
            #expect(try inspect("1.50")["Container"] == nil)
        }
    }

    /// docker-py lists with limit=-1: that is no limit, not `--all`; compose's empty `Links`
    /// list is shown as null, a link as dockerd writes it; SecurityOpt and Mounts as dockerd
    /// records them.
    /// compose 1.29's `logs -f` stops reading once the "die" (or "stop") event of every
    /// container it follows has come, after 0.1 s without a line. The stream of each container
    /// must therefore end, with the container's last lines, before its "die" event, as with
    /// dockerd; otherwise the lines of the exit and compose's "exited with code" go missing.
    @Test func followedLogsKeepTheLastLinesOfAStop() throws {
        let project = try Self.project()
        try project.write("""
            services:
              talker:
                image: busybox
                command: ["sh", "-c", "trap 'echo talker says bye; exit 3' TERM; echo talker ready; while true; do sleep 0.1; done"]

            """)
        for round in 1 ... 3 {
            let up = project.compose(["up", "-d"])
            try #require(up.status == 0, "\(up.stderr)")
            let output = project.directory + "/follow-\(round).out"
            FileManager.default.createFile(atPath: output, contents: nil)
            let follower = Process()
            follower.executableURL = URL(fileURLWithPath: Self.composeCLI)
            follower.arguments = ["-H", project.net.daemon.host, "-p", project.name, "-f", project.directory + "/docker-compose.yml",
                                  "logs", "-f", "--no-color"]
            follower.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            try follower.run()
            func followed() -> String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }
            let deadline = Date().addingTimeInterval(15)
            while Date() < deadline && followed().components(separatedBy: "talker ready").count - 1 < round { usleep(50_000) }
            let stop = project.compose(["stop"])
            #expect(stop.status == 0, "\(stop.stderr)")
            let ended = Date().addingTimeInterval(15)
            while follower.isRunning && Date() < ended { usleep(50_000) }
            if follower.isRunning { follower.terminate() }
            let text = followed()
            #expect(text.components(separatedBy: "talker says bye").count - 1 == round, "round \(round): \(text)")
            #expect(text.contains("exited with code 3"), "round \(round): \(text)")
        }
    }

    @Test func containersAreListedAndRecordedAsDockerdDoes() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["run", "--name", "done", "busybox", "true"]).status == 0)
            #expect(daemon.docker(["run", "-d", "--name", "up", "busybox", "sleep", "60"]).status == 0)
            func names(_ query: String) -> String {
                daemon.curl(["http://berth/v1.41/containers/json?\(query)"]).stdout
            }
            #expect(names("all=0&limit=-1").contains("/up") && !names("all=0&limit=-1").contains("/done"))
            #expect(names("limit=2").contains("/done"), "a positive limit implies all, as `ps -n`")

            let create = #"{"Image": "busybox", "HostConfig": {"Links": []}}"#
            let created = daemon.curl(["-X", "POST", "-H", "Content-Type: application/json", "-d", create,
                                       "http://berth/v1.41/containers/create?name=nolinks"])
            #expect(created.stdout.contains("\"Id\""), "\(created.stdout)")
            #expect(ContainerBehaviourTests.inspect(daemon, "{{json .HostConfig.Links}}", "nolinks") == "null\n")
            #expect(daemon.docker(["create", "--name", "linked", "--link", "up:alias", "--link", "up", "busybox", "true"]).status == 0)
            #expect(ContainerBehaviourTests.inspect(daemon, "{{json .HostConfig.Links}}", "linked") == #"["/up:/linked/alias","/up:/linked/up"]"# + "\n")

            // What dockerd records at create and lists in Mounts.
            #expect(daemon.docker(["create", "--name", "privileged", "--privileged", "busybox"]).status == 0)
            #expect(daemon.docker(["create", "--name", "hostpid", "--pid", "host", "--security-opt", "no-new-privileges", "busybox"]).status == 0)
            #expect(daemon.docker(["create", "--name", "labelled", "--ipc", "host", "--security-opt", "label=level:s0", "busybox"]).status == 0)
            let options = daemon.docker(["inspect", "-f", "{{.Name}} {{json .HostConfig.SecurityOpt}}", "privileged", "hostpid", "labelled", "up"]).stdout
            #expect(options == #"/privileged ["label=disable"]\#n/hostpid ["no-new-privileges","label=disable"]\#n/labelled ["label=level:s0"]\#n/up null\#n"#, "\(options)")
            #expect(daemon.docker(["create", "--name", "tmpfs", "--mount", "type=tmpfs,target=/t,readonly", "--tmpfs", "/u", "busybox"]).status == 0)
            #expect(ContainerBehaviourTests.inspect(daemon, "{{json .Mounts}}", "tmpfs")
                == #"[{"Type":"tmpfs","Source":"","Destination":"/t","Mode":"","RW":false,"Propagation":""}]"# + "\n")

            // A restarting container counts as running, with no process (compose's is_running).
            #expect(daemon.docker(["run", "-d", "--name", "flap", "--restart", "always", "busybox", "sh", "-c", "sleep 0.2; exit 3"]).status == 0)
            var state = ""
            for _ in 0..<100 where !state.hasPrefix("restarting") {
                state = ContainerBehaviourTests.inspect(daemon, "{{.State.Status}} {{.State.Running}} {{.State.Restarting}} {{.State.Pid}}", "flap")
                usleep(20_000)
            }
            #expect(state == "restarting true true 0\n", "\(state)")
        }
    }
}
