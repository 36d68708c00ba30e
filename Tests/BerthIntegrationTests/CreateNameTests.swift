import Foundation
import Synchronization
import Testing

/// A create holds its name from the check to the container's registration (it suspends in
/// between while its files are written): concurrent creates of one name give one container.
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct CreateNameTests {
    @Test func concurrentCreatesOfOneNameMakeOneContainer() throws {
        let daemon = try ContainersTests.daemonWithImage()
        let count = 6
        let results = Mutex<[(status: Int32, stderr: String)]>([])
        let address = daemon.host
        DispatchQueue.concurrentPerform(iterations: count) { _ in
            let result = Harness.run(Harness.dockerCLI, ["-H", address, "create", "--name", "same", "busybox", "true"])
            results.withLock { $0.append((result.status, result.stderr)) }
        }
        let all = results.withLock { $0 }
        #expect(all.filter { $0.status == 0 }.count == 1, "\(all.map(\.stderr))")
        for failed in all where failed.status != 0 {
            #expect(failed.stderr.contains("Conflict. The container name \"/same\" is already in use by container \""), "\(failed.stderr)")
        }
        let listed = daemon.docker(["ps", "-a", "--format", "{{.Names}}"])
        #expect(listed.stdout == "same\n", "\(listed.stdout)")
        // The one that was made is whole: it starts, and a rename to its name is refused.
        #expect(daemon.docker(["start", "-a", "same"]).status == 0)
        #expect(daemon.docker(["create", "--name", "other", "busybox", "true"]).status == 0)
        let rename = daemon.docker(["rename", "other", "same"])
        #expect(rename.status == 1 && rename.stderr.contains("is already in use"), "\(rename.stderr)")
    }
}
