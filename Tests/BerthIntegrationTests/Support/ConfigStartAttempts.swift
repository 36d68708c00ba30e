import Foundation

/// berthd started with a daemon.json (and flags) of a test's, in a directory of its own, and
/// run to its end: for the values dockerd refuses at start, where berthd must exit at once.
final class ConfigStartAttempts {
    let directory: String
    var config: String { directory + "/daemon.json" }

    init(_ name: String) throws {
        directory = NSTemporaryDirectory() + Harness.uniqueID(name)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func start(_ json: String, _ flags: [String] = [], timeout: TimeInterval = 60) throws -> Harness.Result {
        try json.write(toFile: config, atomically: true, encoding: .utf8)
        // Its own roots, unless the test gives a root flag itself (a flag given twice is not the point).
        let roots = flags.contains("--data-root") ? [] : ["--data-root", directory + "/data", "--exec-root", directory + "/exec"]
        return Harness.run(Harness.binary("berthd"), ["--config-file", config, "-H", "unix://\(directory)/s.sock",
                                                      "--pidfile", directory + "/p.pid"] + roots + flags, timeout: timeout)
    }
}
