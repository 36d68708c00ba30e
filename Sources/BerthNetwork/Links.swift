import BerthOCI
import Glibc

/// Links, addresses and routes through rtnetlink: what `ip link/addr/route` would do,
/// without starting a process per step.
extension NetlinkRequest {
    /// RTM_GETLINK of one link by name; acknowledged, so it can share a batch.
    static func getLink(_ name: String) -> NetlinkRequest {
        var request = NetlinkRequest(type: RTM.getLink, flags: NLM.request | NLM.ack, header: linkHeader())
        request.attributes.add(IFLA.ifname, string: name)
        return request
    }

    static func setUp(_ index: Int32) -> NetlinkRequest {
        let up = UInt32(IFF_UP)
        return NetlinkRequest(type: RTM.newLink, flags: NLM.request | NLM.ack, header: linkHeader(index: index, flags: up, change: up))
    }

    static func setMTU(_ index: Int32, _ mtu: Int) -> NetlinkRequest {
        var request = NetlinkRequest(type: RTM.newLink, flags: NLM.request | NLM.ack, header: linkHeader(index: index))
        request.attributes.add(IFLA.mtu, uint32: UInt32(mtu))
        return request
    }

    /// Sets a link up, with first (the kernel applies them before the flags) its bridge or
    /// its hardware address.
    static func setUp(_ index: Int32, master: Int32? = nil, address: [UInt8]? = nil) -> NetlinkRequest {
        var request = setUp(index)
        if let master { request.attributes.add(IFLA.master, uint32: UInt32(bitPattern: master)) }
        if let address { request.attributes.add(IFLA.address, address) }
        return request
    }

    /// Adds `address/prefix` to a link (replacing the same address if it is there).
    static func addAddress(_ subnet: IPv4Subnet, index: Int32) -> NetlinkRequest {
        // struct ifaddrmsg: family, prefixlen, flags, scope, index.
        let header = [UInt8(AF_INET), UInt8(subnet.prefixLength), 0, 0] + UInt32(bitPattern: index).littleBytes
        var request = NetlinkRequest(type: RTM.newAddr, flags: NLM.request | NLM.ack | NLM.create | NLM.replace, header: header)
        request.attributes.add(1, subnet.address.bytes)  // IFA_ADDRESS
        request.attributes.add(2, subnet.address.bytes)  // IFA_LOCAL
        if subnet.prefixLength < 31 { request.attributes.add(4, subnet.broadcast.bytes) }  // IFA_BROADCAST
        return request
    }

    /// Adds an IPv6 `address/prefix` to a link, without duplicate address detection (the
    /// network's addresses are handed out by berthd alone, as dockerd adds them).
    static func addAddress(_ subnet: IPv6Subnet, index: Int32) -> NetlinkRequest {
        // struct ifaddrmsg: family, prefixlen, flags (IFA_F_NODAD), scope, index.
        let header = [UInt8(AF_INET6), UInt8(subnet.prefixLength), 0x02, 0] + UInt32(bitPattern: index).littleBytes
        var request = NetlinkRequest(type: RTM.newAddr, flags: NLM.request | NLM.ack | NLM.create | NLM.replace, header: header)
        request.attributes.add(2, subnet.address.bytes)  // IFA_LOCAL
        request.attributes.add(1, subnet.address.bytes)  // IFA_ADDRESS
        return request
    }

    /// The IPv6 default route through `gateway` on the link.
    static func addDefaultRoute(via gateway: IPv6Address, index: Int32) -> NetlinkRequest {
        defaultRoute(family: UInt8(AF_INET6), gateway: gateway.bytes, index: index)
    }

    /// Removes `address/prefix` from a link.
    static func removeAddress(_ subnet: IPv4Subnet, index: Int32) -> NetlinkRequest {
        let header = [UInt8(AF_INET), UInt8(subnet.prefixLength), 0, 0] + UInt32(bitPattern: index).littleBytes
        var request = NetlinkRequest(type: RTM.delAddr, flags: NLM.request | NLM.ack, header: header)
        request.attributes.add(2, subnet.address.bytes)  // IFA_LOCAL
        return request
    }

    /// The default route through `gateway` on the link.
    static func addDefaultRoute(via gateway: IPv4Address, index: Int32) -> NetlinkRequest {
        defaultRoute(family: UInt8(AF_INET), gateway: gateway.bytes, index: index)
    }

    private static func defaultRoute(family: UInt8, gateway: [UInt8], index: Int32) -> NetlinkRequest {
        // struct rtmsg: family, dst_len, src_len, tos, table (main), protocol (boot), scope (universe), type (unicast), flags.
        let header: [UInt8] = [family, 0, 0, 0, 254, 3, 0, 1] + UInt32(0).littleBytes
        var request = NetlinkRequest(type: RTM.newRoute, flags: NLM.request | NLM.ack | NLM.create | NLM.replace, header: header)
        request.attributes.add(5, gateway)  // RTA_GATEWAY
        request.attributes.add(4, uint32: UInt32(bitPattern: index))  // RTA_OIF
        return request
    }

    /// The interface index in an RTM_NEWLINK answer (struct ifinfomsg's ifi_index).
    static func linkIndex(in replies: [(type: UInt16, payload: [UInt8])]) -> Int32? {
        guard let reply = replies.first, reply.payload.count >= 8 else { return nil }
        return Int32(bitPattern: reply.payload.loadLE(UInt32.self, at: 4))
    }
}

