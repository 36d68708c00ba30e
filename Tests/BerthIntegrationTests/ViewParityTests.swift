import Foundation
import Testing

/// What `docker ps` and `docker inspect` show, compared side by side with dockerd's output.
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct ViewParityTests {
    /// dockerd lists a host or none container on that network, with the network's ID once it
    /// has started; `{{.Networks}}` prints the name.
    @Test func hostAndNoneContainersShowTheirNetwork() throws {
        let daemon = try ContainersTests.daemonWithImage()
        #expect(daemon.docker(["create", "--name", "fresh", "--network", "none", "busybox", "true"]).status == 0)
        #expect(daemon.docker(["run", "-d", "--name", "onhost", "--network", "host", "busybox", "sleep", "100"]).status == 0)
        #expect(daemon.docker(["run", "--name", "onnone", "--network", "none", "busybox", "true"]).status == 0)
        let listed = daemon.docker(["ps", "-a", "--format", "{{.Names}} {{.Networks}}"])
        #expect(Set(listed.stdout.split(separator: "\n")) == ["fresh none", "onhost host", "onnone none"], "\(listed)")

        let ids = daemon.docker(["network", "ls", "--no-trunc", "--format", "{{.Name}} {{.ID}}"]).stdout
            .split(separator: "\n").reduce(into: [String: String]()) { map, line in
                let parts = line.split(separator: " ").map(String.init)
                map[parts[0]] = parts[1]
            }
        let host = daemon.docker(["inspect", "-f", "{{json .NetworkSettings.Networks}}", "onhost"])
        let hostNetworks = try JSONSerialization.jsonObject(with: Data(host.stdout.utf8)) as? [String: [String: Any]]
        #expect(hostNetworks?.keys.sorted() == ["host"], "\(host)")
        #expect(hostNetworks?["host"]?["NetworkID"] as? String == ids["host"])
        // Stopped, it keeps the network's ID.
        let none = daemon.docker(["inspect", "-f", "{{json .NetworkSettings.Networks}}", "onnone"])
        let noneNetworks = try JSONSerialization.jsonObject(with: Data(none.stdout.utf8)) as? [String: [String: Any]]
        #expect(noneNetworks?["none"]?["NetworkID"] as? String == ids["none"], "\(none)")
        // Never started: the network is named, without an ID.
        let fresh = daemon.docker(["inspect", "-f", "{{(index .NetworkSettings.Networks \"none\").NetworkID}}|", "fresh"])
        #expect(fresh.stdout == "|\n", "\(fresh)")

        // `network inspect host|none` lists the running ones, with the endpoint ID the
        // container shows; a stopped one is not listed and shows no endpoint ID.
        let onHost = daemon.docker(["network", "inspect", "host", "-f", "{{json .Containers}}"])
        let members = try JSONSerialization.jsonObject(with: Data(onHost.stdout.utf8)) as? [String: [String: String]]
        let hostID = daemon.docker(["inspect", "-f", "{{.Id}}", "onhost"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let endpoint = hostNetworks?["host"]?["EndpointID"] as? String ?? ""
        #expect(endpoint.count == 64, "\(host)")
        #expect(members == [hostID: ["Name": "onhost", "EndpointID": endpoint, "MacAddress": "", "IPv4Address": "", "IPv6Address": ""]], "\(onHost)")
        #expect(daemon.docker(["network", "inspect", "none", "-f", "{{json .Containers}}"]).stdout == "{}\n")
        #expect(noneNetworks?["none"]?["EndpointID"] as? String == "", "\(none)")
        // A new run is a new endpoint.
        #expect(daemon.docker(["restart", "-t", "0", "onhost"]).status == 0)
        let again = daemon.docker(["inspect", "-f", "{{.NetworkSettings.Networks.host.EndpointID}}", "onhost"]).stdout
        #expect(again.count == 65 && again != endpoint + "\n", "\(again)")
        _ = daemon.docker(["rm", "-f", "onhost"])
    }

    /// dockerd matches `ancestor` by image ID: a container run from another tag of the same
    /// image, or by the image's ID, is found; an unknown image finds nothing, without error.
    @Test func ancestorFilterMatchesByImageID() throws {
        let daemon = try ContainersTests.daemonWithImage()
        #expect(daemon.docker(["tag", "busybox", "othertag:v1"]).status == 0)
        #expect(daemon.docker(["create", "--name", "plain", "busybox", "true"]).status == 0)
        #expect(daemon.docker(["create", "--name", "tagged", "othertag:v1", "true"]).status == 0)
        let imageID = daemon.docker(["inspect", "-f", "{{.Id}}", "busybox"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        func names(_ ancestor: String) -> Set<Substring> {
            let listed = daemon.docker(["ps", "-a", "--filter", "ancestor=" + ancestor, "--format", "{{.Names}}"])
            #expect(listed.status == 0, "\(listed)")
            return Set(listed.stdout.split(separator: "\n"))
        }
        #expect(names("busybox") == ["plain", "tagged"])
        #expect(names("othertag:v1") == ["plain", "tagged"])
        #expect(names("busybox:latest") == ["plain", "tagged"])
        #expect(names(String(imageID.dropFirst(7).prefix(12))) == ["plain", "tagged"])
        #expect(names("othertag") == [])  // othertag:latest does not exist
        #expect(names("nosuchimage") == [])
    }

    /// dockerd lists stopped containers for a status filter even without -a.
    @Test func statusFilterListsStoppedContainersWithoutAll() throws {
        let daemon = try ContainersTests.daemonWithImage()
        #expect(daemon.docker(["create", "--name", "made", "busybox", "true"]).status == 0)
        #expect(daemon.docker(["run", "--name", "ended", "busybox", "true"]).status == 0)
        #expect(daemon.docker(["run", "-d", "--name", "up", "busybox", "sleep", "100"]).status == 0)
        func names(_ arguments: [String]) -> [Substring] {
            daemon.docker(["ps"] + arguments + ["--format", "{{.Names}}"]).stdout.split(separator: "\n")
        }
        #expect(names(["--filter", "status=exited"]) == ["ended"])
        #expect(names(["--filter", "status=created"]) == ["made"])
        #expect(Set(names(["--filter", "status=exited", "--filter", "status=running"])) == ["ended", "up"])
        // Other filters keep to running containers, as dockerd's do.
        #expect(names(["--filter", "exited=0"]) == [])
        #expect(names(["--filter", "name=ended"]) == [])
        #expect(names([]) == ["up"])
        _ = daemon.docker(["rm", "-f", "up"])
    }

    /// Across a berthd restart, as across dockerd's: a running container's exposed but
    /// unpublished ports stay in NetworkSettings.Ports (as null), and a stopped container of
    /// the default bridge keeps the bridge's network ID.
    @Test func networkSettingsSurviveADaemonRestart() throws {
        let daemon = try ContainersTests.daemonWithImage()
        #expect(daemon.docker(["run", "-d", "--name", "exposer", "--expose", "7000", "-p", "127.0.0.1::80",
                               "busybox", "sleep", "100"]).status == 0)
        #expect(daemon.docker(["run", "--name", "ran", "busybox", "true"]).status == 0)
        let bridgeID = daemon.docker(["network", "inspect", "-f", "{{.Id}}", "bridge"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        daemon.crash()
        let restarted = try TestDaemon(directory: daemon.directory)
        let ports = restarted.docker(["inspect", "-f", "{{json .NetworkSettings.Ports}}", "exposer"])
        let map = try JSONSerialization.jsonObject(with: Data(ports.stdout.utf8)) as? [String: Any]
        #expect(map?.keys.sorted() == ["7000/tcp", "80/tcp"], "\(ports) \(restarted.log)")
        #expect(map?["7000/tcp"] is NSNull)
        let listed = restarted.docker(["ps", "--format", "{{.Ports}}"]).stdout
        #expect(listed.hasPrefix("7000/tcp, 127.0.0.1:"), "\(listed)")
        let ran = restarted.docker(["inspect", "-f", "{{.NetworkSettings.Networks.bridge.NetworkID}}", "ran"])
        #expect(ran.stdout == bridgeID + "\n", "\(ran)")
        _ = restarted.docker(["rm", "-f", "exposer"])
    }

    /// `--filter id=` with an empty value matches nothing, as in dockerd.
    @Test func emptyIDFilterMatchesNothing() throws {
        let daemon = try ContainersTests.daemonWithImage()
        #expect(daemon.docker(["create", "--name", "some", "busybox", "true"]).status == 0)
        let listed = daemon.docker(["ps", "-a", "--filter", "id=", "--format", "{{.Names}}"])
        #expect(listed.status == 0 && listed.stdout.isEmpty, "\(listed)")
        #expect(daemon.docker(["ps", "-aq", "--filter", "id=" + String(daemon.docker(["inspect", "-f", "{{.Id}}", "some"]).stdout.prefix(5))]).stdout.count == 13)
    }

    /// `GET /containers/json?limit=abc` fails with dockerd's text instead of listing.
    @Test func badListLimitIsRefused() throws {
        let daemon = try TestDaemon()
        let bad = daemon.curl(["-s", "-w", "%{http_code}", "http://berth/containers/json?limit=abc"])
        let text = bad.stdout.replacingOccurrences(of: "\n", with: "")
        // A 500: dockerd passes strconv's error on untyped (20.10 and current alike).
        #expect(text == #"{"message":"strconv.Atoi: parsing \"abc\": invalid syntax"}500"#, "\(bad)")
        #expect(daemon.curl(["-s", "http://berth/containers/json?limit=-1"]).stdout.hasPrefix("["))
    }

    /// dockerd's `network` filter takes a network's name or a prefix of its ID.
    @Test func networkFilterMatchesIDPrefixes() throws {
        let daemon = try ContainersTests.daemonWithImage()
        #expect(daemon.docker(["network", "create", "vpnet"]).status == 0)
        defer { _ = daemon.docker(["network", "rm", "vpnet"]) }
        #expect(daemon.docker(["create", "--name", "onuser", "--network", "vpnet", "busybox", "true"]).status == 0)
        #expect(daemon.docker(["run", "--name", "onhost", "--network", "host", "busybox", "true"]).status == 0)
        func names(_ network: String) -> [Substring] {
            daemon.docker(["ps", "-a", "--filter", "network=" + network, "--format", "{{.Names}}"]).stdout.split(separator: "\n")
        }
        func id(_ network: String) -> String {
            daemon.docker(["network", "inspect", "-f", "{{.Id}}", network]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(names("vpnet") == ["onuser"])
        #expect(names(String(id("vpnet").prefix(6))) == ["onuser"])
        #expect(names(id("vpnet")) == ["onuser"])
        #expect(names(String(id("host").prefix(8))) == ["onhost"])
        #expect(names("vpn") == [])  // names match whole
        // A container on another's network is on no network of its own.
        #expect(daemon.docker(["create", "--name", "sharer", "--network", "container:onuser", "busybox", "true"]).status == 0)
        #expect(names("container:onuser") == [])
        _ = daemon.docker(["rm", "sharer"])
        _ = daemon.docker(["rm", "onuser", "onhost"])
    }

    /// A legacy link names its target after the linking container too ("/web/alias"); dockerd
    /// lists that in Names, which `docker ps --no-trunc` shows, and follows renames.
    @Test func linkedContainersListTheirLinkNames() throws {
        let daemon = try ContainersTests.daemonWithImage()
        #expect(daemon.docker(["run", "-d", "--name", "db", "busybox", "sleep", "100"]).status == 0)
        #expect(daemon.docker(["run", "-d", "--name", "web", "--link", "db:store", "busybox", "sleep", "100"]).status == 0)
        func names(_ arguments: [String]) -> String {
            daemon.docker(["ps"] + arguments + ["--filter", "name=^db$", "--format", "{{.Names}}"]).stdout
        }
        #expect(names(["--no-trunc"]) == "db,web/store\n")
        #expect(names([]) == "db\n")
        let raw = daemon.curl(["http://berth/containers/json?filters=%7B%22name%22%3A%5B%22%5Edb%24%22%5D%7D"])
        #expect(raw.stdout.contains(#""Names":["/db","/web/store"]"#), "\(raw)")
        #expect(daemon.docker(["rename", "web", "site"]).status == 0)
        #expect(names(["--no-trunc"]) == "db,site/store\n")
        _ = daemon.docker(["rm", "-f", "site", "db"])
    }

    /// dockerd reports a successful `docker top` and `docker update` as container events.
    @Test func topAndUpdateAreEvents() throws {
        let daemon = try ContainersTests.daemonWithImage()
        let since = EventsTests.sinceNow()
        #expect(daemon.docker(["run", "-d", "--name", "watched", "-l", "team=a", "busybox", "sleep", "100"]).status == 0)
        #expect(daemon.docker(["top", "watched"]).status == 0)
        #expect(daemon.docker(["update", "--cpu-shares", "512", "watched"]).status == 0)
        #expect(daemon.docker(["update", "--cpu-shares", "1", "--memory", "1k", "watched"]).status != 0)  // refused: no event
        EventsTests.nextSecond()
        let listed = daemon.docker(["events", "--since", since, "--until", "0s", "--filter", "container=watched",
                                    "--format", "{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.team}}"])
        #expect(listed.stdout == "create watched a\nstart watched a\ntop watched a\nupdate watched a\n", "\(listed)")
        _ = daemon.docker(["rm", "-f", "watched"])
    }

    /// Once the tag a container was made from is removed (or moved to another image), dockerd's
    /// list shows the image's ID instead; `docker ps` prints its short form.
    @Test func listShowsTheImageIDOnceTheTagIsGone() throws {
        let daemon = try ContainersTests.daemonWithImage()
        #expect(daemon.docker(["tag", "busybox", "passing:1"]).status == 0)
        #expect(daemon.docker(["create", "--name", "fromtag", "passing:1", "true"]).status == 0)
        func image() -> String {
            daemon.docker(["ps", "-a", "--filter", "name=fromtag", "--format", "{{.Image}}"]).stdout
        }
        #expect(image() == "passing:1\n")
        #expect(daemon.docker(["rmi", "passing:1"]).status == 0)
        let id = daemon.docker(["inspect", "-f", "{{.Image}}", "fromtag"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        usleep(1_100_000)  // past the list's one-second answer cache
        #expect(image() == String(id.dropFirst(7).prefix(12)) + "\n")
        let raw = daemon.curl(["http://berth/containers/json?all=1"])
        #expect(raw.stdout.contains(#""Image":"\#(id)""#), "\(raw)")
        #expect(daemon.docker(["inspect", "-f", "{{.Config.Image}}", "fromtag"]).stdout == "passing:1\n")
    }

    /// dockerd's COMMAND quotes an argument holding a space, not one holding a tab, and never
    /// the program's path.
    @Test func commandColumnQuotesAsDockerd() throws {
        let daemon = try ContainersTests.daemonWithImage()
        #expect(daemon.docker(["create", "--name", "tabbed", "busybox", "echo", "x\ty", "a b", ""]).status == 0)
        #expect(daemon.docker(["create", "--name", "spaced", "--entrypoint", "/bin/my prog", "busybox", "z"]).status == 0)
        let raw = daemon.curl(["http://berth/containers/json?all=1"])
        #expect(raw.stdout.contains(#""Command":"echo x\ty 'a b' ""#), "\(raw)")
        #expect(raw.stdout.contains(#""Command":"/bin/my prog z""#), "\(raw)")
    }

    /// dockerd's list leaves out a zero SizeRw (Go's omitempty) and shows an endpoint's
    /// addresses without its aliases (inspect has those).
    @Test func listLeavesOutZeroSizesAndEndpointAliases() throws {
        let daemon = try ContainersTests.daemonWithImage()
        #expect(daemon.docker(["network", "create", "sizenet"]).status == 0)
        defer { _ = daemon.docker(["network", "rm", "sizenet"]) }
        #expect(daemon.docker(["run", "-d", "--name", "clean", "--network", "sizenet", "--network-alias", "nick",
                               "busybox", "sleep", "100"]).status == 0)
        #expect(daemon.docker(["run", "--name", "writer", "busybox", "sh", "-c", "echo data > /file"]).status == 0)
        let raw = daemon.curl(["http://berth/containers/json?all=1&size=1"])
        let list = try JSONSerialization.jsonObject(with: Data(raw.stdout.utf8)) as? [[String: Any]] ?? []
        let clean = list.first { ($0["Names"] as? [String]) == ["/clean"] }
        let writer = list.first { ($0["Names"] as? [String]) == ["/writer"] }
        #expect(clean?["SizeRw"] == nil, "\(raw)")
        #expect((clean?["SizeRootFs"] as? Int ?? 0) > 0)
        #expect((writer?["SizeRw"] as? Int ?? 0) > 0, "\(raw)")
        let endpoint = ((clean?["NetworkSettings"] as? [String: Any])?["Networks"] as? [String: Any])?["sizenet"] as? [String: Any]
        #expect(endpoint?["Aliases"] is NSNull, "\(raw)")
        #expect((endpoint?["IPAddress"] as? String ?? "").isEmpty == false)
        let inspected = daemon.docker(["inspect", "-f", "{{json .NetworkSettings.Networks.sizenet.Aliases}}", "clean"])
        #expect(inspected.stdout == "[\"nick\"]\n", "\(inspected)")
        _ = daemon.docker(["rm", "-f", "clean", "writer"])
    }

    /// dockerd connects a host or none container to that network and reports it: a network
    /// connect event at the start and a disconnect at the end, with the network's ID.
    @Test func hostAndNoneContainersEmitNetworkEvents() throws {
        let daemon = try ContainersTests.daemonWithImage()
        let since = EventsTests.sinceNow()
        #expect(daemon.docker(["run", "--rm", "--network", "none", "busybox", "true"]).status == 0)
        #expect(daemon.docker(["run", "--rm", "--network", "host", "busybox", "true"]).status == 0)
        EventsTests.nextSecond()
        let listed = daemon.docker(["events", "--since", since, "--until", "0s", "--filter", "type=network",
                                    "--format", "{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.type}} {{.Actor.ID}}"])
        let noneID = daemon.docker(["network", "inspect", "-f", "{{.Id}}", "none"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let hostID = daemon.docker(["network", "inspect", "-f", "{{.Id}}", "host"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(listed.stdout == """
            connect none null \(noneID)
            disconnect none null \(noneID)
            connect host host \(hostID)
            disconnect host host \(hostID)

            """, "\(listed)")
    }

    /// dockerd turns the health "unhealthy" when its monitor stops: while paused (until the
    /// next probe after the unpause) and once the container has stopped.
    @Test func healthTurnsUnhealthyWhenProbingStops() throws {
        let daemon = try ContainersTests.daemonWithImage()
        #expect(daemon.docker(["run", "-d", "--name", "fine", "--health-cmd", "true", "--health-interval", "1s",
                               "busybox", "sleep", "100"]).status == 0)
        func health() -> String {
            daemon.docker(["inspect", "-f", "{{.State.Health.Status}}", "fine"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func waitHealthy() -> Bool {
            for _ in 0..<50 where health() != "healthy" { usleep(100_000) }
            return health() == "healthy"
        }
        #expect(waitHealthy())
        #expect(daemon.docker(["pause", "fine"]).status == 0)
        #expect(health() == "unhealthy")
        #expect(daemon.docker(["unpause", "fine"]).status == 0)
        #expect(health() == "unhealthy")  // the first probe comes an interval later
        #expect(waitHealthy())  // and says so again
        #expect(daemon.docker(["stop", "-t", "0", "fine"]).status == 0)
        #expect(health() == "unhealthy")
        usleep(1_100_000)  // past the list's one-second answer cache
        let listed = daemon.docker(["ps", "-a", "--filter", "health=unhealthy", "--format", "{{.Names}}"])
        #expect(listed.stdout == "fine\n", "\(listed)")
        #expect(daemon.docker(["ps", "-a", "--filter", "health=healthy", "--format", "{{.Names}}"]).stdout.isEmpty)
        #expect(daemon.docker(["start", "fine"]).status == 0)
        #expect(health() == "starting")
        _ = daemon.docker(["rm", "-f", "fine"])
    }
}
