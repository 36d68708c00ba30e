import Foundation
import Testing

/// The `local` log driver through the stock CLI, as dockerd has it: its files under the
/// container's `local-logs/` (no LogPath shown) in dockerd's format (protocol buffers records
/// framed by their lengths), rotated with dockerd's defaults and checks, the rotated files
/// gzipped, and `docker logs` reading them all.
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct LocalLogDriverTests {
    @Test func itRotatesGzipsAndReadsBackWithoutALogPath() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["run", "--name", "lo", "--log-driver", "local", "--log-opt", "max-size=2k",
                                   "--log-opt", "max-file=3", "--label", "team=a", "--log-opt", "labels=team",
                                   "busybox", "seq", "1", "3000"]).status == 0)
            #expect(ContainerBehaviourTests.inspect(daemon, "{{.LogPath}}|{{json .HostConfig.LogConfig}}", "lo")
                    == #"|{"Type":"local","Config":{"labels":"team","max-file":"3","max-size":"2k"}}"# + "\n")
            let id = ContainerBehaviourTests.inspect(daemon, "{{.Id}}", "lo").trimmingCharacters(in: .whitespacesAndNewlines)
            let logPath = daemon.directory + "/data/containers/\(id)/local-logs/container.log"
            // Compressed by default: two rotated files, gzipped, beside the live one.
            let files = JSONFileCompressTests.waitForCompression(logPath, rotated: 2)
            #expect(files == [logPath, logPath + ".1.gz", logPath + ".2.gz"], "\(files)")

            let onDisk = [logPath + ".2.gz", logPath + ".1.gz", logPath].flatMap { Self.lines($0) }.compactMap { Int($0) }
            #expect(onDisk.last == 3000)
            #expect(onDisk.count > 20 && onDisk.count < 300, "\(onDisk.count) lines kept")
            #expect(onDisk == Array((onDisk.first ?? 0) ... 3000), "lines out of order or missing on disk")
            let logs = daemon.docker(["logs", "lo"])
            #expect(logs.status == 0)
            #expect(logs.stdout.split(separator: "\n").compactMap { Int($0) } == onDisk)
            #expect(daemon.docker(["logs", "--tail", "2", "--details", "lo"]).stdout == "team=a 2999\nteam=a 3000\n")
        }
    }

    /// The lines of a `local` log file (gzipped or not), read as dockerd's format lays them
    /// out: each record a message between two big-endian lengths, its line in field 3 (bytes)
    /// without the newline.
    static func lines(_ file: String) -> [String] {
        var path = file
        if file.hasSuffix(".gz") {
            path = NSTemporaryDirectory() + Harness.uniqueID("local-log")
            Harness.run("/bin/sh", ["-c", "gzip -dc \"$0\" > \"$1\"", file, path])
        }
        defer { if path != file { try? FileManager.default.removeItem(atPath: path) } }
        let bytes = [UInt8](FileManager.default.contents(atPath: path) ?? Data())
        func varint(_ index: inout Int) -> Int {
            var value = 0, shift = 0
            while true {
                let byte = bytes[index]
                index += 1
                value |= Int(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
        }
        var lines: [String] = []
        var offset = 0
        while offset + 8 <= bytes.count {
            let length = Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            guard offset + 8 + length <= bytes.count, bytes[(offset + 4 + length) ..< (offset + 8 + length)] == bytes[offset ..< offset + 4]
            else { break }
            var index = offset + 4
            while index < offset + 4 + length {
                let key = varint(&index)
                if key & 7 == 0 {
                    _ = varint(&index)
                } else {
                    let size = varint(&index)
                    if key >> 3 == 3 { lines.append(String(decoding: bytes[index ..< index + size], as: UTF8.self)) }
                    index += size
                }
            }
            offset += 8 + length
        }
        return lines
    }

    /// dockerd's records are about half the size of json-file's: a file of max-size holds as
    /// many lines as dockerd's does, so the same options keep the same lines.
    @Test func itKeepsAsManyLinesAsDockerd() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let script = "for i in $(seq 0 99); do echo line-$i-xxxxxxxxxxxxxxxx; done"
            #expect(daemon.docker(["run", "--name", "kept", "--log-driver", "local", "--log-opt", "max-size=1k",
                                   "--log-opt", "max-file=2", "busybox", "sh", "-c", script]).status == 0)
            let logs = daemon.docker(["logs", "kept"]).stdout.split(separator: "\n")
            #expect(logs.count == 40 && logs.first == "line-60-xxxxxxxxxxxxxxxx", "\(logs.count) lines from \(logs.first ?? "")")
            #expect(daemon.docker(["run", "--name", "plain", "--log-driver", "local", "--log-opt", "max-size=1k", "--log-opt", "max-file=3",
                                   "--log-opt", "compress=false", "busybox", "sh", "-c", script]).status == 0)
            #expect(daemon.docker(["logs", "plain"]).stdout.split(separator: "\n").count == 60)
            // Each line stamped as it was read, as dockerd's copier does.
            let stamped = daemon.docker(["logs", "-t", "--tail", "5", "plain"]).stdout.split(separator: "\n").map { $0.prefix(30) }
            #expect(Set(stamped).count == 5, "\(stamped)")
        }
    }

    /// A follower of a local log reads every record while the files rotate and are gzipped
    /// under it, and a tail counts back across the compressed ones.
    @Test func followReadsEveryRecordWhileFilesRotateAndCompress() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let followed = JSONFileCompressTests.rotatingLines(daemon, name: "lof", logOptions: [
                "--log-driver", "local", "--log-opt", "max-size=1k", "--log-opt", "max-file=10"])
            let expected = JSONFileCompressTests.rotatingExpected
            #expect(followed == expected, "\(followed.count) lines")
            let tail = daemon.docker(["logs", "--tail", "150", "lof"]).stdout.split(separator: "\n").map(String.init)
            #expect(tail == Array(expected.suffix(150)))
        }
    }

    /// A local log in json-file records (as Berth wrote it before it had dockerd's format):
    /// the next start moves it aside as a rotated file, and `docker logs` reads both framings.
    @Test func anOlderJSONRecordLogIsKeptAsARotatedFile() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["create", "--name", "older", "--log-driver", "local", "--log-opt", "compress=false",
                                   "busybox", "echo", "framed"]).status == 0)
            let id = ContainerBehaviourTests.inspect(daemon, "{{.Id}}", "older").trimmingCharacters(in: .whitespacesAndNewlines)
            let logPath = daemon.directory + "/data/containers/\(id)/local-logs/container.log"
            try FileManager.default.createDirectory(atPath: (logPath as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try #"{"log":"json record\n","stream":"stdout","time":"2026-11-01T10:00:00.000000001Z"}"#.appending("\n")
                .write(toFile: logPath, atomically: false, encoding: .utf8)
            #expect(daemon.docker(["start", "-a", "older"]).stdout == "framed\n")
            #expect(daemon.docker(["logs", "older"]).stdout == "json record\nframed\n")
            #expect(Self.lines(logPath) == ["framed"])
            #expect(FileManager.default.fileExists(atPath: logPath + ".1"))
        }
    }

    // daemon.json's driver: five files of 20 MiB, compressed, unless the container says otherwise.
    @Test func theDaemonsDefaultDriverAndItsOptions() throws {
        let configuration = #"{"cgroup-parent": "/berth-test", "log-driver": "local"}"#
        try ContainerBehaviourTests.withDaemon(configuration) { daemon in
            let run = daemon.docker(["run", "--name", "dl", "busybox", "sh", "-c", "echo out; echo err >&2"])
            #expect(run.stdout == "out\n" && run.stderr == "err\n", "\(run)")
            #expect(ContainerBehaviourTests.inspect(daemon, "{{json .HostConfig.LogConfig}}", "dl") == #"{"Type":"local","Config":{}}"# + "\n")
            let logs = daemon.docker(["logs", "dl"])
            #expect(logs.stdout == "out\n" && logs.stderr == "err\n", "\(logs)")
            #expect(daemon.docker(["info", "--format", "{{.LoggingDriver}}"]).stdout == "local\n")
            // The container's own driver wins.
            #expect(daemon.docker(["run", "--name", "jf", "--log-driver", "json-file", "busybox", "true"]).status == 0)
            #expect(ContainerBehaviourTests.inspect(daemon, "{{.HostConfig.LogConfig.Type}}", "jf") == "json-file\n")
        }
    }

    @Test func itsOptionsAreCheckedWithDockerdsWords() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let prefix = "failed to initialize logging driver: "
            let cases: [([String], String)] = [
                (["max-size=bad"], prefix + "invalid value for max-size: bad: invalid size: 'bad'"),
                (["max-size=-1"], prefix + "invalid value for max-size: -1: invalid size: '-1'"),
                (["max-file=x"], prefix + "invalid value for max-file: x: strconv.Atoi: parsing \"x\": invalid syntax"),
                (["max-file=-1", "compress=false"], prefix + "max-file must not be negative"),
                (["max-file=1"], prefix + "compression cannot be enabled when max file count is 1"),
                (["max-file=0"], prefix + "compression cannot be enabled when max file count is 1"),
                (["compress=maybe"], prefix + "error reading compress log option: strconv.ParseBool: parsing \"maybe\": invalid syntax"),
                (["foo=1"], "unknown log opt 'foo' for log driver local"),
                (["mode=fast"], "logger: logging mode not supported: fast"),
            ]
            for (options, message) in cases {
                let run = daemon.docker(["run", "--rm", "--log-driver", "local"] + options.flatMap { ["--log-opt", $0] } + ["busybox", "true"])
                #expect(run.status == 125, "\(options)")
                #expect(run.stderr == ContainerBehaviourTests.runError(message), "\(options): \(run.stderr)")
            }
            #expect(daemon.docker(["ps", "-aq"]).stdout.isEmpty, "failed creates leave no container")
            for options in [["max-file=1", "compress=false"], ["max-file=0", "compress=false"], ["max-size=0"], ["tag=x", "env=A"],
                            ["mode=non-blocking", "max-buffer-size=1m"]] {
                let run = daemon.docker(["run", "--rm", "--log-driver", "local"] + options.flatMap { ["--log-opt", $0] } + ["busybox", "echo", "hi"])
                #expect(run.status == 0 && run.stdout == "hi\n", "\(options): \(run)")
            }
        }
    }
}
