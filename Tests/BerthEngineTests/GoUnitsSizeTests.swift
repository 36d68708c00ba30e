import BerthOCI
import Testing
@testable import BerthEngine

/// Sizes in log options, read as Docker's go-units reads them, with its error texts.
struct GoUnitsSizeTests {
    @Test func decimalAndBinaryMultiples() throws {
        #expect(try GoUnitsSize.decimal("512") == 512)
        #expect(try GoUnitsSize.decimal("1k") == 1000)
        #expect(try GoUnitsSize.decimal("1KB") == 1000)
        #expect(try GoUnitsSize.decimal("1KiB") == 1000)
        #expect(try GoUnitsSize.decimal("1.5m") == 1_500_000)
        #expect(try GoUnitsSize.decimal("2 g") == 2_000_000_000)
        #expect(try GoUnitsSize.decimal("7b") == 7)
        #expect(try GoUnitsSize.binary("1k") == 1024)
        #expect(try GoUnitsSize.binary("1MiB") == 1 << 20)
        #expect(try GoUnitsSize.binary("0") == 0)
    }

    @Test func refusalsSayWhatGoUnitsSays() {
        func message(_ text: String) -> String? {
            do { _ = try GoUnitsSize.decimal(text); return nil } catch { return error.message }
        }
        #expect(message("-1") == "invalid size: '-1'")
        #expect(message("ten") == "invalid size: 'ten'")
        #expect(message("") == "invalid size: ''")
        #expect(message("1.2.3") == "strconv.ParseFloat: parsing \"1.2.3\": invalid syntax")
        #expect(message("10x") == "invalid suffix: 'x'")
        #expect(message("1kk") == "invalid suffix: 'kk'")
        #expect(message("1bb") == "invalid suffix: 'bb'")
        #expect(message("1kibb") == "invalid suffix: 'kibb'")
    }

    @Test func logOptionsDockerdChecksForEveryDriver() throws {
        let defaults = ContainerDefaults(host: HostFacts(cpuCount: 2, onlineCPUs: "0-1", onlineMems: "0", totalMemory: 1 << 30, cgroupV2: true),
                                         logDriver: "json-file", logOptions: [:],
                                         initPath: "/x", cgroupParent: "/berth", specDefaults: DaemonSpecDefaults())
        func settings(_ driver: String, _ options: [String: String]) throws -> LogSettings {
            try LogSettings(LogConfig(Type: driver, Config: options), defaults: defaults)
        }
        for driver in ["json-file", "journald"] {
            _ = try settings(driver, ["mode": "non-blocking", "max-buffer-size": "4m"])
            _ = try settings(driver, ["mode": "blocking"])
            #expect(throws: BerthError.invalidArgument("logger: logging mode not supported: fast")) { try settings(driver, ["mode": "fast"]) }
            #expect(throws: BerthError.invalidArgument("logger: max-buffer-size option is only supported with 'mode=non-blocking'")) {
                try settings(driver, ["max-buffer-size": "1m"])
            }
            #expect(throws: BerthError.invalidArgument("error parsing option max-buffer-size: invalid size: '-1'")) {
                try settings(driver, ["mode": "non-blocking", "max-buffer-size": "-1"])
            }
        }
        #expect(throws: BerthError.invalidArgument("failed to initialize logging driver: max-size must be a positive number")) {
            try settings("json-file", ["max-size": "0"])
        }
        #expect(throws: BerthError.invalidArgument("failed to initialize logging driver: invalid size: '-1'")) {
            try settings("json-file", ["max-size": "-1"])
        }
        #expect(try settings("json-file", ["max-size": "1k"]).maxSize == 1000)
    }
}
