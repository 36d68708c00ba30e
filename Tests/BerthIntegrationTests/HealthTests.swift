import Foundation
import Glibc
import Testing

/// Healthchecks through the stock CLI, with dockerd 20.10's answers as the reference:
/// `State.Health` in inspect, the health in `docker ps`' STATUS and its filter, the
/// `health_status` and probe exec events, and dockerd's validation texts.
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct HealthTests {
    /// Polls `docker inspect --format` until it prints `expected` (up to `seconds`).
    static func wait(_ daemon: TestDaemon, _ format: String, _ name: String, for expected: String, seconds: Double = 8) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if ContainerBehaviourTests.inspect(daemon, format, name) == expected + "\n" { return true }
            usleep(100_000)
        }
        return false
    }

    static func health(_ daemon: TestDaemon, _ name: String) throws -> [String: Any] {
        let json = daemon.curl(["http://berth/v1.41/containers/\(name)/json"]).stdout
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let state = try #require(object?["State"] as? [String: Any])
        return try #require(state["Health"] as? [String: Any], "no State.Health in \(json)")
    }

    static func names(_ daemon: TestDaemon, _ filter: String) -> String {
        daemon.docker(["ps", "-a", "--filter", filter, "--format", "{{.Names}}"]).stdout
    }

    @Test func aPassingProbeMakesItHealthyWithEventsAndFilters() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let since = String(Int(Date().timeIntervalSince1970) - 1)
            let run = daemon.docker(["run", "-d", "--name", "ok", "--health-cmd", "echo hi", "--health-interval", "1s", "busybox", "sleep", "300"])
            #expect(run.status == 0, "\(run.stderr)")
            let early = daemon.docker(["ps", "--format", "{{.Status}}"]).stdout
            #expect(early.hasSuffix("(health: starting)\n"), "\(early)")
            #expect(Self.names(daemon, "health=starting") == "ok\n")
            #expect(Self.wait(daemon, "{{.State.Health.Status}}", "ok", for: "healthy"), "\(daemon.log)")
            let status = daemon.docker(["ps", "--format", "{{.Status}}"]).stdout
            #expect(status.hasPrefix("Up ") && status.hasSuffix(" (healthy)\n"), "\(status)")
            let health = try Self.health(daemon, "ok")
            #expect(health["FailingStreak"] as? Int == 0)
            let log = try #require(health["Log"] as? [[String: Any]])
            let first = try #require(log.first)
            #expect(first["ExitCode"] as? Int == 0 && first["Output"] as? String == "hi\n")
            #expect(Set(first.keys) == ["Start", "End", "ExitCode", "Output"])
            #expect(Self.names(daemon, "health=healthy") == "ok\n")
            #expect(Self.names(daemon, "health=unhealthy").isEmpty && Self.names(daemon, "health=none").isEmpty)
            // The probe runs as an exec, with an exec's events; the change of status is an event.
            EventsTests.nextSecond()
            let events = daemon.docker(["events", "--since", since, "--until", "0s", "--filter", "container=ok",
                                        "--format", "{{.Status}}"]).stdout
            #expect(events.contains("exec_create: /bin/sh -c echo hi\n") && events.contains("exec_start: /bin/sh -c echo hi\n"), "\(events)")
            #expect(events.contains("exec_die\n") && events.contains("health_status: healthy\n"), "\(events)")
            #expect(events.components(separatedBy: "health_status").count == 2, "one event per change of status: \(events)")
            let filtered = daemon.docker(["events", "--since", since, "--until", "0s", "--filter", "event=health_status",
                                          "--format", "{{.Status}} {{.Actor.Attributes.name}}"]).stdout
            #expect(filtered == "health_status: healthy ok\n", "\(filtered)")
            // An ended probe stays inspectable, as dockerd keeps it until its exec clean-up.
            let probeIDs = daemon.docker(["events", "--since", since, "--until", "0s", "--filter", "container=ok",
                                          "--filter", "event=exec_die", "--format", "{{.Actor.Attributes.execID}}"]).stdout
            let probeID = try #require(probeIDs.split(separator: "\n").first.map(String.init))
            let probe = try? JSONSerialization.jsonObject(with: Data(daemon.curl(["http://berth/exec/\(probeID)/json"]).stdout.utf8)) as? [String: Any]
            #expect(probe?["ExitCode"] as? Int == 0 && probe?["Running"] as? Bool == false, "\(String(describing: probe))")
            #expect(probe?["ContainerID"] as? String == ContainerBehaviourTests.inspect(daemon, "{{.Id}}", "ok").trimmingCharacters(in: .whitespacesAndNewlines))
            // Probes that change nothing but the log do not rewrite the container's state on disk.
            let id = ContainerBehaviourTests.inspect(daemon, "{{.Id}}", "ok").trimmingCharacters(in: .whitespacesAndNewlines)
            let stateFile = daemon.directory + "/data/containers/\(id)/config.v2.json"
            let written = try FileManager.default.attributesOfItem(atPath: stateFile)[.modificationDate] as? Date
            let logged = ContainerBehaviourTests.inspect(daemon, "{{len .State.Health.Log}}", "ok")
            usleep(2_300_000)
            #expect(ContainerBehaviourTests.inspect(daemon, "{{len .State.Health.Log}}", "ok") != logged, "no probe ran")
            #expect(try FileManager.default.attributesOfItem(atPath: stateFile)[.modificationDate] as? Date == written)
            // Probes leave no exec behind: at most the one running now.
            let live = ContainerBehaviourTests.inspect(daemon, "{{json .ExecIDs}}", "ok").trimmingCharacters(in: .whitespacesAndNewlines)
            let liveIDs = (try? JSONSerialization.jsonObject(with: Data(live.utf8)) as? [String]) ?? []
            #expect(live == "null" || liveIDs.count == 1,
                    "ExecIDs \(live): \(liveIDs.map { daemon.curl(["http://berth/exec/\($0)/json"]).stdout })")
            #expect(daemon.docker(["rm", "-f", "ok"]).status == 0)
        }
    }

    @Test func aFailingProbeMakesItUnhealthyAndAStartBeginsAgain() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let run = daemon.docker(["run", "-d", "--name", "bad", "--health-cmd", "echo sick >&2; exit 1", "--health-interval", "1s",
                                     "--health-retries", "2", "busybox", "sleep", "300"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(Self.wait(daemon, "{{.State.Health.Status}}", "bad", for: "unhealthy"), "\(daemon.log)")
            let health = try Self.health(daemon, "bad")
            #expect((health["FailingStreak"] as? Int ?? 0) >= 2)
            let log = try #require(health["Log"] as? [[String: Any]])
            #expect(log.count >= 2 && log.allSatisfy { $0["ExitCode"] as? Int == 1 && $0["Output"] as? String == "sick\n" }, "\(log)")
            #expect(daemon.docker(["ps", "--format", "{{.Status}}"]).stdout.hasSuffix(" (unhealthy)\n"))
            // Stopped, it keeps the health of its last run (dockerd's filter still finds it), and
            // the stop does not wait for the probes.
            let began = Date()
            #expect(daemon.docker(["stop", "-t", "1", "bad"]).status == 0)
            #expect(Date().timeIntervalSince(began) < 5)
            #expect(Self.names(daemon, "health=unhealthy") == "bad\n")
            #expect(daemon.docker(["ps", "-a", "--format", "{{.Status}}"]).stdout.hasPrefix("Exited (137)"))
            let kept = ContainerBehaviourTests.inspect(daemon, "{{len .State.Health.Log}}", "bad")
            // A new run starts again with no failures; the last run's results stay in the log.
            #expect(daemon.docker(["start", "bad"]).status == 0)
            #expect(ContainerBehaviourTests.inspect(daemon, "{{.State.Health.Status}} {{.State.Health.FailingStreak}} {{len .State.Health.Log}}", "bad")
                    == "starting 0 \(kept.trimmingCharacters(in: .whitespacesAndNewlines))\n")
            // A paused container is not probed, and shows only that it is paused.
            #expect(daemon.docker(["pause", "bad"]).status == 0)
            #expect(daemon.docker(["ps", "--format", "{{.Status}}"]).stdout.hasSuffix(" (Paused)\n"))
            let frozen = ContainerBehaviourTests.inspect(daemon, "{{len .State.Health.Log}}", "bad")
            usleep(2_200_000)
            #expect(ContainerBehaviourTests.inspect(daemon, "{{len .State.Health.Log}}", "bad") == frozen)
            #expect(daemon.docker(["unpause", "bad"]).status == 0)
            #expect(daemon.docker(["rm", "-f", "bad"]).status == 0)
        }
    }

    @Test func aProbeOverItsTimeoutIsKilledAndCountsAsAFailure() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let run = daemon.docker(["run", "-d", "--name", "slow", "--health-cmd", "sleep 60", "--health-interval", "1s",
                                     "--health-timeout", "1s", "--health-retries", "1", "busybox", "sleep", "300"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(Self.wait(daemon, "{{.State.Health.Status}}", "slow", for: "unhealthy"), "\(daemon.log)")
            let log = try #require(try Self.health(daemon, "slow")["Log"] as? [[String: Any]])
            #expect(log.first?["ExitCode"] as? Int == -1)
            #expect(log.first?["Output"] as? String == "Health check exceeded timeout (1s)")
            // The probe is killed, not left to pile up with the next ones.
            usleep(1_500_000)
            let processes = daemon.docker(["exec", "slow", "ps", "-o", "args"]).stdout
            #expect(processes.components(separatedBy: "sleep 60").count <= 2, "\(processes)")
            #expect(daemon.docker(["rm", "-f", "slow"]).status == 0)
        }
    }

    @Test func noHealthcheckNoneAndValidation() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["run", "-d", "--name", "plain", "busybox", "sleep", "300"]).status == 0)
            #expect(daemon.docker(["run", "-d", "--name", "off", "--no-healthcheck", "busybox", "sleep", "300"]).status == 0)
            #expect(ContainerBehaviourTests.inspect(daemon, "{{json .Config.Healthcheck}} {{json .State.Health}}", "off") == #"{"Test":["NONE"]} null"# + "\n")
            #expect(ContainerBehaviourTests.inspect(daemon, "{{json .Config.Healthcheck}} {{json .State.Health}}", "plain") == "null null\n")
            // State.Health is left out, not null, as dockerd's JSON.
            #expect(!daemon.curl(["http://berth/v1.41/containers/plain/json"]).stdout.contains("\"Health\""))
            let statuses = daemon.docker(["ps", "--format", "{{.Status}}"]).stdout
            #expect(!statuses.contains("("), "\(statuses)")
            #expect(Set(Self.names(daemon, "health=none").split(separator: "\n")) == ["plain", "off"])
            #expect(Self.names(daemon, "health=healthy").isEmpty)
            let bogus = daemon.docker(["ps", "--filter", "health=bogus"])
            #expect(bogus.status == 1 && bogus.stderr == "Error response from daemon: invalid filter 'health=bogus': invalid value for health (bogus): must be one of none, starting, healthy, unhealthy\n", "\(bogus.stderr)")
            // dockerd's texts for the values the CLI lets through; `docker run` exits 125.
            for (flag, value, field) in [("--health-interval", "500us", "Interval"), ("--health-timeout", "10us", "Timeout"),
                                         ("--health-start-period", "100us", "StartPeriod")] {
                let refused = daemon.docker(["run", "--rm", flag, value, "busybox", "true"])
                #expect(refused.status == 125)
                #expect(refused.stderr == ContainerBehaviourTests.runError("\(field) in Healthcheck cannot be less than 1ms"), "\(refused.stderr)")
            }
            let negative = daemon.curl(["-X", "POST", "-H", "Content-Type: application/json", "-w", "\n%{http_code}", "-d",
                                        #"{"Image":"busybox","Healthcheck":{"Test":["CMD","true"],"Retries":-1}}"#,
                                        "http://berth/v1.41/containers/create"]).stdout
            #expect(negative == #"{"message":"Retries in Healthcheck cannot be negative"}"# + "\n\n400", "\(negative)")
            #expect(daemon.docker(["rm", "-f", "plain", "off"]).status == 0)
        }
    }

    @Test func probesGoOnAfterABerthdCrash() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            // A probe that fails once, then passes: its state shows the probes ran after the restart.
            #expect(daemon.docker(["run", "-d", "--name", "on", "--health-cmd", "test -e /tmp/ok", "--health-interval", "1s",
                                   "--health-retries", "1", "busybox", "sleep", "300"]).status == 0)
            #expect(Self.wait(daemon, "{{.State.Health.Status}}", "on", for: "unhealthy"), "\(daemon.log)")
            daemon.crash()
            let restarted = try TestDaemon(directory: daemon.directory)
            #expect(ContainerBehaviourTests.inspect(restarted, "{{.State.Health.Status}}", "on") == "unhealthy\n")
            #expect(restarted.docker(["exec", "on", "touch", "/tmp/ok"]).status == 0)
            #expect(Self.wait(restarted, "{{.State.Health.Status}} {{.State.Health.FailingStreak}}", "on", for: "healthy 0"), "\(restarted.log)")
            #expect(restarted.docker(["rm", "-f", "on"]).status == 0)
        }
    }

    @Test func theImagesHealthcheckIsInheritedAndOverridden() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let archive = daemon.directory + "/rootfs.tgz"
            #expect(Harness.run("/bin/tar", ["-C", Harness.imageDir + "/rootfs", "-czf", archive, "."]).status == 0)
            let imported = daemon.docker(["import", "--change", "HEALTHCHECK --interval=1s --retries=4 CMD echo from-image",
                                          "--change", #"CMD ["sleep", "300"]"#, archive, "checked:1"])
            #expect(imported.status == 0, "\(imported.stderr)")
            #expect(daemon.docker(["image", "inspect", "--format", "{{json .Config.Healthcheck}}", "checked:1"]).stdout
                    == #"{"Test":["CMD-SHELL","echo from-image"],"Interval":1000000000,"Retries":4}"# + "\n")
            let bad = daemon.docker(["import", "--change", "HEALTHCHECK --retries=0 CMD true", archive])
            #expect(bad.status == 1 && bad.stderr == "Error response from daemon: --retries must be at least 1 (not 0)\n", "\(bad.stderr)")
            // Inherited as it is, and field by field under what the run sets.
            #expect(daemon.docker(["run", "-d", "--name", "inherits", "checked:1"]).status == 0)
            #expect(daemon.docker(["run", "-d", "--name", "overrides", "--health-cmd", "echo mine", "--health-timeout", "5s", "checked:1"]).status == 0)
            #expect(daemon.docker(["run", "-d", "--name", "disables", "--no-healthcheck", "checked:1"]).status == 0)
            #expect(ContainerBehaviourTests.inspect(daemon, "{{json .Config.Healthcheck}}", "overrides")
                    == #"{"Test":["CMD-SHELL","echo mine"],"Interval":1000000000,"Timeout":5000000000,"Retries":4}"# + "\n")
            #expect(Self.wait(daemon, "{{.State.Health.Status}} {{(index .State.Health.Log 0).Output}}", "inherits", for: "healthy from-image\n"))
            #expect(Self.wait(daemon, "{{.State.Health.Status}} {{(index .State.Health.Log 0).Output}}", "overrides", for: "healthy mine\n"))
            #expect(ContainerBehaviourTests.inspect(daemon, "{{json .State.Health}}", "disables") == "null\n")
            #expect(daemon.docker(["rm", "-f", "inherits", "overrides", "disables"]).status == 0)
        }
    }
}
