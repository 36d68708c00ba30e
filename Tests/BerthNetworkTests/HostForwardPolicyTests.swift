import Foundation
import Testing
@testable import BerthNetwork

struct HostForwardPolicyTests {
    /// The forward hook's policy, as `nft list chain ip filter FORWARD` prints it.
    @Test func policyDropIsFound() {
        let dropping = """
            table ip filter {
            \tchain FORWARD {
            \t\ttype filter hook forward priority filter; policy drop;
            \t\tcounter packets 10 bytes 600 jump DOCKER-USER
            \t}
            }
            """
        #expect(HostForwardPolicy.dropsByDefault(dropping))
        #expect(!HostForwardPolicy.dropsByDefault(dropping.replacingOccurrences(of: "policy drop;", with: "policy accept;")))
        #expect(!HostForwardPolicy.dropsByDefault(""))
    }
}
