import Synchronization

/// Wakes one waiting task: a log follower that has caught up with the file sleeps on it until
/// the file changes, the container stops, its client leaves, or the time limit passes. A ring
/// while nobody waits is kept for the next wait, so a change between "read to the end" and
/// "wait" is never missed.
final class WakeBell: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
        /// The wait going on, numbered, so that the timer of a wait that ended rings no later one.
        var current: UInt64?
        var waits: UInt64 = 0
    }

    private let state = Mutex(State())

    func ring() {
        ring(during: nil)
    }

    /// Returns at the next ring (or at once after one since the last wait), after `limit`, or
    /// when the task is cancelled.
    func wait(upTo limit: Duration) async {
        let wait = state.withLock { state -> UInt64? in
            if state.rung {
                state.rung = false
                return nil
            }
            state.waits &+= 1
            state.current = state.waits
            return state.waits
        }
        guard let wait else { return }
        let timer = Task { [self] in
            guard (try? await Task.sleep(for: limit)) != nil else { return }
            ring(during: wait)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                let rungMeanwhile = state.withLock { state -> Bool in
                    if state.rung {
                        state.rung = false
                        return true
                    }
                    state.waiter = waiter
                    return false
                }
                if rungMeanwhile { waiter.resume() }
            }
        } onCancel: {
            ring()
        }
        state.withLock { $0.current = nil }
        timer.cancel()
    }

    /// Wakes the waiter, or keeps the ring for the next wait; with `wait`, only while wait
    /// number `wait` is the one going on (its time limit).
    private func ring(during wait: UInt64?) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let wait, state.current != wait { return nil }
            guard let waiter = state.waiter else {
                state.rung = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }
}
