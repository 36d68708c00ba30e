import BerthStore

extension Engine {
    /// A pull run off the cooperative pool: its messages as they come, then its failure if it
    /// failed; `finished` ends when the pull has stopped (after a cancel, too).
    public func pullMessages(_ reference: ImageReference, platform: String?, registryAuth: String?,
                             cancellation: TransferCancellation)
        -> (messages: AsyncStream<Result<PullMessage, Error>>, finished: Task<Void, Never>) {
        let (messages, continuation) = AsyncStream<Result<PullMessage, Error>>.makeStream()
        let finished = Task {
            do {
                try await blocking {
                    try self.pullImage(reference, platform: platform, registryAuth: registryAuth, cancellation: cancellation) {
                        continuation.yield(.success($0))
                    }
                }
            } catch {
                continuation.yield(.failure(error))
            }
            continuation.finish()
        }
        return (messages, finished)
    }
}
