import BerthOCI
import Testing
@testable import BerthStore

/// `--change 'HEALTHCHECK …'` as dockerd 20.10 reads it (its answers measured on Debian's dockerd).
struct HealthcheckInstructionTests {
    @Test func formsAndFlags() throws {
        #expect(try HealthcheckInstruction.parse("NONE") == HealthConfig(Test: ["NONE"]))
        #expect(try HealthcheckInstruction.parse(#"CMD ["cat","/x"]"#) == HealthConfig(Test: ["CMD", "cat", "/x"]))
        #expect(try HealthcheckInstruction.parse("CMD [bad") == HealthConfig(Test: ["CMD-SHELL", "[bad"]))
        #expect(try HealthcheckInstruction.parse("--retries=2 --start-period=2s --timeout=3s --interval=1m30s cmd exit 1")
                == HealthConfig(Test: ["CMD-SHELL", "exit 1"], Interval: 90_000_000_000, Timeout: 3_000_000_000,
                                    StartPeriod: 2_000_000_000, Retries: 2))
        #expect(try HealthcheckInstruction.parse("--interval=1.5s CMD true").Interval == 1_500_000_000)
    }

    @Test func dockerdsErrors() {
        let cases: [(String, String)] = [
            ("", "HEALTHCHECK requires at least one argument"),
            ("NONE x", "HEALTHCHECK NONE takes no arguments"),
            ("CMD", "Missing command after HEALTHCHECK CMD"),
            ("true", #"Unknown type "TRUE" in HEALTHCHECK (try CMD)"#),
            ("--bogus=1 CMD true", "Unknown flag: bogus"),
            ("--interval 5s CMD true", "Missing a value on flag: interval"),
            ("--interval=abc CMD true", #"time: invalid duration "abc""#),
            ("--interval=0 CMD true", #"Interval "interval" cannot be less than 1ms"#),
            ("--timeout=-1s CMD true", #"Interval "timeout" cannot be less than 1ms"#),
            ("--start-period=500us CMD true", #"Interval "start-period" cannot be less than 1ms"#),
            ("--retries=0 CMD true", "--retries must be at least 1 (not 0)"),
            ("--retries=x CMD true", #"strconv.ParseInt: parsing "x": invalid syntax"#),
        ]
        for (argument, message) in cases {
            #expect(throws: BerthError.invalidArgument(message), "\(argument)") { try HealthcheckInstruction.parse(argument) }
        }
    }

    @Test func goDurations() {
        #expect(GoDuration.nanoseconds("0") == 0)
        #expect(GoDuration.nanoseconds("1h2m3s") == 3_723_000_000_000)
        #expect(GoDuration.nanoseconds("250ms") == 250_000_000)
        #expect(GoDuration.nanoseconds("10us") == 10_000)
        #expect(GoDuration.nanoseconds("-1s") == -1_000_000_000)
        #expect(GoDuration.nanoseconds("5") == nil)
        #expect(GoDuration.nanoseconds("s") == nil)
        #expect(GoDuration.nanoseconds("1x") == nil)
    }
}
