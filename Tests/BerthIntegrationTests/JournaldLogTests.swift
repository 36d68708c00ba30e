import BerthEngine
import Foundation
import Glibc
import Testing

/// The journald log driver for real: containers of a berthd that runs in a private journald's
/// mount namespace (scripts/private-journald) write their output to that journald, and
/// `docker logs` reads it back from its journal — through the stock CLI.
@Suite(.enabled(if: Harness.isRoot, "journald and berthd run as root"), .serialized)
struct JournaldLogTests {
    /// A private journald and a berthd in its namespace, with the busybox test image. The
    /// daemon's containers log to journald unless they ask for another driver.
    final class Testbed {
        let journald: PrivateJournald
        private(set) var daemon: TestDaemon!

        init() throws {
            journald = try PrivateJournald()
            do {
                daemon = try TestDaemon(configuration: #"{"cgroup-parent": "/berth-test", "log-driver": "journald"}"#,
                                        launcher: journald.launcher)
            } catch {
                journald.stop()
                throw error
            }
            let load = daemon.docker(["load", "-q", "-i", Harness.imageDir + "/busybox.tar"])
            guard load.status == 0 else { throw TestFailure("load failed: \(load.stderr)") }
        }

        /// The daemon (its containers removed) goes before journald.
        deinit {
            daemon = nil
            journald.stop()
        }

        @discardableResult
        func docker(_ args: [String], stdin: String? = nil) -> Harness.Result { daemon.docker(args, stdin: stdin) }

        /// The journal's entries for a container, as journalctl's JSON objects.
        func entries(_ id: String) -> [[String: Any]] {
            journald.journalctl(["--all", "-o", "json", "CONTAINER_ID_FULL=\(id)"]).stdout.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }

        var diagnostics: String { "berthd: \(daemon.log)\njournald: \(journald.log())" }
    }

    static func eventually(_ seconds: Double = 10, _ condition: () -> Bool) -> Bool {
        ContainerBehaviourTests.eventually(seconds, condition)
    }

