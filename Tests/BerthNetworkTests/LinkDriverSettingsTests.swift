import Testing
@testable import BerthNetwork

struct LinkDriverSettingsTests {
    func refusal(_ driver: String, _ options: [String: String]) -> String? {
        do {
            _ = try LinkDriverSettings(driver: driver, options: options)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func defaultsAreDockerds() throws {
        let macvlan = try #require(try LinkDriverSettings(driver: "macvlan", options: ["parent": "dummy0"]))
        #expect(macvlan.mode == "bridge" && macvlan.macvlanMode == 4 && macvlan.parent == "dummy0")
        #expect(macvlan.reservesGateway(internal: false) && !macvlan.reservesGateway(internal: true))
        let ipvlan = try #require(try LinkDriverSettings(driver: "ipvlan", options: ["parent": "dummy0"]))
        #expect(ipvlan.mode == "l2" && ipvlan.flag == "bridge" && ipvlan.ipvlanMode == 0 && ipvlan.ipvlanFlags == 0)
        #expect(!ipvlan.routesThroughDevice)
        let l3s = try #require(try LinkDriverSettings(driver: "ipvlan", options: ["parent": "d", "ipvlan_mode": "l3s", "ipvlan_flag": "vepa"]))
        #expect(l3s.routesThroughDevice && l3s.ipvlanMode == 2 && l3s.ipvlanFlags == 2 && !l3s.reservesGateway(internal: false))
        #expect(try LinkDriverSettings(driver: "bridge", options: [:]) == nil)
    }

    @Test func withoutAParentTheNetworkGetsADummyAndNoGateway() throws {
        let id = "0123456789abcdef0123"
        let macvlan = try #require(try LinkDriverSettings(driver: "macvlan", options: [:]))
        #expect(macvlan.parentName(networkID: id) == "dm-0123456789ab")
        #expect(macvlan.isInternalToDriver && !macvlan.reservesGateway(internal: false))
        let ipvlan = try #require(try LinkDriverSettings(driver: "ipvlan", options: [:]))
        #expect(ipvlan.parentName(networkID: id) == "di-0123456789ab")
    }

    @Test func badOptionsAreRefusedInDockerdsWords() {
        #expect(refusal("macvlan", ["macvlan_mode": "l2"]) == "requested macvlan mode 'l2' is not valid, 'bridge' mode is the macvlan driver default")
        #expect(refusal("ipvlan", ["ipvlan_mode": "bridge"]) == "requested ipvlan mode 'bridge' is not valid, 'l2' mode is the ipvlan driver default")
        #expect(refusal("ipvlan", ["ipvlan_flag": "passthru"]) == "requested ipvlan flag 'passthru' is not valid, 'bridge' is the ipvlan driver default")
        #expect(refusal("macvlan", ["parent": "lo"]) == "loopback interface is not a valid macvlan parent link")
        #expect(refusal("ipvlan", ["parent": "lo"]) == "loopback interface is not a valid ipvlan parent link")
        #expect(refusal("macvlan", ["parent": "x", "macvlan_mode": "passthru"]) == nil)
    }

    @Test func vlanSubinterfacesAreCheckedInDockerdsOrder() throws {
        let exists = { (name: String) in name == "dummy0" }
        func refusal(_ name: String) -> String? {
            do {
                _ = try LinkDriverSettings.vlanSubinterface(name, exists: exists)
                return nil
            } catch {
                return "\(error)"
            }
        }
        let vlan = try LinkDriverSettings.vlanSubinterface("dummy0.10", exists: exists)
        #expect(vlan.link == "dummy0" && vlan.id == 10)
        #expect(refusal("nosuch") == "invalid subinterface vlan name nosuch, example formatting is eth0.10")
        #expect(refusal("a.b.c") == "required interface name format is: name.vlan_id, ex. eth0.10 for vlan 10, instead received a.b.c")
        #expect(refusal("dummy0.x") == "unable to parse a valid vlan id from: x (ex. eth0.10 for vlan 10)")
        #expect(refusal("other.10") == "-o parent interface was not found on the host: other")
        #expect(refusal("dummy0.4095") == "vlan id must be between 1-4094, received: 4095")
        #expect(refusal("dummy0.0") == "vlan id must be between 1-4094, received: 0")
    }
}
