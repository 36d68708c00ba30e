/// What a macvlan or ipvlan network's `-o` options ask for (`parent`, `macvlan_mode`,
/// `ipvlan_mode`, `ipvlan_flag`), with dockerd's defaults (macvlan bridge, ipvlan l2 and
/// bridge) and its refusals, word for word. Other keys are kept and shown, never read.
public struct LinkDriverSettings: Sendable, Equatable {
    public enum Kind: String, Sendable { case macvlan, ipvlan }
    public var kind: Kind
    /// The host link the containers' links hang off; "" when none was given (a dummy of
    /// berthd's then, named after the network).
    public var parent: String
    /// macvlan: bridge, private, vepa or passthru; ipvlan: l2, l3 or l3s.
    public var mode: String
    /// ipvlan only: bridge, private or vepa.
    public var flag: String

    static let macvlanModes = ["bridge", "private", "vepa", "passthru"]
    static let ipvlanModes = ["l2", "l3", "l3s"]
    static let ipvlanFlags = ["bridge", "private", "vepa"]

    /// nil for a driver that is neither.
    public init?(driver: String, options: [String: String]) throws {
        guard let kind = Kind(rawValue: driver) else { return nil }
        self.kind = kind
        parent = options["parent"] ?? ""
        switch kind {
        case .macvlan:
            mode = options["macvlan_mode"] ?? ""
            flag = ""
            if mode.isEmpty { mode = "bridge" }
            guard Self.macvlanModes.contains(mode) else {
                throw NetworkError("requested macvlan mode '\(mode)' is not valid, 'bridge' mode is the macvlan driver default")
            }
        case .ipvlan:
            mode = options["ipvlan_mode"] ?? ""
            flag = options["ipvlan_flag"] ?? ""
            if mode.isEmpty { mode = "l2" }
            guard Self.ipvlanModes.contains(mode) else {
                throw NetworkError("requested ipvlan mode '\(mode)' is not valid, 'l2' mode is the ipvlan driver default")
            }
            if flag.isEmpty { flag = "bridge" }
            guard Self.ipvlanFlags.contains(flag) else {
                throw NetworkError("requested ipvlan flag '\(flag)' is not valid, 'bridge' is the ipvlan driver default")
            }
        }
        if parent == "lo" { throw NetworkError("loopback interface is not a valid \(kind.rawValue) parent link") }
    }

    /// The parent link: the one given, or the dummy dockerd names after the network
    /// ("dm-" or "di-" and 12 digits of its ID).
    public func parentName(networkID: String) -> String {
        parent.isEmpty ? (kind == .macvlan ? "dm-" : "di-") + networkID.prefix(12) : parent
    }

    /// Without a parent of the user's, dockerd's driver takes the network as internal: no
    /// gateway and no default route (inspect still shows Internal as asked).
    public var isInternalToDriver: Bool { parent.isEmpty }

    /// ipvlan l3 and l3s route through the link itself: no gateway address, a default route
    /// on the device.
    public var routesThroughDevice: Bool { kind == .ipvlan && mode != "l2" }

    /// Whether the network's subnets hold back a gateway address (`--internal` networks
    /// and device routes need none, as dockerd's drivers say at create).
    public func reservesGateway(internal isInternal: Bool) -> Bool {
        !(isInternal || isInternalToDriver || routesThroughDevice)
    }

    /// IFLA_MACVLAN_MODE's values.
    var macvlanMode: UInt32 {
        switch mode {
        case "private": 1
        case "vepa": 2
        case "passthru": 8
        default: 4  // bridge
        }
    }

    /// IFLA_IPVLAN_MODE's and IFLA_IPVLAN_FLAGS' values.
    var ipvlanMode: UInt16 { mode == "l3" ? 1 : mode == "l3s" ? 2 : 0 }
    var ipvlanFlags: UInt16 { flag == "private" ? 1 : flag == "vepa" ? 2 : 0 }

    /// `parent=eth0.10`: the link and the VLAN ID of a subinterface to make, checked in
    /// dockerd's order and words (`exists` says whether a link is there by that name).
    public static func vlanSubinterface(_ name: String, exists: (String) -> Bool) throws -> (link: String, id: UInt16) {
        guard name.contains(".") else {
            throw NetworkError("invalid subinterface vlan name \(name), example formatting is eth0.10")
        }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw NetworkError("required interface name format is: name.vlan_id, ex. eth0.10 for vlan 10, instead received \(name)")
        }
        guard let id = Int(parts[1]) else {
            throw NetworkError("unable to parse a valid vlan id from: \(parts[1]) (ex. eth0.10 for vlan 10)")
        }
        let link = String(parts[0])
        guard exists(link) else { throw NetworkError("-o parent interface was not found on the host: \(link)") }
        guard (1...4094).contains(id) else { throw NetworkError("vlan id must be between 1-4094, received: \(id)") }
        return (link, UInt16(id))
    }
}
