@testable import BerthEngine
import BerthOCI
import Testing

struct DaemonRootBindsTests {
    @Test func bindsOfTheRootOrWhatHoldsItFollowTheHost() throws {
        let root = "/var/lib/berth"
        // Inside the root, or holding it: rslave unless rshared or rslave is asked for.
        for source in ["/", "/var", "/var/lib/berth", "/var/lib/berth/volumes/x"] {
            #expect(try DaemonRootBinds.propagation(source: source, given: nil, daemonRoot: root) == "rslave", "\(source)")
            #expect(try DaemonRootBinds.propagation(source: source, given: "", daemonRoot: root) == "rslave", "\(source)")
            #expect(try DaemonRootBinds.propagation(source: source, given: "rshared", daemonRoot: root) == "rshared", "\(source)")
            for mode in ["private", "rprivate", "slave", "shared"] {
                #expect(throws: BerthError.self, "\(source) \(mode)") {
                    try DaemonRootBinds.propagation(source: source, given: mode, daemonRoot: root)
                }
            }
        }
        // Elsewhere: what was asked, rprivate by default; no root, no rule.
        #expect(try DaemonRootBinds.propagation(source: "/etc", given: nil, daemonRoot: root) == "rprivate")
        #expect(try DaemonRootBinds.propagation(source: "/etc", given: "private", daemonRoot: root) == "private")
        #expect(try DaemonRootBinds.propagation(source: "/", given: "private", daemonRoot: nil) == "private")
        let bind = try BindSpec.parse("/:/host")
        #expect(bind.givenPropagation == nil && bind.propagation == "rprivate")
        #expect(try BindSpec.parse("/:/host:ro,rslave").givenPropagation == "rslave")
    }
}
