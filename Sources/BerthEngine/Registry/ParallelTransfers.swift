import BerthOCI
import Glibc

/// Runs transfers (layer downloads or uploads) on up to `limit` threads of their own, in
/// order of index, as dockerd's transfer manager runs so many at once. The first failure
/// stops new ones from starting and is thrown once the running ones end.
enum ParallelTransfers {
    static func run(_ count: Int, limit: Int, _ work: @escaping (Int) throws -> Void) throws {
        guard count > 0 else { return }
        let workers = max(1, min(limit, count))
        if workers == 1 {
            for index in 0..<count { try work(index) }
            return
        }
        let state = State(count: count, work: work)
        var threads: [pthread_t] = []
        for _ in 0..<workers {
            var thread = pthread_t()
            let box = Unmanaged.passRetained(state).toOpaque()
            guard pthread_create(&thread, nil, { pointer in
                let state = Unmanaged<State>.fromOpaque(pointer!).takeRetainedValue()
                state.drain()
                return nil
            }, box) == 0 else {
                Unmanaged<State>.fromOpaque(box).release()
                // No thread to spare: this one works too.
                state.drain()
                continue
            }
            threads.append(thread)
        }
        for thread in threads { pthread_join(thread, nil) }
        if let failure = state.failure { throw failure }
    }

    private final class State: @unchecked Sendable {
        let count: Int
        let work: (Int) throws -> Void
        private let lock = Lock()
        private var next = 0
        private(set) var failure: Error?

        init(count: Int, work: @escaping (Int) throws -> Void) {
            self.count = count
            self.work = work
        }

        func drain() {
            while true {
                let index: Int? = lock.withLock {
                    guard failure == nil, next < count else { return nil }
                    next += 1
                    return next - 1
                }
                guard let index else { return }
                do { try work(index) } catch {
                    lock.withLock { if failure == nil { failure = error } }
                }
            }
        }
    }
}
