import Testing
@testable import BerthAPI

/// berthd gives freed memory back only after requests came and then a whole period passed
/// without any: never while busy, and not again while nothing happened.
struct IdleMemoryTrimTests {
    final class Counter: @unchecked Sendable { var trims = 0 }

    @Test func trimsOnceAfterAQuietPeriodThatFollowsWork() {
        let requests = InFlightRequests()
        let counter = Counter()
        let trim = IdleMemoryTrim(requests: requests) { counter.trims += 1 }

        trim.tick()
        #expect(counter.trims == 0)  // a daemon that never had a request

        requests.begin()
        trim.tick()
        #expect(counter.trims == 0)  // busy during the period just ended
        requests.end()
        trim.tick()
        #expect(counter.trims == 1)  // a whole period without a new request
        trim.tick()
        trim.tick()
        #expect(counter.trims == 1)  // nothing new to give back

        for _ in 0..<3 { requests.begin(); requests.end() }
        trim.tick()
        #expect(counter.trims == 1)
        requests.begin()  // a long request (logs -f) still open counts as no new work
        trim.tick()
        #expect(counter.trims == 1)
        trim.tick()
        #expect(counter.trims == 2)
    }
}
