import Testing
@testable import BerthNetwork

struct BridgeOptionsTests {
    /// `-o com.docker.network.driver.mtu` read as Go's strconv.Atoi reads it, refused in
    /// dockerd's words; 0 leaves the daemon's MTU.
    @Test func mtuOption() throws {
        let key = BridgeOptions.mtu
        #expect(try BridgeOptions.mtu([:]) == nil)
        #expect(try BridgeOptions.mtu([key: "1400"]) == 1400)
        #expect(try BridgeOptions.mtu([key: "+1400"]) == 1400)
        #expect(NetworkRecord(id: "x", name: "n", driver: "bridge", created: "", options: [key: "0"]).mtu == nil)
        #expect(NetworkRecord(id: "x", name: "n", driver: "bridge", created: "", options: [key: "1450"]).mtu == 1450)
        func refusal(_ value: String) -> String? {
            do { _ = try BridgeOptions.mtu([key: value]); return nil } catch { return "\(error)" }
        }
        #expect(refusal("abc") == #"failed to parse com.docker.network.driver.mtu value: abc (strconv.Atoi: parsing "abc": invalid syntax)"#)
        #expect(refusal("") == #"failed to parse com.docker.network.driver.mtu value:  (strconv.Atoi: parsing "": invalid syntax)"#)
        #expect(refusal("-5") == "invalid MTU number: -5")
        #expect(refusal("99999999999999999999")?.hasSuffix("value out of range)") == true)
    }
}
