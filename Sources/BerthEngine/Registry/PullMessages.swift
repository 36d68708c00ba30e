import BerthStore

extension Engine {
    /// A pull run off the cooperative pool: its messages as they come, then its failure if it
    /// failed; `finished` ends when the pull has stopped (after a cancel, too).
    public func pullMessages(_ reference: ImageReference, platform: String?, registryAuth: String?,
                             cancellation: TransferCancellation)
        -> (messages: AsyncStream<Result<PullMessage, Error>>, finished: Task<Void, Never>) {
        transferMessages { emit in
            try self.pullImage(reference, platform: platform, registryAuth: registryAuth, cancellation: cancellation, emit: emit)
        }
    }

    /// A push's messages as they come, as `pullMessages` gives a pull's.
    public func pushMessages(_ name: String, tag: String?, registryAuth: String?, cancellation: TransferCancellation)
        -> (messages: AsyncStream<Result<PullMessage, Error>>, finished: Task<Void, Never>) {
        transferMessages { emit in
            try self.pushImage(name, tag: tag, registryAuth: registryAuth, cancellation: cancellation, emit: emit)
        }
    }

    /// Runs a blocking transfer that reports through `emit` and streams what it reports.
    private func transferMessages(_ transfer: @escaping @Sendable (@escaping @Sendable (PullMessage) -> Void) throws -> Void)
        -> (messages: AsyncStream<Result<PullMessage, Error>>, finished: Task<Void, Never>) {
        let (messages, continuation) = AsyncStream<Result<PullMessage, Error>>.makeStream()
        let finished = Task {
            do {
                try await blocking { try transfer { continuation.yield(.success($0)) } }
            } catch {
                continuation.yield(.failure(error))
            }
            continuation.finish()
        }
        return (messages, finished)
    }
}