    /// `2026-11-29T11:00:00.123456000Z` → microseconds since the epoch, when the fraction
    /// has nine digits of which the last three are zero (the journal's resolution).
    static func microseconds(_ stamp: Substring) -> UInt64? {
        let parts = stamp.split(separator: ".")
        guard parts.count == 2, parts[1].count == 10, parts[1].hasSuffix("000Z"),
              let fraction = UInt64(parts[1].prefix(6)) else { return nil }
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "UTC")
        format.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        guard let date = format.date(from: String(parts[0])) else { return nil }
        return UInt64(date.timeIntervalSince1970) * 1_000_000 + fraction
    }

    @Test func runWritesBothStreamsToTheJournalAndLogsReadsThemBack() throws {
        let bed = try Testbed()
        let run = bed.docker(["run", "--name", "both", "--log-driver", "journald", "busybox", "sh", "-c", "echo out; echo err >&2"])
        #expect(run.status == 0, "\(run.stderr) \(bed.diagnostics)")
        #expect(run.stdout == "out\n" && run.stderr == "err\n")
        let id = bed.docker(["inspect", "--format", "{{.Id}}", "both"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(bed.docker(["inspect", "--format", "{{.HostConfig.LogConfig.Type}} {{.LogPath}}.", "both"]).stdout == "journald .\n")

        let logs = bed.docker(["logs", "both"])
        #expect(logs.status == 0, "\(logs.stderr) \(bed.diagnostics)")
        #expect(logs.stdout == "out\n", "\(bed.diagnostics)")
        #expect(logs.stderr == "err\n")
        // One stream asked for: only its frames (the stdcopy header says stdout, 4 bytes).
        let stdoutOnly = bed.daemon.curl(["http://berth/v1.50/containers/both/logs?stdout=1"])
        #expect(Array(stdoutOnly.stdout.utf8) == [1, 0, 0, 0, 0, 0, 0, 4] + Array("out\n".utf8))
        let stderrOnly = bed.daemon.curl(["http://berth/v1.50/containers/both/logs?stderr=1"])
        #expect(Array(stderrOnly.stdout.utf8) == [2, 0, 0, 0, 0, 0, 0, 4] + Array("err\n".utf8))

        // The entries carry the fields dockerd's journald driver writes.
        let entries = bed.entries(id)
        #expect(entries.count == 2, "\(entries)")
        let short = String(id.prefix(12))
        for (index, entry) in entries.enumerated() {
            #expect(entry["CONTAINER_ID"] as? String == short)
            #expect(entry["CONTAINER_NAME"] as? String == "both")
            #expect(entry["CONTAINER_TAG"] as? String == short)
            #expect(entry["SYSLOG_IDENTIFIER"] as? String == short)
            #expect(entry["IMAGE_NAME"] as? String == "busybox")
            #expect((entry["CONTAINER_LOG_EPOCH"] as? String)?.count == 64)
            #expect(entry["CONTAINER_LOG_ORDINAL"] as? String == String(index + 1))
            #expect((entry["SYSLOG_TIMESTAMP"] as? String)?.hasSuffix("Z") == true)
            #expect(entry["CONTAINER_PARTIAL_MESSAGE"] == nil)
        }
        let byMessage = Dictionary(entries.map { ($0["MESSAGE"] as? String ?? "", $0) }, uniquingKeysWith: { first, _ in first })
        #expect(byMessage["out"]?["PRIORITY"] as? String == "6")
        #expect(byMessage["err"]?["PRIORITY"] as? String == "3")

        // -t: the time journald received each entry, with nine fraction digits.
        let stamped = bed.docker(["logs", "-t", "both"])
        for (output, message) in [(stamped.stdout, "out"), (stamped.stderr, "err")] {
            let fields = output.dropLast().split(separator: " ", maxSplits: 1)
            #expect(fields.count == 2 && fields[1] == message, "\(output)")
            let realtime = (byMessage[message]?["__REALTIME_TIMESTAMP"] as? String).flatMap { UInt64($0) }
            #expect(fields.first.flatMap { Self.microseconds($0) } == realtime, "\(output) vs \(String(describing: realtime))")
        }
        #expect(bed.docker(["rm", "both"]).status == 0)
    }

    @Test func tailSinceAndUntil() throws {
        let bed = try Testbed()
        let run = bed.docker(["run", "-d", "--name", "timed", "busybox", "sh", "-c",
                              "echo one; echo two; sleep 0.3; echo three >&2; sleep 2; echo four"])
        #expect(run.status == 0, "\(run.stderr) \(bed.diagnostics)")
        #expect(Self.eventually { bed.docker(["logs", "timed"]).stderr == "three\n" }, "\(bed.diagnostics)")
        // Between "three" (in the journal already) and "four" (two seconds later).
        let between = String(format: "%.6f", Date().timeIntervalSince1970)
        #expect(bed.docker(["wait", "timed"]).stdout == "0\n")

        let all = bed.docker(["logs", "timed"])
        #expect(all.stdout == "one\ntwo\nfour\n" && all.stderr == "three\n", "\(all) \(bed.diagnostics)")
        let last = bed.docker(["logs", "--tail", "1", "timed"])
        #expect(last.stdout == "four\n" && last.stderr == "")
        let lastTwo = bed.docker(["logs", "--tail", "2", "timed"])
        #expect(lastTwo.stdout == "four\n" && lastTwo.stderr == "three\n")
        let none = bed.docker(["logs", "--tail", "0", "timed"])
        #expect(none.status == 0 && none.stdout == "" && none.stderr == "")
        let more = bed.docker(["logs", "--tail", "100", "timed"])
        #expect(more.stdout == "one\ntwo\nfour\n" && more.stderr == "three\n")

        let since = bed.docker(["logs", "--since", between, "timed"])
        #expect(since.status == 0 && since.stdout == "four\n" && since.stderr == "", "\(since)")
        let until = bed.docker(["logs", "--until", between, "timed"])
        #expect(until.stdout == "one\ntwo\n" && until.stderr == "three\n", "\(until)")
        // The tail counts back from --until, as dockerd's journald reader does.
        let tailUntil = bed.docker(["logs", "--tail", "2", "--until", between, "timed"])
        #expect(tailUntil.stdout == "two\n" && tailUntil.stderr == "three\n", "\(tailUntil)")
        // A tail that reaches back past --since starts at --since.
        let tailSince = bed.docker(["logs", "--tail", "3", "--since", between, "timed"])
        #expect(tailSince.stdout == "four\n" && tailSince.stderr == "", "\(tailSince)")
        // -f of a stopped container reads to the end and returns.
        let stopped = bed.docker(["logs", "-f", "timed"])
        #expect(stopped.status == 0 && stopped.stdout == "one\ntwo\nfour\n" && stopped.stderr == "three\n")
    }

    @Test func followShowsNewLinesAndEndsWhenTheContainerStops() throws {
        let bed = try Testbed()
        let run = bed.docker(["run", "-d", "--name", "live", "busybox", "sh", "-c",
                              "echo first; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo second; echo third >&2; sleep 0.5; echo fourth"])
        #expect(run.status == 0, "\(run.stderr) \(bed.diagnostics)")
        let out = bed.journald.directory + "/follow.out"
        let err = bed.journald.directory + "/follow.err"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        let follower = Process()
        follower.executableURL = URL(fileURLWithPath: Harness.dockerCLI)
        follower.arguments = ["-H", bed.daemon.host, "logs", "-f", "live"]
        follower.standardOutput = FileHandle(forWritingAtPath: out)
        follower.standardError = FileHandle(forWritingAtPath: err)
        follower.standardInput = FileHandle.nullDevice
        try follower.run()
        defer {
            if follower.isRunning { kill(follower.processIdentifier, SIGKILL) }
            follower.waitUntilExit()
        }
        func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

        #expect(Self.eventually { read(out) == "first\n" }, "\(read(out)) \(bed.diagnostics)")
        usleep(300_000)
        #expect(follower.isRunning, "logs -f ended while the container runs")
        let released = Date()
        #expect(bed.docker(["exec", "live", "touch", "/tmp/go"]).status == 0)
        // New lines come while it follows; it ends by itself once the container has stopped,
        // as soon as the last entry is in (not after the five seconds journald is given).
        #expect(Self.eventually(15) { !follower.isRunning }, "logs -f did not end: \(read(out)) \(bed.diagnostics)")
        #expect(Date().timeIntervalSince(released) < 4.5)
        #expect(follower.terminationStatus == 0)
        #expect(read(out) == "first\nsecond\nfourth\n", "\(read(out))")
        #expect(read(err) == "third\n")
        #expect(bed.docker(["inspect", "--format", "{{.State.Status}}", "live"]).stdout == "exited\n")
    }

    @Test func longLinesComeBackWholeAndAnUnfinishedLastLineStaysUnfinished() throws {
        let bed = try Testbed()
        let run = bed.docker(["run", "--name", "long", "busybox", "sh", "-c",
                              "head -c 40000 /dev/zero | tr '\\0' x; echo; printf unfinished"])
        #expect(run.status == 0, "\(run.stderr) \(bed.diagnostics)")
        let logs = bed.docker(["logs", "long"])
        #expect(logs.stdout == String(repeating: "x", count: 40000) + "\nunfinished", "\(logs.stdout.count) bytes")
        let stamped = bed.docker(["logs", "-t", "long"]).stdout
        #expect(stamped.hasSuffix(" unfinished"))

        // A 16 KiB piece per entry, marked as dockerd marks them; the unfinished line is partial.
        let id = bed.docker(["inspect", "--format", "{{.Id}}", "long"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let entries = bed.entries(id)
        #expect(entries.map { ($0["MESSAGE"] as? String)?.count ?? -1 } == [16384, 16384, 7232, 10], "\(entries.count) entries")
        guard entries.count == 4 else { return }
        #expect(entries.map { $0["CONTAINER_PARTIAL_MESSAGE"] as? String } == ["true", "true", nil, "true"])
        #expect(entries.map { $0["CONTAINER_PARTIAL_ORDINAL"] as? String } == ["1", "2", "3", "1"])
        #expect(entries.map { $0["CONTAINER_PARTIAL_LAST"] as? String } == ["false", "false", "true", "false"])
        let pieceIDs = Set(entries.prefix(3).compactMap { $0["CONTAINER_PARTIAL_ID"] as? String })
        #expect(pieceIDs.count == 1 && pieceIDs.first?.count == 64)
        #expect(entries[3]["CONTAINER_PARTIAL_ID"] as? String != pieceIDs.first)
    }

    @Test func theTagOptionNamesTheEntries() throws {
        let bed = try Testbed()
        let run = bed.docker(["run", "--name", "tagged", "--log-opt", "tag=app/{{.Name}}/{{.ImageName}}", "busybox", "echo", "hi"])
        #expect(run.status == 0, "\(run.stderr) \(bed.diagnostics)")
        let id = bed.docker(["inspect", "--format", "{{.Id}}", "tagged"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let entries = bed.entries(id)
        #expect(entries.count == 1)
        #expect(entries.first?["SYSLOG_IDENTIFIER"] as? String == "app/tagged/busybox")
        #expect(entries.first?["CONTAINER_TAG"] as? String == "app/tagged/busybox")
        #expect(bed.journald.journalctl(["-t", "app/tagged/busybox", "-o", "cat"]).stdout == "hi\n")
        // A template dockerd cannot render fails the start with its error.
        let bad = bed.docker(["run", "--name", "badtag", "--log-opt", "tag={{.Nope}}", "busybox", "echo", "hi"])
        #expect(bad.status == 125)
        #expect(bad.stderr.contains("failed to create task for container: failed to initialize logging driver: "
            + "template: log-tag:1:2: executing \"log-tag\" at <.Nope>: can't evaluate field Nope in type *logger.Info"), "\(bad.stderr)")
    }

    @Test func logAttributesAreFieldsAndDetailsShowThem() throws {
        let bed = try Testbed()
        let run = bed.docker(["run", "--name", "attrs", "--label", "com.example.tier=web", "-e", "STAGE=prod",
                              "--log-opt", "labels=com.example.tier", "--log-opt", "env=STAGE", "busybox", "echo", "hi"])
        #expect(run.status == 0, "\(run.stderr) \(bed.diagnostics)")
        let id = bed.docker(["inspect", "--format", "{{.Id}}", "attrs"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let entries = bed.entries(id)
        #expect(entries.count == 1)
        #expect(entries.first?["COM_EXAMPLE_TIER"] as? String == "web")
        #expect(entries.first?["STAGE"] as? String == "prod")
        let details = bed.docker(["logs", "--details", "attrs"])
        #expect(details.stdout == "COM_EXAMPLE_TIER=web,IMAGE_NAME=busybox,STAGE=prod hi\n", "\(details.stderr)")
    }

    @Test func otherDriversAndATerminalBesideJournald() throws {
        let bed = try Testbed()
        // A TTY container's output is one stream, raw.
        #expect(bed.docker(["run", "-t", "--name", "tty", "busybox", "echo", "hi"]).status == 0)
        #expect(bed.docker(["logs", "tty"]).stdout == "hi\r\n", "\(bed.diagnostics)")
        // json-file beside journald: its own file, as before.
        #expect(bed.docker(["run", "--name", "file", "--log-driver", "json-file", "busybox", "echo", "in a file"]).status == 0)
        #expect(bed.docker(["logs", "file"]).stdout == "in a file\n")
        let fileID = bed.docker(["inspect", "--format", "{{.Id}}", "file"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(bed.entries(fileID).isEmpty)
        // none: nothing to read, dockerd's answer.
        #expect(bed.docker(["run", "--name", "silent", "--log-driver", "none", "busybox", "echo", "gone"]).status == 0)
        let none = bed.docker(["logs", "silent"])
        #expect(none.status == 1)
        #expect(none.stderr.contains("configured logging driver does not support reading"), "\(none.stderr)")
    }

    /// Without journald (a berthd outside the private namespace, on a host where none listens)
    /// a journald container does not start, as with dockerd, instead of losing its output.
    /// (Where something listens on the host's journald socket, the test leaves it alone.)
    @Test(.enabled(if: !JournaldSocket.isListening(), "the host runs journald"))
    func withoutJournaldTheContainerDoesNotStart() throws {
        let daemon = try TestDaemon(configuration: #"{"cgroup-parent": "/berth-test"}"#)
        #expect(daemon.docker(["load", "-q", "-i", Harness.imageDir + "/busybox.tar"]).status == 0)
        let run = daemon.docker(["run", "--name", "unlogged", "--log-driver", "journald", "busybox", "true"])
        #expect(run.status == 125, "\(run.stdout) \(run.stderr)")
        #expect(run.stderr.contains(
            "failed to create task for container: failed to initialize logging driver: journald is not enabled on this host"),
            "\(run.stderr)")
        #expect(daemon.docker(["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "unlogged"]).stdout == "created 128\n")
        // Nor are its logs read as empty: dockerd's driver refuses the reading too.
        let logs = daemon.docker(["logs", "unlogged"])
        #expect(logs.status == 1 && logs.stderr == "Error response from daemon: journald is not enabled on this host\n", "\(logs)")
    }
}
