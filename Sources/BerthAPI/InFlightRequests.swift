import BerthOCI
import FoundationEssentials
import Glibc

/// Requests received and not yet answered in full, so that a shutdown can let them finish
/// after the listeners are closed; and how many came, so that idleness can be told.
final class InFlightRequests: @unchecked Sendable {
    private let lock = Lock()
    private var count = 0
    private var begun = 0

    func begin() {
        lock.withLock {
            count += 1
            begun += 1
        }
    }
    func end() { lock.withLock { count -= 1 } }
    var current: Int { lock.withLock { count } }
    /// How many have begun since the daemon started.
    var started: Int { lock.withLock { begun } }

    /// Waits until none are left, or the deadline passes; returns how many were left.
    func drain(timeout: Duration) async -> Int {
        let deadline = ContinuousClock.now + timeout
        while current > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return current
    }
}
