/// What a bridge's IPv4 addresses need so that it carries its network's gateway, decided as
/// dockerd's bridge driver does: of the addresses the device already has, the one inside the
/// wanted subnet (else the first) is the bridge's; when it is not exactly the wanted address
/// and prefix, it is removed and the wanted one added. Any other address stays.
struct BridgeAddressChange: Equatable {
    var remove: IPv4Subnet?
    var add: IPv4Subnet?

    init(remove: IPv4Subnet?, add: IPv4Subnet?) {
        self.remove = remove
        self.add = add
    }

    init(current: [IPv4Subnet], wanted: IPv4Subnet) {
        let selected = current.first { wanted.contains($0.address) } ?? current.first
        if let selected, selected.address == wanted.address, selected.prefixLength == wanted.prefixLength { return }
        remove = selected
        add = wanted
    }

    var isNone: Bool { remove == nil && add == nil }
}
