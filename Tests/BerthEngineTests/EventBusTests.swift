import BerthOCI
import Testing
@testable import BerthEngine

/// dockerd's event filter rules, the kept ring and the subscriptions of the event bus, the
/// `since`/`until` times and the JSON of one message.
struct EventFilterTests {
    func container(_ action: String, id: String = "abc123def", name: String = "web", image: String = "busybox",
                   extra: [String: String] = [:]) -> EventMessage {
        EventMessage(type: .container, action: action, actorID: id,
                     attributes: ["name": name, "image": image].merging(extra) { _, new in new }, timeNano: 1)
    }

    @Test func anUnknownKeyIsIgnoredAsDockerdIgnoresIt() throws {
        // Current dockerd does not check the keys: an unknown one filters nothing out.
        #expect(try EventFilter(["foo": ["x"]]).includes(EventMessage(type: .network, action: "create", actorID: "n", attributes: [:], timeNano: 1)))
        #expect(throws: Never.self) { try EventFilter(["container": ["x"], "volume": ["v"], "daemon": ["d"]]) }
    }

    @Test func valuesOfOneKeyAreAlternativesAndKeysMustAllHold() throws {
        let filter = try EventFilter(["event": ["start", "die"], "type": ["container"]])
        #expect(filter.includes(container("start")))
        #expect(filter.includes(container("die")))
        #expect(!filter.includes(container("create")))
        let network = EventMessage(type: .network, action: "start", actorID: "n", attributes: ["name": "bridge"], timeNano: 1)
        #expect(!filter.includes(network))
        #expect(try EventFilter().includes(network))
    }

    @Test func containersMatchByIDOrNamePrefixAndExcludeOtherActors() throws {
        #expect(try EventFilter(["container": ["web"]]).includes(container("start")))
        #expect(try EventFilter(["container": ["we"]]).includes(container("start")))
        #expect(try EventFilter(["container": ["abc1"]]).includes(container("start")))
        #expect(try !EventFilter(["container": ["db"]]).includes(container("start")))
        // dockerd applies the container filter to every event: a network's actor is no container.
        let connect = EventMessage(type: .network, action: "connect", actorID: "f00", attributes: ["name": "bridge", "container": "abc123def"], timeNano: 1)
        #expect(try !EventFilter(["container": ["web"]]).includes(connect))
        #expect(try EventFilter(["network": ["bridge"]]).includes(connect))
        #expect(try !EventFilter(["network": ["bridge"]]).includes(container("start")))
    }

    @Test func imagesMatchContainersByTheirImageAndImagesByNameOrID() throws {
        let tagged = EventMessage(type: .image, action: "tag", actorID: "sha256:9d37", attributes: ["name": "app:1"], timeNano: 1)
        #expect(try EventFilter(["image": ["busybox"]]).includes(container("start", image: "busybox:latest")))
        #expect(try EventFilter(["image": ["busybox:latest"]]).includes(container("start", image: "busybox:latest")))
        #expect(try !EventFilter(["image": ["alpine"]]).includes(container("start")))
        #expect(try EventFilter(["image": ["app"]]).includes(tagged))
        #expect(try EventFilter(["image": ["sha256:9d37"]]).includes(tagged))
        #expect(try !EventFilter(["image": ["busybox"]]).includes(tagged))
        #expect(EventFilter.withoutTag("docker.io/library/busybox:1.36") == "busybox")
        #expect(EventFilter.withoutTag("localhost:5000/app") == "localhost:5000/app")
    }

    @Test func labelsMustAllMatchByKeyOrKeyAndValue() throws {
        let event = container("start", extra: ["tier": "front", "team": "a"])
        #expect(try EventFilter(["label": ["tier"]]).includes(event))
        #expect(try EventFilter(["label": ["tier=front", "team=a"]]).includes(event))
        #expect(try !EventFilter(["label": ["tier=front", "team=b"]]).includes(event))
        #expect(try !EventFilter(["label": ["missing"]]).includes(event))
    }

