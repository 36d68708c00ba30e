import Glibc

/// The links of the macvlan and ipvlan drivers through rtnetlink: a network's parent when
/// berthd makes it (a dummy, or a VLAN subinterface), and a container's link on it, made
/// straight inside the container's namespace.
extension NetlinkSocket {
    /// IFLA_LINK: the link a new one hangs off (a VLAN's, a macvlan's or an ipvlan's parent).
    static let linkAttribute: UInt16 = 5

    /// A dummy link, up: the parent of a network that named none.
    func createDummy(_ name: String) throws {
        var request = NetlinkRequest(type: RTM.newLink, flags: NLM.request | NLM.ack | NLM.create | NLM.excl,
                                     header: NetlinkRequest.linkHeader(flags: UInt32(IFF_UP), change: UInt32(IFF_UP)))
        request.attributes.add(IFLA.ifname, string: name)
        request.attributes.nest(IFLA.linkinfo) { $0.add(IFLA.infoKind, string: "dummy") }
        try perform(request, what: "create dummy \(name)")
    }

    /// A VLAN subinterface of `parentIndex` with VLAN ID `id`, up.
    func createVLAN(_ name: String, parentIndex: Int32, id: UInt16) throws {
        var request = NetlinkRequest(type: RTM.newLink, flags: NLM.request | NLM.ack | NLM.create | NLM.excl,
                                     header: NetlinkRequest.linkHeader(flags: UInt32(IFF_UP), change: UInt32(IFF_UP)))
        request.attributes.add(IFLA.ifname, string: name)
        request.attributes.add(Self.linkAttribute, uint32: UInt32(bitPattern: parentIndex))
        request.attributes.nest(IFLA.linkinfo) { info in
            info.add(IFLA.infoKind, string: "vlan")
            info.nest(IFLA.infoData) { $0.add(1, id.littleBytes) }  // IFLA_VLAN_ID
        }
        // dockerd's words: "failed to create eth0.10 vlan link: <the kernel's reason>".
        try perform(request, what: "failed to create \(name) vlan link")
    }

    /// A container's macvlan or ipvlan link on `parentIndex`, made in the namespace open at
    /// `namespaceFD` under `name` (down; the caller sets it up with its address).
    func createSubordinate(_ settings: LinkDriverSettings, name: String, parentIndex: Int32, namespaceFD: Int32,
                           mac: [UInt8]?) throws {
        var request = NetlinkRequest(type: RTM.newLink, flags: NLM.request | NLM.ack | NLM.create | NLM.excl,
                                     header: NetlinkRequest.linkHeader())
        request.attributes.add(IFLA.ifname, string: name)
        request.attributes.add(Self.linkAttribute, uint32: UInt32(bitPattern: parentIndex))
        if let mac { request.attributes.add(IFLA.address, mac) }
        request.attributes.add(IFLA.netnsFD, uint32: UInt32(bitPattern: namespaceFD))
        request.attributes.nest(IFLA.linkinfo) { info in
            info.add(IFLA.infoKind, string: settings.kind.rawValue)
            info.nest(IFLA.infoData) { data in
                switch settings.kind {
                case .macvlan:
                    data.add(1, uint32: settings.macvlanMode)  // IFLA_MACVLAN_MODE
                case .ipvlan:
                    data.add(1, settings.ipvlanMode.littleBytes)  // IFLA_IPVLAN_MODE
                    data.add(2, settings.ipvlanFlags.littleBytes)  // IFLA_IPVLAN_FLAGS
                }
            }
        }
        try perform(request, what: "failed to create the \(settings.kind.rawValue) port")
    }
}

extension NetlinkRequest {
    /// A default route on the link itself, no gateway (ipvlan l3 and l3s).
    static func addDefaultDeviceRoute(family: Int32, index: Int32) -> NetlinkRequest {
        // struct rtmsg: family, dst_len, src_len, tos, table (main), protocol (boot), scope (link), type (unicast), flags.
        let header: [UInt8] = [UInt8(family), 0, 0, 0, 254, 3, 253, 1] + UInt32(0).littleBytes
        var request = NetlinkRequest(type: RTM.newRoute, flags: NLM.request | NLM.ack | NLM.create | NLM.replace, header: header)
        request.attributes.add(4, uint32: UInt32(bitPattern: index))  // RTA_OIF
        return request
    }
}
