import Testing
@testable import BerthNetwork

struct FilterPatternTests {
    /// `network ls --filter name=` and `id=` as dockerd matches them: the value itself, or a
    /// regular expression found anywhere in the field; an expression that does not compile
    /// matches only by equality.
    @Test func namesAndIDsMatchAsRegularExpressions() {
        #expect(FilterPattern.matches(["^x$"], "x"))
        #expect(!FilterPattern.matches(["^x$"], "xy"))
        #expect(FilterPattern.matches(["net"], "mynet2"))
        #expect(FilterPattern.matches(["^my.*2$"], "mynet2"))
        #expect(FilterPattern.matches(["nomatch", "^web"], "web1"))
        #expect(!FilterPattern.matches(["^web$", "db"], "web1"))
        #expect(FilterPattern.matches(["a[b"], "a[b"))
        #expect(!FilterPattern.matches(["a[b"], "xa[by"))
        #expect(FilterPattern.matches(["3f2a"], "003f2a1c"))
    }
}
