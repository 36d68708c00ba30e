import Foundation
import Testing

/// `--link` on a user-defined network, as dockerd does it: no legacy link (environment,
/// /etc/hosts line, HostConfig.Links), but a name that only the linking container resolves
/// through the network's embedded DNS, kept in the endpoint's Links. In NetworkTests' suite,
/// which runs its daemons one at a time.
extension NetworkTests {
    /// A user network with `lweb` on it, exposing a port and with an environment a legacy
    /// link would copy.
    private static func linkedNetwork(_ net: NetworkDaemon) throws {
        let create = net.docker(["network", "create", "--subnet", "10.236.\(Int(getpid()) % 200).0/24", "lnk"])
        guard create.status == 0 else { throw TestFailure("network create: \(create.stderr)") }
        let run = net.docker(["run", "-d", "--name", "lweb", "--network", "lnk", "--expose", "80", "-e", "SECRET=1",
                              "busybox", "sleep", "300"])
        guard run.status == 0 else { throw TestFailure("run lweb: \(run.stderr)") }
    }

    /// The address `nslookup name` answers in the container, or nil (NXDOMAIN).
    private static func lookup(_ net: NetworkDaemon, in container: String, _ name: String) -> String? {
        let result = net.docker(["exec", container, "nslookup", name])
        guard result.status == 0 else { return nil }
        let answer = result.stdout.components(separatedBy: "Name:\t\(name)\nAddress: ").dropFirst().first
        return answer?.split(separator: "\n").first.map(String.init)
    }

