import BerthOCI

/// The daemon's events: the engine's services publish, `GET /events` subscribes. Keeps the
/// last 256 events (as dockerd does) so that `since` can replay them.
///
/// A lock rather than an actor: publishing is synchronous, so the container service (itself
/// an actor) emits without a suspension point in the middle of an operation, and events keep
/// the order in which they happened. Publishing never waits for a reader: each subscriber has
/// a bounded buffer, and a reader that falls behind by more than that misses events (lags).
public final class EventBus: @unchecked Sendable {
    public static let ringCapacity = 256
    public static let subscriberBuffer = 1024

    private struct Subscriber {
        let filter: EventFilter
        let continuation: AsyncStream<EventMessage>.Continuation
    }

    private let lock = Lock()
    /// Oldest first, at most `ringCapacity`.
    private var ring: [EventMessage] = []
    private var subscribers: [Int: Subscriber] = [:]
    private var nextSubscriber = 0
    private var lastTime: Int64 = 0
    /// Set at shutdown: streams end, so the server need not wait for them.
    private var closed = false

    public init() {}

    /// Records an event and hands it to every subscriber whose filter takes it.
    public func publish(_ type: EventMessage.Kind, _ action: String, actor: String, attributes: [String: String] = [:]) {
        lock.withLock {
            // Strictly increasing times keep the ring in order for `since`/`until`.
            let time = max(EventTime.now(), lastTime + 1)
            lastTime = time
            let event = EventMessage(type: type, action: action, actorID: actor, attributes: attributes, timeNano: time)
            ring.append(event)
            if ring.count > Self.ringCapacity { ring.removeFirst(ring.count - Self.ringCapacity) }
            for subscriber in subscribers.values where subscriber.filter.includes(event) {
                subscriber.continuation.yield(event)
            }
        }
    }

    /// What a reader of `GET /events` gets: the kept events that match (when `since` or
    /// `until` asks for them), then, if `live`, each new match as it happens.
    public struct Subscription: Sendable {
        public let replay: [EventMessage]
        public let live: AsyncStream<EventMessage>
        let continuation: AsyncStream<EventMessage>.Continuation

        /// Ends the live stream and frees the subscription.
        public func end() { continuation.finish() }
    }

    /// Replay and registration happen under one lock, so no event is lost or seen twice
    /// between them.
    public func subscribe(since: Int64?, until: Int64?, filter: EventFilter, live: Bool) -> Subscription {
        let (stream, continuation) = AsyncStream<EventMessage>.makeStream(bufferingPolicy: .bufferingOldest(Self.subscriberBuffer))
        let replay: [EventMessage] = lock.withLock {
            var replay: [EventMessage] = []
            if since != nil || until != nil {
                replay = ring.filter { event in
                    event.timeNano >= (since ?? Int64.min) && event.timeNano <= (until ?? Int64.max) && filter.includes(event)
                }
            }
            if live && !closed {
                let number = nextSubscriber
                nextSubscriber += 1
                subscribers[number] = Subscriber(filter: filter, continuation: continuation)
                continuation.onTermination = { [weak self] _ in self?.unsubscribe(number) }
            }
            return replay
        }
        if !live || lock.withLock({ closed }) { continuation.finish() }
        return Subscription(replay: replay, live: stream, continuation: continuation)
    }

    /// Ends every stream (the daemon is stopping); later subscriptions get only their replay.
    public func close() {
        let ending = lock.withLock {
            closed = true
            let continuations = subscribers.values.map(\.continuation)
            subscribers = [:]
            return continuations
        }
        // Outside the lock: finishing runs the termination handlers, which take it.
        for continuation in ending { continuation.finish() }
    }

    private func unsubscribe(_ number: Int) {
        lock.withLock { _ = subscribers.removeValue(forKey: number) }
    }

    /// How many readers are subscribed (for tests and the debug log).
    public var subscriberCount: Int { lock.withLock { subscribers.count } }

    /// The kept events, oldest first.
    public var recent: [EventMessage] { lock.withLock { ring } }
}

extension Engine {
    /// The daemon's one event bus (the container service holds it, the other services use it).
    public var events: EventBus { containers.events }
}