extension NetlinkSocket {
    /// The index of a link by name, or nil when there is none.
    func linkIndex(_ name: String) throws -> Int32? {
        do {
            return NetlinkRequest.linkIndex(in: try perform(.getLink(name), what: "find link \(name)"))
        } catch let error as NetworkError where error.description.hasSuffix(String(cString: strerror(ENODEV))) {
            return nil
        }
    }

    /// A link's kind as `ip -d link` names it ("bridge", "veth", …; "" for one without a
    /// driver kind, as lo), or nil when there is no link of that name.
    func linkKind(_ name: String) throws -> String? {
        let replies: [(type: UInt16, payload: [UInt8])]
        do {
            replies = try perform(.getLink(name), what: "find link \(name)")
        } catch let error as NetworkError where error.description.hasSuffix(String(cString: strerror(ENODEV))) {
            return nil
        }
        guard let reply = replies.first, let info = reply.payload.attributes(after: 16)[IFLA.linkinfo] else { return "" }
        guard let kind = Array(info).attributes(after: 0)[IFLA.infoKind] else { return "" }
        return String(decoding: kind.prefix { $0 != 0 }, as: UTF8.self)
    }

    func createBridge(_ name: String, mtu: Int?) throws {
        var request = NetlinkRequest(type: RTM.newLink, flags: NLM.request | NLM.ack | NLM.create | NLM.excl,
                                     header: NetlinkRequest.linkHeader())
        request.attributes.add(IFLA.ifname, string: name)
        if let mtu { request.attributes.add(IFLA.mtu, uint32: UInt32(mtu)) }
        request.attributes.add(IFLA.address, BridgeHardwareAddress.random())
        request.attributes.nest(IFLA.linkinfo) { $0.add(IFLA.infoKind, string: "bridge") }
        try perform(request, what: "create bridge \(name)")
    }

    /// A veth pair whose other end is created straight in the container's namespace (open
    /// at `peerNamespaceFD`) under `peerName`. With `bridgeIndex`, the host end joins that
    /// bridge and comes up with the creation (the kernel applies its ifinfomsg flags once the
    /// pair is whole); without, it waits outside any bridge, down. The container end cannot
    /// come up here (its flags are applied before it has a peer, and the kernel refuses with
    /// ENOTCONN), so it is set up afterwards.
    func createVeth(hostName: String, bridgeIndex: Int32?, peerName: String, peerNamespaceFD: Int32,
                    peerMAC: [UInt8]?, mtu: Int) throws {
        let up = bridgeIndex == nil ? 0 : UInt32(IFF_UP)
        var request = NetlinkRequest(type: RTM.newLink, flags: NLM.request | NLM.ack | NLM.create | NLM.excl,
                                     header: NetlinkRequest.linkHeader(flags: up, change: up))
        request.attributes.add(IFLA.ifname, string: hostName)
        request.attributes.add(IFLA.mtu, uint32: UInt32(mtu))
        // No transmit queue at either end (a "noqueue" qdisc), as dockerd's veth pairs have.
        request.attributes.add(IFLA.txqlen, uint32: 0)
        if let bridgeIndex { request.attributes.add(IFLA.master, uint32: UInt32(bitPattern: bridgeIndex)) }
        request.attributes.nest(IFLA.linkinfo) { info in
            info.add(IFLA.infoKind, string: "veth")
            info.nest(IFLA.infoData) { data in
                data.nest(IFLA.vethPeer, prefix: NetlinkRequest.linkHeader()) { peer in
                    peer.add(IFLA.ifname, string: peerName)
                    peer.add(IFLA.mtu, uint32: UInt32(mtu))
                    peer.add(IFLA.txqlen, uint32: 0)
                    if let peerMAC { peer.add(IFLA.address, peerMAC) }
                    peer.add(IFLA.netnsFD, uint32: UInt32(bitPattern: peerNamespaceFD))
                }
            }
        }
        try perform(request, what: "create veth \(hostName)")
    }

    func setUp(_ index: Int32, what: String) throws {
        try perform(.setUp(index), what: "set \(what) up")
    }

    func deleteLink(_ name: String) throws {
        var request = NetlinkRequest(type: RTM.delLink, flags: NLM.request | NLM.ack, header: NetlinkRequest.linkHeader())
        request.attributes.add(IFLA.ifname, string: name)
        try perform(request, what: "delete link \(name)")
    }

    func addAddress(_ subnet: IPv4Subnet, index: Int32) throws {
        try perform(.addAddress(subnet, index: index), what: "add address \(subnet.addressDescription)")
    }

    /// The IPv4 addresses of a link, each with its prefix length.
    func ipv4Addresses(index: Int32) throws -> [IPv4Subnet] {
        let header = [UInt8(AF_INET), 0, 0, 0] + UInt32(0).littleBytes
        let request = NetlinkRequest(type: RTM.getAddr, flags: NLM.request | NLM.dump, header: header)
        return try perform(request, what: "list addresses").compactMap { reply in
            // struct ifaddrmsg: family, prefixlen, flags, scope, index; then IFA_LOCAL (2) or IFA_ADDRESS (1).
            guard reply.payload.count >= 8, Int32(bitPattern: reply.payload.loadLE(UInt32.self, at: 4)) == index else { return nil }
            let attributes = reply.payload.attributes(after: 8)
            guard let bytes = attributes[2] ?? attributes[1], bytes.count == 4 else { return nil }
            let value = bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            return IPv4Subnet(IPv4Address(value), prefixLength: Int(reply.payload[1]))
        }
    }
}
