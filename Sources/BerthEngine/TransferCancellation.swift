import BerthOCI

/// Stops a pull, a push, a build's download or git clone when its client goes away, as dockerd
/// cancels work whose request context ends: the blocking work polls `isCancelled` (or
/// `check()`) between chunks; handlers run once, on the first `cancel()` (or at once when
/// added late).
public final class TransferCancellation: @unchecked Sendable {
    private let lock = Lock()
    private var cancelled = false
    private var handlers: [@Sendable () -> Void] = []

    public init() {}

    public func cancel() {
        let pending: [@Sendable () -> Void] = lock.withLock {
            guard !cancelled else { return [] }
            cancelled = true
            defer { handlers = [] }
            return handlers
        }
        for handler in pending { handler() }
    }

    public var isCancelled: Bool { lock.withLock { cancelled } }

    /// Throws dockerd's "context canceled" once cancelled.
    func check() throws {
        if isCancelled { throw BerthError.internalError("context canceled") }
    }

    func onCancel(_ handler: @escaping @Sendable () -> Void) {
        let runNow = lock.withLock {
            if cancelled { return true }
            handlers.append(handler)
            return false
        }
        if runNow { handler() }
    }

    /// Runs `work` with this cancelled when the calling task is.
    func bound<T>(_ work: () async throws -> T) async rethrows -> T {
        try await withTaskCancellationHandler(operation: work, onCancel: { self.cancel() })
    }
}
