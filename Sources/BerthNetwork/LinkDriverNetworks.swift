import FoundationEssentials
import Glibc

/// macvlan and ipvlan networks: containers' links hang off a parent link of the host. As
/// dockerd's drivers: a parent named `x.10` that is not there is made as VLAN 10 of `x`, a
/// network that names none gets a dummy of its own, and berthd removes what it made with the
/// last network on it.
extension NetworkService {
    /// The driver's part of `network create`, once the addresses are chosen: the options
    /// checked, the parent checked against the other networks and made when missing.
    func createLinkDriverNetwork(_ record: inout NetworkRecord, pools: [AddressPool],
                                 configs: [NetworkCreateRequest.IPAMConfig]) throws {
        guard let settings = try LinkDriverSettings(driver: record.driver, options: record.options) else { return }
        let reserves = settings.reservesGateway(internal: record.isInternal)
        let given = configs.filter { !($0.Subnet ?? "").isEmpty }
        var pools = pools
        for index in pools.indices {
            let gatewayIsGiven = index < given.count && !(given[index].Gateway ?? "").isEmpty
            pools[index].gatewayIsGiven = gatewayIsGiven
            if !reserves && !gatewayIsGiven { pools[index].reservesGateway = false }
        }
        record.pool = pools[0]
        record.morePools = pools.count > 1 ? Array(pools.dropFirst()) : nil
        let parent = settings.parentName(networkID: record.id)
        for other in networks.values.sorted(by: { $0.created < $1.created }) where other.parent == parent {
            guard let theirs = other.linkSettings, theirs.kind == settings.kind else { continue }
            switch settings.kind {
            case .ipvlan:
                throw NetworkError("network di-\(other.id.prefix(12)) is already using parent interface \(parent)")
            case .macvlan:
                // dockerd 28: macvlan networks share a parent, but not with passthru.
                if settings.mode == "passthru" {
                    throw NetworkError("cannot use mode passthru, macvlan network \(other.id) is already using parent interface \(parent)")
                }
                if theirs.mode == "passthru" {
                    throw NetworkError("macvlan network \(other.id) is already using parent interface \(parent) in mode passthru")
                }
            }
        }
        let netlink = try NetlinkSocket()
        // As dockerd's lookup: a name the kernel cannot even look up (too long) is not there.
        if ((try? netlink.linkIndex(parent)) ?? nil) == nil {
            try makeParent(parent, settings: settings, netlink: netlink)
            record.parentIsOwn = true
        } else if networks.values.contains(where: { $0.parent == parent && $0.parentIsOwn == true }) {
            // Made for another network: it goes with the last one on it.
            record.parentIsOwn = true
        }
        record.parent = parent
        do {
            try save(record)
        } catch {
            networks[record.id] = nil
            removeOwnParent(record)
            try? FileManager.default.removeItem(atPath: networkPath(record.id))
            throw error
        }
    }

    /// The dummy of a network without a parent, or the VLAN subinterface a parent's name asks for.
    func makeParent(_ parent: String, settings: LinkDriverSettings, netlink: NetlinkSocket) throws {
        if settings.parent.isEmpty {
            try netlink.createDummy(parent)
            return
        }
        let vlan = try LinkDriverSettings.vlanSubinterface(parent) { (try? netlink.linkIndex($0)) != nil }
        guard let index = try netlink.linkIndex(vlan.link) else {
            throw NetworkError("-o parent interface was not found on the host: \(vlan.link)")
        }
        try netlink.createVLAN(parent, parentIndex: index, id: vlan.id)
    }

    /// At `network rm` (the record gone already): the parent berthd made, unless another
    /// network still uses it.
    func removeOwnParent(_ record: NetworkRecord) {
        guard record.parentIsOwn == true, let parent = record.parent,
              !networks.values.contains(where: { $0.id != record.id && $0.parent == parent }) else { return }
        do {
            try NetlinkSocket().deleteLink(parent)
        } catch {
            log("cannot delete link \(parent): \(error)")
        }
    }

    /// At daemon start: the parents berthd made are there again (after a reboot, say).
    func restoreOwnParents() {
        for record in networks.values.sorted(by: { $0.created < $1.created }) where record.parentIsOwn == true {
            guard let parent = record.parent, let settings = record.linkSettings else { continue }
            do {
                let netlink = try NetlinkSocket()
                if try netlink.linkIndex(parent) == nil { try makeParent(parent, settings: settings, netlink: netlink) }
            } catch {
                log("network \(record.name): \(error)")
            }
        }
    }
}
