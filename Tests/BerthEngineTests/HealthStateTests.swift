import BerthOCI
import Foundation
import Testing
@testable import BerthEngine

/// dockerd's health rules: what a probe's result does to `State.Health`.
struct HealthStateTests {
    static func config(_ test: [String]?, interval: Int64? = nil, timeout: Int64? = nil, startPeriod: Int64? = nil,
                       retries: Int? = nil, shell: [String]? = nil) -> ContainerConfig {
        var config = ContainerConfig()
        config.Healthcheck = HealthConfig(Test: test, Interval: interval, Timeout: timeout, StartPeriod: startPeriod, Retries: retries)
        config.Shell = shell
        return config
    }

    static func result(_ code: Int, _ output: String = "") -> HealthProbeResult {
        HealthProbeResult(Start: "2026-01-01T00:00:00Z", End: "2026-01-01T00:00:01Z", ExitCode: code, Output: output)
    }

    @Test func rulesTakeTheFormsAndDockerdsDefaults() throws {
        #expect(HealthRules(ContainerConfig()) == nil)
        #expect(HealthRules(Self.config(["NONE"])) == nil)
        #expect(HealthRules(Self.config([])) == nil)
        #expect(HealthRules(Self.config(["BOGUS", "x"])) == nil)
        let shell = try #require(HealthRules(Self.config(["CMD-SHELL", "curl -f localhost || exit 1"])))
        #expect(shell.command == ["/bin/sh", "-c", "curl -f localhost || exit 1"])
        #expect(shell.interval == 30_000_000_000 && shell.timeout == 30_000_000_000 && shell.startPeriod == 0 && shell.retries == 3)
        let custom = try #require(HealthRules(Self.config(["CMD-SHELL", "true"], shell: ["/bin/bash", "-ec"])))
        #expect(custom.command == ["/bin/bash", "-ec", "true"])
        let exec = try #require(HealthRules(Self.config(["CMD", "cat", "/ready"], interval: 1_000_000_000, timeout: 2_000_000_000,
                                                        startPeriod: 5_000_000_000, retries: 7)))
        #expect(exec.command == ["cat", "/ready"])
        #expect(exec.interval == 1_000_000_000 && exec.timeout == 2_000_000_000 && exec.startPeriod == 5_000_000_000 && exec.retries == 7)
    }

    @Test func successHealsFailuresCountToRetries() throws {
        let rules = try #require(HealthRules(Self.config(["CMD", "x"], retries: 2)))
        var health = ContainerHealth()
        #expect(health.Status == "starting" && health.summary == "health: starting")
        #expect(health.record(Self.result(1), rules: rules, sinceStart: 10) == false)
        #expect(health.Status == "starting" && health.FailingStreak == 1)
        #expect(health.record(Self.result(1), rules: rules, sinceStart: 11) == true)
        #expect(health.Status == "unhealthy" && health.FailingStreak == 2 && health.summary == "unhealthy")
        // Any other code than 0 is a failure, the -1 of a timeout too.
        #expect(health.record(Self.result(-1), rules: rules, sinceStart: 12) == false)
        #expect(health.FailingStreak == 3)
        #expect(health.record(Self.result(0), rules: rules, sinceStart: 13) == true)
        #expect(health.Status == "healthy" && health.FailingStreak == 0)
        #expect(health.record(Self.result(2), rules: rules, sinceStart: 14) == false)
        #expect(health.Status == "healthy" && health.FailingStreak == 1)
    }

    @Test func failuresInTheStartPeriodDoNotCountWhileStarting() throws {
        let rules = try #require(HealthRules(Self.config(["CMD", "x"], startPeriod: 5_000_000_000, retries: 1)))
        var health = ContainerHealth()
        _ = health.record(Self.result(1), rules: rules, sinceStart: 4.9)
        #expect(health.Status == "starting" && health.FailingStreak == 0 && health.Log.count == 1)
        _ = health.record(Self.result(1), rules: rules, sinceStart: 5.1)
        #expect(health.Status == "unhealthy" && health.FailingStreak == 1)
        // Once it has been healthy, the start period no longer shields failures.
        var healed = ContainerHealth()
        _ = healed.record(Self.result(0), rules: rules, sinceStart: 1)
        _ = healed.record(Self.result(1), rules: rules, sinceStart: 2)
        #expect(healed.Status == "unhealthy" && healed.FailingStreak == 1)
    }

    @Test func theLogKeepsTheLastFive() throws {
        let rules = try #require(HealthRules(Self.config(["CMD", "x"])))
        var health = ContainerHealth()
        for index in 0..<7 { _ = health.record(Self.result(0, "\(index)"), rules: rules, sinceStart: 1) }
        #expect(health.Log.map(\.Output) == ["2", "3", "4", "5", "6"])
    }

    @Test func aNewRunStartsAgainAndKeepsTheLog() throws {
        let config = Self.config(["CMD-SHELL", "true"])
        let fresh = try #require(ContainerHealth.forNewRun(previous: nil, config: config))
        #expect(fresh.Status == "starting" && fresh.FailingStreak == 0 && fresh.Log.isEmpty)
        var old = ContainerHealth()
        old.Status = "unhealthy"
        old.FailingStreak = 4
        old.Log = [Self.result(1)]
        let again = try #require(ContainerHealth.forNewRun(previous: old, config: config))
        #expect(again.Status == "starting" && again.FailingStreak == 0 && again.Log == [Self.result(1)])
        #expect(ContainerHealth.forNewRun(previous: old, config: Self.config(["NONE"])) == nil)
    }

    @Test func stateJSONHasHealthOnlyWithAHealthcheck() throws {
        var state = ContainerStateRecord()
        let without = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
        #expect(!without.contains("Health"))
        state.Health = ContainerHealth()
        let with = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
        #expect(with.contains(#""Health":{"#) && with.contains(#""Log":[]"#) && with.contains(#""Status":"starting""#))
    }

    @Test func probeOutputKeeps4096BytesThenDots() {
        var output = ProbeOutput()
        output.append(Array(repeating: UInt8(ascii: "a"), count: 4000))
        output.append(Array(repeating: UInt8(ascii: "b"), count: 96))
        #expect(output.text.count == 4096 && !output.truncated)
        output.append([UInt8(ascii: "c")])
        #expect(output.text.count == 4099 && output.text.hasSuffix("b..."))
    }

    @Test func goDurationText() {
        #expect(GoDuration.describe(nanoseconds: 30_000_000_000) == "30s")
        #expect(GoDuration.describe(nanoseconds: 1_000_000_000) == "1s")
        #expect(GoDuration.describe(nanoseconds: 1_500_000_000) == "1.5s")
        #expect(GoDuration.describe(nanoseconds: 500_000_000) == "500ms")
        #expect(GoDuration.describe(nanoseconds: 1_500_000) == "1.5ms")
        #expect(GoDuration.describe(nanoseconds: 90_000_000_000) == "1m30s")
        #expect(GoDuration.describe(nanoseconds: 60_000_000_000) == "1m0s")
        #expect(GoDuration.describe(nanoseconds: 3_600_000_000_000) == "1h0m0s")
        #expect(GoDuration.describe(nanoseconds: 2_000) == "2µs")
    }

    @Test func theImagesHealthcheckFillsWhatTheRequestLeavesUnset() throws {
        var image = ImageConfig.Config()
        image.Cmd = ["sh"]
        image.Healthcheck = HealthConfig(Test: ["CMD-SHELL", "true"], Interval: 5_000_000_000, Timeout: 2_000_000_000, Retries: 4)
        let inherited = try ContainerConfig().merged(withImage: image)
        #expect(inherited.Healthcheck == HealthConfig(Test: ["CMD-SHELL", "true"], Interval: 5_000_000_000, Timeout: 2_000_000_000, Retries: 4))
        var request = ContainerConfig()
        request.Healthcheck = HealthConfig(Test: [], Interval: 1_000_000_000)
        let mixed = try request.merged(withImage: image)
        #expect(mixed.Healthcheck == HealthConfig(Test: ["CMD-SHELL", "true"], Interval: 1_000_000_000, Timeout: 2_000_000_000, Retries: 4))
        request.Healthcheck = HealthConfig(Test: ["NONE"])
        #expect(try request.merged(withImage: image).Healthcheck?.Test == ["NONE"])
    }

    @Test func psStatusShowsTheHealth() {
        var state = ContainerStateRecord()
        state.Running = true
        state.Status = "running"
        state.StartedAt = "2026-01-01T00:00:00Z"
        let now = unixSeconds(state.StartedAt)! + 5
        #expect(ContainerService.describe(state, now: now) == "Up 5 seconds")
        state.Health = ContainerHealth()
        #expect(ContainerService.describe(state, now: now) == "Up 5 seconds (health: starting)")
        state.Health!.Status = "healthy"
        #expect(ContainerService.describe(state, now: now) == "Up 5 seconds (healthy)")
        state.Paused = true
        #expect(ContainerService.describe(state, now: now) == "Up 5 seconds (Paused)")
    }
}
