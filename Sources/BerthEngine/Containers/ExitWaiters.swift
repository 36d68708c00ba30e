/// Requests waiting for a container's exit or removal (`docker wait`, and the wait that
/// `docker run -d` and `docker attach` register and then often hang up on). Each waits under a
/// token, so that the wait of a client that left is dropped at once: otherwise it would hold
/// its request, and a daemon shutdown, until the container ends, however long it runs.
struct ExitWaiters {
    typealias Waiter = CheckedContinuation<ContainerService.ExitResult?, Never>
    private var waiting: [(token: UInt64, waiter: Waiter)] = []

    var isEmpty: Bool { waiting.isEmpty }

    mutating func add(_ token: UInt64, _ waiter: Waiter) {
        waiting.append((token, waiter))
    }

    /// The waiter under `token`, taken out, if it is still waiting here.
    mutating func take(_ token: UInt64) -> Waiter? {
        guard let index = waiting.firstIndex(where: { $0.token == token }) else { return nil }
        return waiting.remove(at: index).waiter
    }

    /// Answers every waiter, in the order they came.
    func resumeAll(returning result: ContainerService.ExitResult) {
        for entry in waiting { entry.waiter.resume(returning: result) }
    }
}

extension ContainerService {
    enum WaitEvent {
        case exit, removal
        /// The exit, as a log follower waits for it: told before the exit's events.
        case exitForLogs
    }

    /// Waits for the container's next exit or its removal; nil when the waiting task is
    /// cancelled first (its client left). A container gone already answers at once, as wait does.
    func awaitContainer(_ id: String, _ event: WaitEvent) async -> ExitResult? {
        let token = nextWaiterToken
        nextWaiterToken &+= 1
        return await withTaskCancellationHandler {
            await withCheckedContinuation { waiter in
                guard entries[id] != nil else { return waiter.resume(returning: ExitResult(statusCode: 0, error: nil)) }
                guard !Task.isCancelled else { return waiter.resume(returning: nil) }
                switch event {
                case .exit: entries[id]!.exitWaiters.add(token, waiter)
                case .removal: entries[id]!.removalWaiters.add(token, waiter)
                case .exitForLogs: entries[id]!.logFollowers.add(token, waiter)
                }
            }
        } onCancel: {
            // Runs on the actor after the waiter is added: until the continuation suspends
            // this task, the actor is busy with it.
            Task { await self.dropWaiter(id, token) }
        }
    }

    private func dropWaiter(_ id: String, _ token: UInt64) {
        let waiter = entries[id]?.exitWaiters.take(token) ?? entries[id]?.removalWaiters.take(token)
            ?? entries[id]?.logFollowers.take(token)
        waiter?.resume(returning: nil)
    }
}

extension ContainerService {
    /// Waits for the container's next start (an attachment made before it); nil when the
    /// container stops or goes first, or the waiting task is cancelled (its client left).
    func awaitStart(_ id: String) async -> PendingAttachGo? {
        let token = nextWaiterToken
        nextWaiterToken &+= 1
        return await withTaskCancellationHandler {
            await withCheckedContinuation { waiter in
                guard entries[id] != nil, !Task.isCancelled else { return waiter.resume(returning: nil) }
                entries[id]!.pendingAttaches[token] = waiter
            }
        } onCancel: {
            // As in awaitContainer: runs on the actor after the waiter is added.
            Task { await self.dropPendingAttach(id, token) }
        }
    }

    private func dropPendingAttach(_ id: String, _ token: UInt64) {
        entries[id]?.pendingAttaches.removeValue(forKey: token)?.resume(returning: nil)
    }
}