    @Test func execActionsMatchTheirNameBeforeTheColon() throws {
        let exec = container("exec_start: sh -c date")
        #expect(try EventFilter(["event": ["exec_start"]]).includes(exec))
        #expect(try !EventFilter(["event": ["exec_create"]]).includes(exec))
        #expect(try !EventFilter(["event": ["exec"]]).includes(exec))
        #expect(try EventFilter(["scope": ["local"]]).includes(exec))
        #expect(try !EventFilter(["scope": ["swarm"]]).includes(exec))
    }
}

struct EventBusTests {
    @Test func theRingKeepsTheLast256InOrderWithIncreasingTimes() {
        let bus = EventBus()
        for number in 0..<300 { bus.publish(.container, "start", actor: "c\(number)") }
        let kept = bus.recent
        #expect(kept.count == EventBus.ringCapacity)
        #expect(kept.first?.actorID == "c44")
        #expect(kept.last?.actorID == "c299")
        #expect(zip(kept, kept.dropFirst()).allSatisfy { $0.timeNano < $1.timeNano })
    }

    @Test func sinceAndUntilReplayOnlyTheirWindowAndNothingWithoutThem() throws {
        let bus = EventBus()
        for number in 0..<10 { bus.publish(.container, number % 2 == 0 ? "start" : "die", actor: "c\(number)") }
        let times = bus.recent.map(\.timeNano)
        let all = try EventFilter()
        #expect(bus.subscribe(since: nil, until: nil, filter: all, live: false).replay.isEmpty)
        #expect(bus.subscribe(since: times[3], until: nil, filter: all, live: false).replay.map(\.actorID) == (3..<10).map { "c\($0)" })
        #expect(bus.subscribe(since: times[3], until: times[5], filter: all, live: false).replay.map(\.actorID) == ["c3", "c4", "c5"])
        #expect(bus.subscribe(since: nil, until: times[1], filter: all, live: false).replay.map(\.actorID) == ["c0", "c1"])
        let dies = try EventFilter(["event": ["die"]])
        #expect(bus.subscribe(since: 0, until: nil, filter: dies, live: false).replay.map(\.actorID) == ["c1", "c3", "c5", "c7", "c9"])
        #expect(bus.subscriberCount == 0)
    }

    @Test func aSubscriberGetsLiveMatchesAndEndingItFreesIt() async throws {
        let bus = EventBus()
        bus.publish(.container, "create", actor: "old")
        let subscription = bus.subscribe(since: nil, until: nil, filter: try EventFilter(["type": ["container"]]), live: true)
        #expect(subscription.replay.isEmpty)
        #expect(bus.subscriberCount == 1)
        bus.publish(.network, "create", actor: "n1", attributes: ["name": "net"])
        bus.publish(.container, "start", actor: "c1")
        var iterator = subscription.live.makeAsyncIterator()
        #expect(await iterator.next()?.actorID == "c1")
        subscription.end()
        #expect(bus.subscriberCount == 0)
        #expect(await iterator.next() == nil)
    }

    @Test func aCancelledReaderIsUnsubscribed() async throws {
        let bus = EventBus()
        let subscription = bus.subscribe(since: nil, until: nil, filter: try EventFilter(), live: true)
        let reader = Task { for await _ in subscription.live {} }
        #expect(bus.subscriberCount == 1)
        reader.cancel()
        await reader.value
        #expect(bus.subscriberCount == 0)
    }

    @Test func aSlowReaderLagsAndNeverBlocksThePublisher() async throws {
        let bus = EventBus()
        let subscription = bus.subscribe(since: nil, until: nil, filter: try EventFilter(), live: true)
        let total = EventBus.subscriberBuffer + 500
        for number in 0..<total { bus.publish(.container, "start", actor: "c\(number)") }
        subscription.end()
        var received: [String] = []
        for await event in subscription.live { received.append(event.actorID) }
        // The first buffer's worth arrived; the rest was dropped for this reader only.
        #expect(received.count == EventBus.subscriberBuffer)
        #expect(received.first == "c0")
        #expect(bus.recent.last?.actorID == "c\(total - 1)")
    }
}

