import BerthOCI

/// The names of each user-defined network: container names, aliases and short IDs → the
/// addresses on that network. Read by the DNS threads, written by the network service a
/// container at a time (setContainer): its old entries leave the indexes and its new ones
/// enter them, so neither an update nor a lookup walks the other containers.
public final class DNSTable: @unchecked Sendable {
    private let lock = Lock()
    private var names: [String: [String: [IPv4Address]]] = [:]  // network ID → name → addresses
    private var names6: [String: [String: [IPv6Address]]] = [:]  // the same, IPv6 (AAAA)
    private var reverse: [String: [IPv4Address: String]] = [:]
    /// A container's address on a user network → every user network it is on, in the order
    /// it joined them: a container resolves the names of all its networks, as with dockerd.
    private var memberships: [IPv4Address: [String]] = [:]
    /// A container's address → network ID → its `--link` aliases there → the target's name:
    /// names only that container resolves (see EndpointLink).
    private var linkAliases: [IPv4Address: [String: [String: String]]] = [:]
    /// Network ID → its name, for names that end in one ("c1.mynet").
    private var networkNames: [String: String] = [:]
    /// What each container put in the indexes, to take it out again.
    private var containers: [String: DNSContainerNames] = [:]

    public init() {}

    /// Replaces what container `id` contributes (nil: it stopped or left every user network).
    func setContainer(_ id: String, _ contribution: DNSContainerNames?) {
        lock.withLock {
            let old = containers.removeValue(forKey: id)
            if old == contribution {
                containers[id] = contribution
                return
            }
            if let old { unindex(old) }
            if let contribution {
                index(contribution)
                containers[id] = contribution
            }
        }
    }

    /// Called with the lock held.
    private func index(_ contribution: DNSContainerNames) {
        for entry in contribution.entries {
            if !entry.networkName.isEmpty { networkNames[entry.network] = entry.networkName }
            for name in entry.names where !name.isEmpty {
                names[entry.network, default: [:]][name.lowercased(), default: []].append(entry.address)
                if let address6 = entry.address6 {
                    names6[entry.network, default: [:]][name.lowercased(), default: []].append(address6)
                }
            }
            if let first = entry.names.first { reverse[entry.network, default: [:]][entry.address] = first }
            memberships[entry.address] = contribution.networks
        }
        if !contribution.linkAliases.isEmpty {
            for address in contribution.linkAddresses { linkAliases[address] = contribution.linkAliases }
        }
    }

    /// Takes out one occurrence of each address `contribution` put in. Called with the lock held.
    private func unindex(_ contribution: DNSContainerNames) {
        func removeOne<Address: Equatable>(_ address: Address, _ name: String, from table: inout [String: [String: [Address]]], network: String) {
            guard var list = table[network]?[name], let position = list.firstIndex(of: address) else { return }
            list.remove(at: position)
            table[network]![name] = list.isEmpty ? nil : list
        }
        for entry in contribution.entries {
            for name in entry.names where !name.isEmpty {
                removeOne(entry.address, name.lowercased(), from: &names, network: entry.network)
                if let address6 = entry.address6 { removeOne(address6, name.lowercased(), from: &names6, network: entry.network) }
            }
            if let first = entry.names.first, reverse[entry.network]?[entry.address] == first {
                reverse[entry.network]![entry.address] = nil
            }
            if memberships[entry.address] == contribution.networks { memberships[entry.address] = nil }
        }
        for address in contribution.linkAddresses where linkAliases[address] == contribution.linkAliases {
            linkAliases[address] = nil
        }
    }

    /// The name `name` stands for when `client` asks on `network`: the target of one of its
    /// link aliases there, or nil.
    func linkTarget(client: IPv4Address?, network: String, name: String) -> String? {
        guard let client else { return nil }
        var key = name.lowercased()
        if key.hasSuffix(".") { key.removeLast() }
        return lock.withLock { linkAliases[client]?[network]?[key] }
    }

    /// The networks whose names a query to `network`'s server from `client` may be answered
    /// from: that network first, then the client's other networks.
    func networks(answering client: IPv4Address?, at network: String) -> [String] {
        guard let client else { return [network] }
        return [network] + lock.withLock { memberships[client] ?? [] }.filter { $0 != network }
    }

    /// A removed network's names (it has no container left; a late update of one finds
    /// nothing of it to take out).
    func remove(network: String) {
        lock.withLock {
            names[network] = nil
            names6[network] = nil
            reverse[network] = nil
            networkNames[network] = nil
        }
    }

    func networkName(_ id: String) -> String? {
        lock.withLock { networkNames[id] }
    }

    public func lookup(network: String, name: String) -> [IPv4Address]? {
        var key = name.lowercased()
        if key.hasSuffix(".") { key.removeLast() }
        return lock.withLock { names[network]?[key] }
    }

    public func lookup6(network: String, name: String) -> [IPv6Address] {
        var key = name.lowercased()
        if key.hasSuffix(".") { key.removeLast() }
        return lock.withLock { names6[network]?[key] ?? [] }
    }

    public func reverseLookup(network: String, address: IPv4Address) -> String? {
        lock.withLock { reverse[network]?[address] }
    }
}