    @Test func aLinkOnAUserNetworkIsANameOfTheLinkingContainerOnly() throws {
        let net = try NetworkDaemon()
        try Self.linkedNetwork(net)
        let target = net.address("lweb", network: "lnk")

        // No legacy link: no W_* variables, no /etc/hosts line for the alias.
        let run = net.docker(["run", "--rm", "--network", "lnk", "--link", "lweb:w", "busybox", "sh", "-c", "env; cat /etc/hosts"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stdout.contains("W_"), "\(run.stdout)")
        #expect(!run.stdout.contains("\tw ") && !run.stdout.contains(target + "\t"), "\(run.stdout)")

        #expect(net.docker(["run", "-d", "--name", "client", "--network", "lnk", "--link", "lweb:w", "--link", "lweb",
                            "busybox", "sleep", "300"]).status == 0)
        #expect(Self.lookup(net, in: "client", "w") == target)
        #expect(Self.lookup(net, in: "client", "lweb") == target)
        #expect(net.docker(["inspect", "-f", "{{json .HostConfig.Links}} {{json .NetworkSettings.Networks.lnk.Links}}", "client"]).stdout
            == "null [\"lweb:w\",\"lweb\"]\n")

        // Another container of the network does not know the alias.
        #expect(net.docker(["run", "-d", "--name", "other", "--network", "lnk", "busybox", "sleep", "300"]).status == 0)
        #expect(Self.lookup(net, in: "other", "w") == nil)
        #expect(Self.lookup(net, in: "other", "lweb") == target)

        // The alias follows the container through a restart of either side.
        #expect(net.docker(["restart", "-t", "0", "client"]).status == 0)
        #expect(Self.lookup(net, in: "client", "w") == target)
        #expect(net.docker(["restart", "-t", "0", "lweb"]).status == 0)
        #expect(Self.lookup(net, in: "client", "w") == net.address("lweb", network: "lnk"),
                "\(net.docker(["exec", "client", "nslookup", "w"])) \(net.docker(["network", "inspect", "lnk"]).stdout)")

        // A missing target is no error on a user network: the alias just does not resolve.
        let missing = net.docker(["run", "--rm", "--network", "lnk", "--link", "nosuch:y", "busybox", "sh", "-c", "nslookup y || echo unresolved"])
        #expect(missing.status == 0 && missing.stdout.hasSuffix("unresolved\n"), "\(missing.stdout) \(missing.stderr)")
        #expect(net.docker(["create", "--name", "later", "--network", "lnk", "--link", "nosuch", "busybox", "true"]).status == 0)
        #expect(net.docker(["start", "-a", "later"]).status == 0)
    }

    @Test func networkConnectWithALinkAddsTheAliasOnThatNetworkUntilDisconnect() throws {
        let net = try NetworkDaemon()
        try Self.linkedNetwork(net)
        let target = net.address("lweb", network: "lnk")
        #expect(net.docker(["run", "-d", "--name", "plain", "busybox", "sleep", "300"]).status == 0)
        let connect = net.docker(["network", "connect", "--link", "lweb:w2", "lnk", "plain"])
        #expect(connect.status == 0, "\(connect.stderr)")
        #expect(Self.lookup(net, in: "plain", "w2") == target)
        #expect(!net.docker(["exec", "plain", "env"]).stdout.contains("W2_"))
        #expect(net.docker(["inspect", "-f", "{{json .HostConfig.Links}} {{json .NetworkSettings.Networks.lnk.Links}} {{json .NetworkSettings.Networks.bridge.Links}}",
                            "plain"]).stdout == "null [\"lweb:w2\"] null\n")
        #expect(net.docker(["network", "disconnect", "lnk", "plain"]).status == 0)
        #expect(Self.lookup(net, in: "plain", "w2") == nil)

        // Connected while stopped: the alias is there from the next start.
        #expect(net.docker(["stop", "-t", "0", "plain"]).status == 0)
        #expect(net.docker(["network", "connect", "--link", "lweb:w4", "lnk", "plain"]).status == 0)
        #expect(net.docker(["inspect", "-f", "{{json .NetworkSettings.Networks.lnk.Links}}", "plain"]).stdout == "[\"lweb:w4\"]\n")
        #expect(net.docker(["start", "plain"]).status == 0)
        #expect(Self.lookup(net, in: "plain", "w4") == target)
        #expect(Self.lookup(net, in: "plain", "w2") == nil)
    }

    @Test func linksOnAUserNetworkSurviveADaemonRestart() throws {
        let first = try NetworkDaemon()
        try Self.linkedNetwork(first)
        let target = first.address("lweb", network: "lnk")
        #expect(first.docker(["run", "-d", "--name", "client", "--network", "lnk", "--link", "lweb:w", "busybox", "sleep", "300"]).status == 0)
        #expect(Self.lookup(first, in: "client", "w") == target)
        first.daemon.crash()
        first.keep = true
        let second = try NetworkDaemon(directory: first.daemon.directory)
        #expect(Self.lookup(second, in: "client", "w") == target, "\(second.daemon.log)")
        #expect(second.docker(["inspect", "-f", "{{json .NetworkSettings.Networks.lnk.Links}}", "client"]).stdout == "[\"lweb:w\"]\n")
        #expect(second.docker(["restart", "-t", "0", "client"]).status == 0)
        #expect(Self.lookup(second, in: "client", "w") == second.address("lweb", network: "lnk"))
    }

    /// The default bridge keeps legacy links: the environment, the hosts line, the link graph
    /// in HostConfig.Links, and no endpoint Links.
    @Test func defaultBridgeLinksStayLegacy() throws {
        let net = try NetworkDaemon()
        #expect(net.docker(["run", "-d", "--name", "db", "--expose", "5432", "busybox", "sleep", "300"]).status == 0)
        #expect(net.docker(["run", "-d", "--name", "app", "--link", "db:store", "busybox", "sleep", "300"]).status == 0)
        #expect(net.docker(["inspect", "-f", "{{json .HostConfig.Links}} {{json .NetworkSettings.Networks.bridge.Links}}", "app"]).stdout
            == "[\"/db:/app/store\"] null\n")
        #expect(net.docker(["exec", "app", "env"]).stdout.contains("STORE_PORT_5432_TCP_ADDR=\(net.address("db"))\n"))
        #expect(net.docker(["exec", "app", "cat", "/etc/hosts"]).stdout.contains("\(net.address("db"))\tstore "))
        let missing = net.docker(["create", "--link", "nosuch:y", "busybox", "true"])
        #expect(missing.status != 0 && missing.stderr.contains("could not get container for nosuch: No such container: nosuch"), "\(missing.stderr)")
    }
}
