import NIOCore

/// Ends a stream's work when its client goes away. A client that leaves without a word (its
/// process killed) closes its connection, but a stream that neither reads nor writes it does
/// not notice: an attachment to a container that prints nothing would keep its shim
/// connection, on both sides, for as long as the container runs.
enum ClientDeparture {
    /// Runs `work`, cancelled once the client's connection is closed (a half-close, stdin at
    /// its end, is not a departure). Without a close signal, just runs it.
    static func ends(_ client: StreamClient, _ work: @escaping @Sendable () async throws -> Void) async throws {
        guard let closed = client.closed else { return try await work() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await work() }
            group.addTask { await waitUntilClosed(closed) }
            // Whichever ends first ends the other: the work its stream, the close the work.
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Returns at the close, or when the waiting task is cancelled.
    private static func waitUntilClosed(_ closed: EventLoopFuture<Void>) async {
        let (signal, continuation) = AsyncStream<Void>.makeStream()
        closed.whenComplete { _ in continuation.finish() }
        for await _ in signal {}
    }
}
