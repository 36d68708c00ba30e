/// What one running container adds to the embedded DNS: its names and addresses on each user
/// network it is on, which networks it asks from, and its `--link` aliases. The table is
/// updated a container at a time with these, so a start or stop costs the same with 200
/// containers on the network as with none.
struct DNSContainerNames: Equatable, Sendable {
    /// Its endpoint on one user network: the names others find it by there (the first one
    /// answers reverse lookups) and its addresses.
    struct Entry: Equatable, Sendable {
        var network: String
        var names: [String]
        var address: IPv4Address
        var address6: IPv6Address?
        /// The network's name: "name.network" finds it there.
        var networkName = ""
    }

    var entries: [Entry] = []
    /// The user networks it is on, in the order it joined them: the names of all of them
    /// answer its queries (keyed by its address on each).
    var networks: [String] = []
    /// Network ID → its link aliases there → the target's name; keyed by every address of it.
    var linkAliases: [String: [String: String]] = [:]
    var linkAddresses: [IPv4Address] = []
}
