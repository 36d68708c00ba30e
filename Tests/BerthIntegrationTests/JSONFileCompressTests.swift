import Foundation
import Testing

/// json-file `compress=true` through the stock CLI, against dockerd 20.10's behaviour: each
/// rotated file is gzipped (`<id>-json.log.1.gz` …, the live file stays plain), and `docker
/// logs` reads the compressed files with the plain ones, in order.
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct JSONFileCompressTests {
    static let compressOnly = "failed to initialize logging driver: compress cannot be true when max-file is less than 2 or max-size is not set"

    // dockerd 20.10 checks these when the container starts (`docker create` succeeds, `docker
    // start` fails); Berth checks them at create too, as it does every log option: `docker run`
    // prints the same error and exits 125 either way.
    @Test func compressIsValidatedWithDockerdsWords() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let cases: [([String], String)] = [
                (["--log-opt", "compress=true"], Self.compressOnly),
                (["--log-opt", "max-size=10k", "--log-opt", "compress=true"], Self.compressOnly),
                (["--log-opt", "max-size=10k", "--log-opt", "max-file=1", "--log-opt", "compress=1"], Self.compressOnly),
                // max-size is read first: -1 is no size to dockerd either.
                (["--log-opt", "max-size=-1", "--log-opt", "max-file=3", "--log-opt", "compress=T"], "failed to initialize logging driver: invalid size: '-1'"),
                (["--log-opt", "compress=yes"], "failed to initialize logging driver: strconv.ParseBool: parsing \"yes\": invalid syntax"),
                (["--log-opt", "compress="], "failed to initialize logging driver: strconv.ParseBool: parsing \"\": invalid syntax"),
            ]
            for (options, message) in cases {
                let run = daemon.docker(["run", "--rm"] + options + ["busybox", "true"])
                #expect(run.status == 125, "\(options)")
                #expect(run.stderr == ContainerBehaviourTests.runError(message), "\(options): \(run.stderr)")
            }
            #expect(daemon.docker(["ps", "-aq"]).stdout.isEmpty, "failed creates leave no container")
            for value in ["false", "F", "0", "FALSE"] {
                #expect(daemon.docker(["run", "--rm", "--log-opt", "compress=" + value, "busybox", "true"]).status == 0, "\(value)")
            }
            #expect(daemon.docker(["run", "--rm", "--log-opt", "max-size=10k", "--log-opt", "max-file=2",
                                   "--log-opt", "compress=True", "busybox", "true"]).status == 0)
        }
    }

    /// The names in the log's directory that belong to the log, sorted.
    static func logFiles(_ logPath: String) -> [String] {
        let directory = (logPath as NSString).deletingLastPathComponent
        let name = (logPath as NSString).lastPathComponent
        let all = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return all.filter { $0.hasPrefix(name) }.map { directory + "/" + $0 }.sorted()
    }

    /// Waits until the rotated files are all compressed (the shim gzips them in the background).
    static func waitForCompression(_ logPath: String, rotated: Int) -> [String] {
        let wanted = [logPath] + (1 ... rotated).map { "\(logPath).\($0).gz" }
        let deadline = Date().addingTimeInterval(15)
        var files = logFiles(logPath)
        while files != wanted.sorted() && Date() < deadline {
            usleep(50_000)
            files = logFiles(logPath)
        }
        return files
    }

    /// The records' `log` texts in a file, gunzipped first when it is `.gz`.
    static func lines(_ file: String) -> [String] {
        let text = file.hasSuffix(".gz") ? Harness.run("/bin/gzip", ["-dc", file]).stdout
                                         : ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "")
        return text.split(separator: "\n").compactMap { line in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return (object?["log"] as? String).map { String($0.dropLast()) }
        }
    }

    // daemon.json's log-opts reach the containers: compress there is what `--log-opt` does.
    @Test func rotatedFilesAreGzippedAndLogsReadsThemInOrder() throws {
        let configuration = #"{"cgroup-parent": "/berth-test", "log-opts": {"max-size": "10k", "max-file": "3", "compress": "true"}}"#
        try ContainerBehaviourTests.withDaemon(configuration) { daemon in
            #expect(daemon.docker(["run", "--name", "gz", "busybox", "seq", "1", "3000"]).status == 0)
            #expect(ContainerBehaviourTests.inspect(daemon, "{{.HostConfig.LogConfig.Config}}", "gz")
                    == "map[compress:true max-file:3 max-size:10k]\n")
            let logPath = ContainerBehaviourTests.inspect(daemon, "{{.LogPath}}", "gz").trimmingCharacters(in: .whitespacesAndNewlines)
            let files = Self.waitForCompression(logPath, rotated: 2)
            #expect(files == [logPath, logPath + ".1.gz", logPath + ".2.gz"], "\(files)")
            for file in files where file.hasSuffix(".gz") {
                let test = Harness.run("/bin/gzip", ["-t", file])
                #expect(test.status == 0, "\(file): \(test.stderr)")
            }
            // On disk, oldest first: consecutive numbers up to the last, each file under max-size.
            let onDisk = [logPath + ".2.gz", logPath + ".1.gz", logPath].flatMap { Self.lines($0) }.compactMap { Int($0) }
            #expect(onDisk.last == 3000)
            #expect(onDisk.count > 200 && onDisk.count < 600, "\(onDisk.count) lines kept")
            #expect(onDisk == Array((onDisk.first ?? 0) ... 3000), "lines out of order or missing on disk")

            let logs = daemon.docker(["logs", "gz"])
            #expect(logs.status == 0)
            #expect(logs.stdout.split(separator: "\n").compactMap { Int($0) } == onDisk, "docker logs differs from the files")
            // A tail that reaches back into both compressed files.
            let tail = onDisk.count - 10
            let tailed = daemon.docker(["logs", "--tail", String(tail), "gz"]).stdout.split(separator: "\n").compactMap { Int($0) }
            #expect(tailed == Array(onDisk.suffix(tail)))
            #expect(daemon.docker(["logs", "--tail", "2", "gz"]).stdout == "2999\n3000\n")
            // Follow of a stopped container: everything, then the end.
            let follow = daemon.docker(["logs", "-f", "--tail", "all", "gz"])
            #expect(follow.stdout.split(separator: "\n").compactMap { Int($0) } == onDisk)
        }
    }

    @Test func sinceAndUntilFilterAcrossCompressedFiles() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            // Two bursts two seconds apart, over many small rotated files (none dropped).
            #expect(daemon.docker(["run", "--name", "gzt", "--log-opt", "max-size=2k", "--log-opt", "max-file=60",
                                   "--log-opt", "compress=true", "busybox", "sh", "-c", "seq 1 300; sleep 2; seq 301 600"]).status == 0)
            let logPath = ContainerBehaviourTests.inspect(daemon, "{{.LogPath}}", "gzt").trimmingCharacters(in: .whitespacesAndNewlines)
            let deadline = Date().addingTimeInterval(15)
            while Self.logFiles(logPath).contains(where: { !$0.hasSuffix(".gz") && $0 != logPath }) && Date() < deadline { usleep(50_000) }
            let files = Self.logFiles(logPath)
            #expect(files.filter { $0.hasSuffix(".gz") }.count >= 10, "\(files)")
            #expect(files.allSatisfy { $0.hasSuffix(".gz") || $0 == logPath }, "\(files)")

            let stamped = daemon.docker(["logs", "-t", "gzt"]).stdout.split(separator: "\n")
            #expect(stamped.count == 600)
            guard stamped.count == 600 else { return }
            // The middle of the pause, as seconds since the epoch.
            func seconds(_ line: Substring) -> Double {
                let stamp = line.prefix { $0 != " " }
                let whole = ISO8601DateFormatter().date(from: String(stamp.prefix(19)) + "Z")!.timeIntervalSince1970
                return whole + (Double("0" + stamp.dropFirst(19).dropLast()) ?? 0)
            }
            let middle = String(format: "%.3f", (seconds(stamped[299]) + seconds(stamped[300])) / 2)
            let since = daemon.docker(["logs", "--since", middle, "gzt"]).stdout.split(separator: "\n").compactMap { Int($0) }
            #expect(since == Array(301 ... 600))
            let until = daemon.docker(["logs", "--until", middle, "gzt"]).stdout.split(separator: "\n").compactMap { Int($0) }
            #expect(until == Array(1 ... 300))
        }
    }

    /// The lines `rotatingLines` prints.
    static let rotatingExpected = (1 ... 600).map { "line \($0)" }

    /// Runs a container named `name` that prints `rotatingExpected`, ten lines every 50 ms,
    /// with `logOptions` (small files: a rotation, and a compression, every few looks of a
    /// follower), and follows its log from the start until it exits; answers the lines seen.
    static func rotatingLines(_ daemon: TestDaemon, name: String, logOptions: [String]) -> [String] {
        let script = "sleep 1; i=1; while [ $i -le 600 ]; do echo line $i; [ $((i % 10)) = 0 ] && usleep 50000; i=$((i+1)); done"
        #expect(daemon.docker(["run", "-d", "--name", name] + logOptions + ["busybox", "sh", "-c", script]).status == 0)
        let follow = daemon.docker(["logs", "-f", name])
        #expect(follow.status == 0)
        return follow.stdout.split(separator: "\n").map(String.init)
    }

    @Test func followReadsEveryLineWhileFilesRotateAndCompress() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            // About 33 records per 2k file.
            let followed = Self.rotatingLines(daemon, name: "gzf", logOptions: ["--log-opt", "max-size=2k", "--log-opt", "max-file=10",
                                                                              "--log-opt", "compress=true"])
            let expected = Self.rotatingExpected
            #expect(followed == expected, "\(followed.count) lines")
            // Ten files in all, the nine rotated ones compressed; read back whole and with a tail.
            let logPath = ContainerBehaviourTests.inspect(daemon, "{{.LogPath}}", "gzf").trimmingCharacters(in: .whitespacesAndNewlines)
            let files = Self.waitForCompression(logPath, rotated: 9)
            #expect(files.count == 10 && files.filter { $0.hasSuffix(".gz") }.count == 9, "\(files)")
            let kept = [logPath] + (1 ... 9).map { "\(logPath).\($0).gz" }
            let onDisk = kept.reversed().flatMap { Self.lines($0) }
            #expect(onDisk == Array(expected.suffix(onDisk.count)) && onDisk.count > 200, "\(onDisk.count) lines")
            #expect(daemon.docker(["logs", "gzf"]).stdout.split(separator: "\n").map(String.init) == onDisk)
            let tail = daemon.docker(["logs", "-f", "--tail", "100", "gzf"]).stdout.split(separator: "\n").map(String.init)
            #expect(tail == Array(expected.suffix(100)))
        }
    }
}
