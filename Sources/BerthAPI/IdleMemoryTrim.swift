import CSystemShims

/// Gives back to the system what a busy spell freed. glibc keeps freed memory in its arenas
/// (one per thread that allocated, up to eight per core): after a few hundred `docker run`s
/// that was 18 of berthd's 40 MiB RSS, and trimming took it to 7. It runs once the API
/// has had requests and then none for a whole period, so a busy daemon never pays for it.
final class IdleMemoryTrim: @unchecked Sendable {
    static let period = 3  // seconds: the trim comes 3 to 6 s after the last request

    private let requests: InFlightRequests
    private let trim: () -> Void
    // Only `tick` reads and writes these, from one event loop's repeated task.
    private var startedAtLastTick = 0
    private var startedAtLastTrim = 0

    init(requests: InFlightRequests, trim: @escaping () -> Void = { _ = berth_malloc_trim() }) {
        self.requests = requests
        self.trim = trim
    }

    /// Called every `period`: trims when requests came before the last tick and none since.
    func tick() {
        let started = requests.started
        defer { startedAtLastTick = started }
        guard started == startedAtLastTick, started != startedAtLastTrim else { return }
        trim()
        startedAtLastTrim = started
    }
}
