import Foundation
import Testing

/// The `local` log driver through the stock CLI, as dockerd has it: its files under the
/// container's `local-logs/` (no LogPath shown, the format is the daemon's own), rotated with
/// dockerd's defaults and checks, the rotated files gzipped, and `docker logs` reading them all.
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

            let onDisk = [logPath + ".2.gz", logPath + ".1.gz", logPath].flatMap { JSONFileCompressTests.lines($0) }.compactMap { Int($0) }
            #expect(onDisk.last == 3000)
            #expect(onDisk.count > 20 && onDisk.count < 300, "\(onDisk.count) lines kept")
            #expect(onDisk == Array((onDisk.first ?? 0) ... 3000), "lines out of order or missing on disk")
            let logs = daemon.docker(["logs", "lo"])
            #expect(logs.status == 0)
            #expect(logs.stdout.split(separator: "\n").compactMap { Int($0) } == onDisk)
            #expect(daemon.docker(["logs", "--tail", "2", "--details", "lo"]).stdout == "team=a 2999\nteam=a 3000\n")
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
