import BerthOCI
import CSystemShims
import Glibc

/// The host's iptables filter FORWARD chain (table `ip filter`, as iptables-nft keeps it):
/// with policy drop (Docker installed alongside, ufw), forwarded container traffic is
/// dropped there whatever Berth's own table accepts, as one table's accept cannot override
/// another's drop. Berth leaves iptables' tables alone; it warns instead.
public enum HostForwardPolicy {
    public static let warning =
        "WARNING: the iptables filter FORWARD chain has policy DROP: traffic between Berth containers and to the outside may be dropped"

    /// Whether `nft list chain ip filter FORWARD`'s output is a forward hook dropping by default.
    static func dropsByDefault(_ listing: String) -> Bool {
        listing.split(separator: "\n").contains { $0.contains("hook forward") && $0.contains("policy drop;") }
    }

    /// Asks nft; false when there is no such chain (or no nft).
    public static func dropsForwarding() -> Bool {
        guard let listing = listChain() else { return false }
        return dropsByDefault(listing)
    }

    /// `nft list chain ip filter FORWARD`'s output, nil when it fails.
    static func listChain() -> String? {
        var output: [Int32] = [-1, -1]
        guard pipe(&output) == 0 else { return nil }
        _ = fcntl(output[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(output[1], F_SETFD, FD_CLOEXEC)
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        let map: [Int32] = [null, 0, output[1], 1, null, 2]
        let path = FirewallRuleset.nftPath
        let pid = withCStrings([path, "list", "chain", "ip", "filter", "FORWARD"]) { berth_spawn(path, $0, environ, map, 3, 0) }
        close(output[1])
        close(null)
        guard pid > 0 else {
            close(output[0])
            return nil
        }
        let text = DescriptorIO.readToEnd(output[0])
        close(output[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard berth_wifexited(status) != 0, berth_wexitstatus(status) == 0 else { return nil }
        return String(decoding: text, as: UTF8.self)
    }
}
