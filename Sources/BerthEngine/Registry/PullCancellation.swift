import BerthOCI

/// Set when the client of a pull goes away: the transfer in progress stops at its next chunk,
/// as dockerd cancels a pull whose request context ends, and what it wrote is removed.
public final class PullCancellation: @unchecked Sendable {
    private let lock = Lock()
    private var cancelled = false

    public init() {}

    public func cancel() { lock.withLock { cancelled = true } }

    public var isCancelled: Bool { lock.withLock { cancelled } }

    func check() throws {
        if isCancelled { throw BerthError.internalError("context canceled") }
    }
}
