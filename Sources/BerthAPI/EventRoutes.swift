import BerthEngine
import BerthOCI

/// `GET /events`: the engine's events as a JSON stream, one object per line. With `since`
/// or `until`, the kept events in that window first; with an `until` in the past, only
/// those; otherwise live events until `until` or until the client leaves.
enum EventRoutes {
    static func register(_ router: inout Router, engine: Engine) {
        router.add(.GET, "/events") { request, _ in
            let sinceText = request.queryValue("since")
            let untilText = request.queryValue("until")
            let since = try GoStrconv.passedOn { try EventTime.parse(sinceText) }
            let until = try GoStrconv.passedOn { try EventTime.parse(untilText) }
            if let since, let until, until < since {
                throw BerthError.invalidArgument("`since` time (\(sinceText ?? "")) cannot be after `until` time (\(untilText ?? ""))")
            }
            let filter = try EventFilter(ImageRoutes.parseFilters(request.queryValue("filters")))
            let onlyPast = until.map { $0 < EventTime.now() } ?? false
            let bus = engine.events
            // Image `create` (a commit or build step) came in API 1.46; older clients do not get it.
            let olderThan146 = request.speaksBefore(1, 46)
            let skips: @Sendable (EventMessage) -> Bool = { olderThan146 && $0.type == .image && $0.action == "create" }
            let stream = ResponseStream { writer in
                let subscription = bus.subscribe(since: since, until: until, filter: filter, live: !onlyPast)
                defer { subscription.end() }
                for event in subscription.replay where !skips(event) { try await writer.write(event.jsonLine) }
                guard !onlyPast else { return }
                let deadline = until.map { until in
                    Task {
                        try await Task.sleep(for: .nanoseconds(max(0, until - EventTime.now())))
                        subscription.end()
                    }
                }
                defer { deadline?.cancel() }
                // Ends when `until` comes, or when the connection's task is cancelled
                // because the client left.
                for await event in subscription.live where !skips(event) { try await writer.write(event.jsonLine) }
            }
            return APIResponse(headers: ["Content-Type": "application/json"], stream: stream)
        }
    }

}
