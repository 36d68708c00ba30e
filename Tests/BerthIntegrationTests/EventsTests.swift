import Foundation
import Testing

/// `docker events` against berthd through the stock CLI and raw HTTP: what a container's life,
/// images and networks emit, in dockerd's order and shape; since, until and filters.
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct EventsTests {
    /// One decoded message of the stream.
    struct Event {
        var json: [String: Any]
        var type: String { json["Type"] as? String ?? "" }
        var action: String { json["Action"] as? String ?? "" }
        var actor: String { (json["Actor"] as? [String: Any])?["ID"] as? String ?? "" }
        var attributes: [String: String] { (json["Actor"] as? [String: Any])?["Attributes"] as? [String: String] ?? [:] }
    }

    static func decode(_ text: String) -> [Event] {
        text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]).map(Event.init)
        }
    }

    static func daemon() throws -> TestDaemon {
        try ContainersTests.daemonWithImage(configuration: #"{"cgroup-parent": "/berth-test", "debug": true}"#)
    }

    /// A unix time a second before now, as `--since` takes it.
    static func secondAgo() -> String { String(Int(Date().timeIntervalSince1970) - 1) }

    /// The CLI turns `--until 0s` into whole seconds: events of the current second come after it.
    static func nextSecond() {
        let now = Date().timeIntervalSince1970
        usleep(UInt32((now.rounded(.down) + 1 - now) * 1_000_000) + 20_000)
    }

    /// A `--since` that leaves out what happened before the call (the test image's load).
    static func sinceNow() -> String {
        nextSecond()
        return String(Int(Date().timeIntervalSince1970))
    }

    /// `docker events` running in the background, its output in a file.
    final class Watcher {
        let process = Process()
        let output: String

        init(_ daemon: TestDaemon, _ arguments: [String]) throws {
            output = daemon.directory + "/" + Harness.uniqueID("events") + ".out"
            _ = FileManager.default.createFile(atPath: output, contents: nil)
            process.executableURL = URL(fileURLWithPath: Harness.dockerCLI)
            process.arguments = ["-H", daemon.host, "events"] + arguments
            process.standardOutput = FileHandle(forWritingAtPath: output)
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        var text: String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }

        /// Waits (up to 10 s) until the output holds `marker`.
        func wait(for marker: String) -> Bool {
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline {
                if text.contains(marker) { return true }
                usleep(20_000)
            }
            return false
        }

        func stop() {
            if process.isRunning { kill(process.processIdentifier, SIGTERM) }
            process.waitUntilExit()
        }

        deinit { stop() }
    }

    @Test func aRunContainersLifeStreamsInOrderWithItsAttributes() throws {
        let daemon = try Self.daemon()
        let watcher = try Watcher(daemon, ["--format", "{{json .}}", "--since", Self.secondAgo()])
        let run = daemon.docker(["run", "--name", "web", "-l", "tier=front", "busybox", "sh", "-c", "exit 3"])
        #expect(run.status == 3, "\(run.stderr)")
        let id = daemon.docker(["inspect", "-f", "{{.Id}}", "web"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(daemon.docker(["rm", "web"]).status == 0)
        #expect(watcher.wait(for: "\"destroy\""), "\(watcher.text) \(daemon.log)")
        watcher.stop()
        let events = Self.decode(watcher.text)
        let mine = events.filter { $0.actor == id || $0.attributes["container"] == id }
        #expect(mine.map { "\($0.type) \($0.action)" } == [
            "container create", "container attach", "network connect", "container start", "container die",
            "network disconnect", "container destroy",
        ], "\(watcher.text)")
        for event in mine where event.type == "container" {
            #expect(event.attributes["name"] == "web")
            #expect(event.attributes["image"] == "busybox")
            #expect(event.attributes["tier"] == "front")
            #expect(event.json["status"] as? String == event.action)
            #expect(event.json["id"] as? String == id)
            #expect(event.json["from"] as? String == "busybox")
            #expect(event.json["scope"] as? String == "local")
            let nanos = event.json["timeNano"] as? Int64 ?? 0
            #expect(nanos / 1_000_000_000 == event.json["time"] as? Int64 ?? -1)
        }
        #expect(mine.first { $0.action == "die" }?.attributes["exitCode"] == "3")
        let connect = mine.first { $0.action == "connect" }
        #expect(connect?.attributes == ["container": id, "name": "bridge", "type": "bridge"])
        #expect(connect?.json["status"] == nil)
        #expect(connect?.actor.count == 64)
    }

    @Test func sinceReplaysTheKeptEventsAndFiltersSelectThem() throws {
        let daemon = try Self.daemon()
        let since = Self.sinceNow()
        #expect(daemon.docker(["run", "-d", "--name", "tt", "-l", "team=a", "busybox", "sleep", "100"]).status == 0)
        #expect(daemon.docker(["exec", "tt", "true"]).status == 0)
        #expect(daemon.docker(["pause", "tt"]).status == 0)
        #expect(daemon.docker(["unpause", "tt"]).status == 0)
        #expect(daemon.docker(["kill", "-s", "USR1", "tt"]).status == 0)
        #expect(daemon.docker(["stop", "-t", "1", "tt"]).status == 0)
        #expect(daemon.docker(["rename", "tt", "tt2"]).status == 0)
        #expect(daemon.docker(["rm", "tt2"]).status == 0)
        #expect(daemon.docker(["create", "--name", "other", "busybox", "true"]).status == 0)
        Self.nextSecond()

        let replay = daemon.docker(["events", "--since", since, "--until", "0s", "--filter", "container=tt",
                                    "--format", "{{.Type}} {{.Action}}"])
        #expect(replay.status == 0, "\(replay.stderr)")
        // As PID 1, sleep ignores SIGUSR1 and SIGTERM: the stop ends with SIGKILL.
        #expect(replay.stdout.split(separator: "\n").map(String.init) == [
            "container create", "container start", "container exec_create: true ", "container exec_start: true ",
            "container exec_die", "container pause", "container unpause", "container kill", "container kill", "container kill",
            "container die", "container stop", "container rename", "container destroy",
        ], "\(replay.stdout)")

        let attributes = daemon.docker(["events", "--since", since, "--until", "0s", "--filter", "event=kill", "--filter", "event=rename",
                                        "--filter", "event=exec_die", "--format", "{{.Action}} {{json .Actor.Attributes}}"])
        let lines = attributes.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 5, "\(attributes.stdout)")
        #expect(lines.contains { $0.hasPrefix("exec_die ") && $0.contains("\"exitCode\":\"0\"") && $0.contains("\"execID\":\"") })
        #expect(lines.filter { $0.hasPrefix("kill ") }.map { $0.contains("\"team\":\"a\"") } == [true, true, true])
        for signal in ["10", "15", "9"] { #expect(lines.contains { $0.hasPrefix("kill ") && $0.contains("\"signal\":\"\(signal)\"") }) }
        #expect(daemon.docker(["events", "--since", since, "--until", "0s", "-f", "event=die", "--format", "{{.Actor.Attributes.exitCode}}"]).stdout == "137\n")
        #expect(lines.contains { $0.hasPrefix("rename ") && $0.contains("\"oldName\":\"/tt\"") && $0.contains("\"name\":\"tt2\"") })

        // exec_start without its command matches the exec_start actions.
        let execs = daemon.docker(["events", "--since", since, "--until", "0s", "-f", "event=exec_start", "--format", "{{.Action}}"])
        #expect(execs.stdout == "exec_start: true \n", "\(execs.stdout)")
        let labelled = daemon.docker(["events", "--since", since, "--until", "0s", "-f", "label=team=a", "-f", "event=create", "--format", "{{.Actor.Attributes.name}}"])
        #expect(labelled.stdout == "tt\n", "\(labelled.stdout)")
        let byImage = daemon.docker(["events", "--since", since, "--until", "0s", "-f", "image=busybox", "-f", "event=create", "--format", "{{.Actor.Attributes.name}}"])
        #expect(byImage.stdout == "tt\nother\n", "\(byImage.stdout)")
        let networks = daemon.docker(["events", "--since", since, "--until", "0s", "-f", "type=network", "--format", "{{.Action}} {{.Actor.Attributes.name}}"])
        #expect(networks.stdout == "connect bridge\ndisconnect bridge\n", "\(networks.stdout)")
        let none = daemon.docker(["events", "--since", since, "--until", "0s", "-f", "scope=swarm"])
        #expect(none.status == 0 && none.stdout.isEmpty)
    }

    @Test func imageAndNetworkEvents() throws {
        let daemon = try Self.daemon()
        let since = Self.sinceNow()
        let id = daemon.docker(["image", "inspect", "-f", "{{.Id}}", "busybox"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(daemon.docker(["tag", "busybox", "app:1"]).status == 0)
        #expect(daemon.docker(["rmi", "app:1"]).status == 0)
        #expect(daemon.docker(["save", "-o", daemon.directory + "/saved.tar", "busybox"]).status == 0)
        #expect(daemon.docker(["network", "create", "evnet"]).status == 0)
        #expect(daemon.docker(["network", "rm", "evnet"]).status == 0)
        Self.nextSecond()
        let images = daemon.docker(["events", "--since", since, "--until", "0s", "-f", "type=image", "--format", "{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}"])
        #expect(images.stdout == "tag \(id) app:1\nuntag \(id) \(id)\nsave \(id) \(id)\n", "\(images.stdout)")
        let networks = daemon.docker(["events", "--since", since, "--until", "0s", "-f", "network=evnet", "--format", "{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.type}}"])
        #expect(networks.stdout == "create evnet bridge\ndestroy evnet bridge\n", "\(networks.stdout)")
        // Loading the saved image again, then deleting it by ID.
        #expect(daemon.docker(["rmi", "busybox"]).status == 0)
        #expect(daemon.docker(["load", "-q", "-i", daemon.directory + "/saved.tar"]).status == 0)
        #expect(daemon.docker(["rmi", id]).status == 0)
        Self.nextSecond()
        let removal = daemon.docker(["events", "--since", since, "--until", "0s", "-f", "image=\(id)", "--format", "{{.Action}}"])
        #expect(removal.stdout == "tag\nuntag\nsave\nuntag\ndelete\nload\nuntag\ndelete\n", "\(removal.stdout)")
    }

    // dockerd copies an image's labels into its events, but not into `delete`: it tells that
    // one after the image is gone.
    @Test func imageDeleteEventsCarryNoLabels() throws {
        let daemon = try Self.daemon()
        #expect(daemon.docker(["create", "--name", "lb", "busybox", "true"]).status == 0)
        #expect(daemon.docker(["commit", "--change", "LABEL team=a", "lb", "labeled:1"]).status == 0)
        #expect(daemon.docker(["rm", "lb"]).status == 0)
        let since = Self.sinceNow()
        #expect(daemon.docker(["rmi", "labeled:1"]).status == 0)
        Self.nextSecond()
        let events = daemon.docker(["events", "--since", since, "--until", "0s", "-f", "type=image", "--format", "{{.Action}} {{json .Actor.Attributes}}"])
        let lines = events.stdout.split(separator: "\n").map { $0.replacing(/sha256:[0-9a-f]{64}/, with: "ID") }
        #expect(lines == [#"untag {"name":"ID","team":"a"}"#, #"delete {"name":"ID"}"#], "\(events.stdout)")
    }

    @Test func untilInTheFutureEndsTheStreamThenAndLiveEventsArrive() throws {
        let daemon = try Self.daemon()
        let until = String(Int(Date().timeIntervalSince1970) + 3)
        let started = Date()
        let watcher = try Watcher(daemon, ["--until", until, "--filter", "type=network", "--format", "{{.Action}} {{.Actor.Attributes.name}}"])
        usleep(500_000)
        #expect(daemon.docker(["network", "create", "live"]).status == 0)
        #expect(watcher.wait(for: "create live"), "\(watcher.text)")
        watcher.process.waitUntilExit()
        #expect(watcher.process.terminationStatus == 0)
        #expect(Date().timeIntervalSince(started) >= 2)
        #expect(watcher.text == "create live\n")
        #expect(daemon.docker(["network", "rm", "live"]).status == 0)
    }

    @Test func badInputGetsDockerdsErrors() throws {
        let daemon = try Self.daemon()
        // dockerd (20.10 and current) does not check event filter keys: an unknown one is ignored.
        let filter = daemon.docker(["events", "--filter", "foo=bar", "--until", "0s"])
        #expect(filter.status == 0 && filter.stderr.isEmpty, "\(filter.stderr)")
        let order = daemon.docker(["events", "--since", "10", "--until", "5"])
        #expect(order.status == 1)
        #expect(order.stderr == "Error response from daemon: `since` time (10) cannot be after `until` time (5)\n", "\(order.stderr)")
        // dockerd passes strconv's error on untyped: a 500 (20.10 and current alike).
        let bad = daemon.curl(["-w", " %{http_code}", "http://berth/v1.50/events?since=abc"])
        #expect(bad.stdout == "{\"message\":\"strconv.ParseInt: parsing \\\"abc\\\": invalid syntax\"}\n 500", "\(bad.stdout)")
        let raw = daemon.curl(["-i", "http://berth/v1.50/events?since=0&until=1"])
        #expect(raw.stdout.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(raw.stdout.contains("Content-Type: application/json\r\n"))
    }

    @Test func aClientThatLeavesIsUnsubscribedAtOnce() throws {
        let daemon = try Self.daemon()
        let client = Process()
        client.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        client.arguments = ["-s", "-N", "--unix-socket", daemon.socket, "http://berth/v1.50/events?filters=%7B%22type%22%3A%5B%22network%22%5D%7D"]
        client.standardOutput = FileHandle.nullDevice
        try client.run()
        usleep(500_000)
        kill(client.processIdentifier, SIGKILL)
        client.waitUntilExit()
        // The stream's request ends (its access line is logged) without any event to write.
        let deadline = Date().addingTimeInterval(5)
        var ended = false
        while Date() < deadline && !ended {
            ended = daemon.log.split(separator: "\n").contains { $0.contains("GET /v1.50/events?filters=") && $0.contains(" 200 ") }
            usleep(50_000)
        }
        #expect(ended, "\(daemon.log)")
    }
}

extension EventsTests {
    @Test func resizeAndDaemonReloadCarryTheirAttributes() throws {
        let daemon = try Self.daemon()
        let since = Self.sinceNow()
        #expect(daemon.docker(["run", "-d", "-t", "--name", "term", "busybox", "sleep", "100"]).status == 0)
        let resize = daemon.curl(["-w", "%{http_code}", "-X", "POST", "http://berth/v1.50/containers/term/resize?h=30&w=100"])
        #expect(resize.stdout == "200", "\(resize.stdout)")
        kill(daemon.process.processIdentifier, SIGHUP)
        let daemonID = daemon.docker(["info", "--format", "{{.ID}}"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(daemon.docker(["rm", "-f", "term"]).status == 0)
        Self.nextSecond()
        let resized = daemon.docker(["events", "--since", since, "--until", "0s", "-f", "event=resize", "--format", "{{.Actor.Attributes.height}}x{{.Actor.Attributes.width}} {{.Actor.Attributes.name}}"])
        #expect(resized.stdout == "30x100 term\n", "\(resized.stdout)")
        let reload = daemon.docker(["events", "--since", since, "--until", "0s", "-f", "type=daemon", "--format", "{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.debug}}"])
        #expect(reload.stdout == "reload \(daemonID) true\n", "\(reload.stdout) \(daemon.log)")
        // rm -f of a running container: SIGKILL, its exit, then its removal.
        let removal = daemon.docker(["events", "--since", since, "--until", "0s", "-f", "container=term", "-f", "event=kill", "-f", "event=die", "-f", "event=destroy",
                                     "--format", "{{.Action}} {{index .Actor.Attributes \"signal\"}}{{index .Actor.Attributes \"exitCode\"}}"])
        #expect(removal.stdout == "kill 9\ndie 137\ndestroy \n", "\(removal.stdout)")
    }
}

extension EventsTests {
    @Test func anOpenStreamDoesNotHoldTheDaemonsShutdown() throws {
        let daemon = try Self.daemon()
        let watcher = try Watcher(daemon, [])
        usleep(500_000)
        let began = Date()
        #expect(daemon.stop() == 0)
        // The server lets requests finish for up to 15 s; an event stream must not count as one.
        #expect(Date().timeIntervalSince(began) < 5, "\(daemon.log)")
        watcher.process.waitUntilExit()
    }
}
