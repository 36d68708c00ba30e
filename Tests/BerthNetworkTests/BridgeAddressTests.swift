import Testing
@testable import BerthNetwork

struct BridgeAddressTests {
    func subnet(_ text: String) -> IPv4Subnet { IPv4Subnet(text)! }

    @Test func aBridgeWithoutAddressGetsTheWantedOne() {
        let change = BridgeAddressChange(current: [], wanted: subnet("10.1.0.1/24"))
        #expect(change == BridgeAddressChange(remove: nil, add: subnet("10.1.0.1/24")))
    }

    @Test func theWantedAddressAlreadyThereChangesNothing() {
        let change = BridgeAddressChange(current: [subnet("192.168.9.1/24"), subnet("10.1.0.1/24")], wanted: subnet("10.1.0.1/24"))
        #expect(change.isNone)
    }

    @Test func anotherAddressIsReplacedAsDockerdReplacesIt() {
        // None inside the wanted subnet: the first one goes, the others stay.
        let first = BridgeAddressChange(current: [subnet("10.2.0.1/24"), subnet("10.3.0.1/24")], wanted: subnet("10.1.0.1/24"))
        #expect(first == BridgeAddressChange(remove: subnet("10.2.0.1/24"), add: subnet("10.1.0.1/24")))
        // One inside it (another host address or prefix): that one goes.
        let inside = BridgeAddressChange(current: [subnet("10.2.0.1/24"), subnet("10.1.0.9/16")], wanted: subnet("10.1.0.1/24"))
        #expect(inside == BridgeAddressChange(remove: subnet("10.1.0.9/16"), add: subnet("10.1.0.1/24")))
        let prefix = BridgeAddressChange(current: [subnet("10.1.0.1/16")], wanted: subnet("10.1.0.1/24"))
        #expect(prefix == BridgeAddressChange(remove: subnet("10.1.0.1/16"), add: subnet("10.1.0.1/24")))
    }
}