struct EventTimeTests {
    @Test func unixSecondsWithAFractionAsDockerdParsesThem() throws {
        #expect(try EventTime.parse(nil) == nil)
        #expect(try EventTime.parse("") == nil)
        #expect(try EventTime.parse("0") == 0)
        #expect(try EventTime.parse("1700000000") == 1_700_000_000_000_000_000)
        #expect(try EventTime.parse("1700000000.5") == 1_700_000_000_500_000_000)
        #expect(try EventTime.parse("1700000000.000000001") == 1_700_000_000_000_000_001)
        #expect(throws: BerthError.invalidArgument("strconv.ParseInt: parsing \"abc\": invalid syntax")) { try EventTime.parse("abc") }
        #expect(throws: BerthError.invalidArgument("strconv.ParseInt: parsing \"5x\": invalid syntax")) { try EventTime.parse("1.5x") }
        #expect(throws: BerthError.invalidArgument("strconv.ParseInt: parsing \"2026-01-01T00:00:00Z\": invalid syntax")) {
            try EventTime.parse("2026-01-01T00:00:00Z")
        }
        #expect(throws: BerthError.invalidArgument("strconv.ParseInt: parsing \"99999999999999999999\": value out of range")) {
            try EventTime.parse("99999999999999999999")
        }
    }
}

struct EventMessageTests {
    @Test func containerEventsCarryTheLegacyFieldsInDockerdsOrder() {
        let event = EventMessage(type: .container, action: "die", actorID: "abc",
                                 attributes: ["name": "web", "image": "busybox", "exitCode": "3"], timeNano: 1_700_000_000_123_456_789)
        #expect(String(decoding: event.jsonLine, as: UTF8.self) == #"{"status":"die","id":"abc","from":"busybox","Type":"container","Action":"die","Actor":{"ID":"abc","Attributes":{"exitCode":"3","image":"busybox","name":"web"}},"scope":"local","time":1700000000,"timeNano":1700000000123456789}"# + "\n")
    }

    @Test func networkAndPruneEventsLeaveOutWhatIsEmpty() {
        // Go's escapes: HTML characters as \u00XX, \b and \f by name (Go 1.22 and later), other controls as \u00XX.
        let connect = EventMessage(type: .network, action: "connect", actorID: "n1", attributes: ["name": "a<b>&\u{8}\u{C}\u{1}"], timeNano: 2_000_000_000)
        #expect(String(decoding: connect.jsonLine, as: UTF8.self) == #"{"Type":"network","Action":"connect","Actor":{"ID":"n1","Attributes":{"name":"a\u003cb\u003e\u0026\b\f\u0001"}},"scope":"local","time":2,"timeNano":2000000000}"# + "\n")
        let prune = EventMessage(type: .container, action: "prune", actorID: "", attributes: ["reclaimed": "0"], timeNano: 0)
        #expect(String(decoding: prune.jsonLine, as: UTF8.self).hasPrefix(#"{"status":"prune","Type":"container","Action":"prune","Actor":{"ID":"","#))
    }
}

extension EventBusTests {
    @Test func closingEndsEveryStreamAndLaterOnesAtOnce() async throws {
        let bus = EventBus()
        let first = bus.subscribe(since: nil, until: nil, filter: try EventFilter(), live: true)
        bus.close()
        #expect(bus.subscriberCount == 0)
        var iterator = first.live.makeAsyncIterator()
        #expect(await iterator.next() == nil)
        bus.publish(.container, "start", actor: "c1")
        let later = bus.subscribe(since: 0, until: nil, filter: try EventFilter(), live: true)
        #expect(later.replay.map(\.actorID) == ["c1"])
        #expect(bus.subscriberCount == 0)
        var laterIterator = later.live.makeAsyncIterator()
        #expect(await laterIterator.next() == nil)
    }
}
