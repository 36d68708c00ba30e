import Foundation
import Testing

/// berthd started with daemon.json values dockerd refuses at its start: it stops with status
/// 1 and dockerd's message; values dockerd accepts at start, it accepts too.
struct DaemonConfigStartTests {
    @Test func refusedValuesStopTheStartWithDockerdsMessage() throws {
        let attempts = try ConfigStartAttempts("berthd-config")
        let directory = attempts.directory, config = attempts.config
        func start(_ json: String) throws -> Harness.Result { try attempts.start(json) }
        let file = "unable to configure the Berth daemon with file \(config): "
        let cases: [(json: String, message: String)] = [
            (#"{"log-driver": "json-file", "log-opts": {"max-file": "3", "bogus": "1"}}"#,
             "failed to start daemon: failed to set log opts: failed to set log opts: unknown log opt 'bogus' for json-file log driver"),
            (#"{"log-driver": "syslog", "log-opts": {"syslog-address": "corrupted:42"}}"#,
             "failed to start daemon: failed to set log opts: failed to set log opts: syslog-address should be in form proto://address, got corrupted:42"),
            (#"{"dns": ["abc"]}"#, file + #"ParseAddr("abc"): unable to parse IP"#),
            (#"{"dns-search": ["-x"]}"#, file + "merged configuration validation from file and command line flags failed: -x is not a valid domain"),
            (#"{"bip": "10.5.0.1"}"#, "failed to start daemon: Error initializing network controller: parse bip failed: invalid CIDR address: 10.5.0.1"),
            (#"{"fixed-cidr": "10.5.0.0/40"}"#,
             "failed to start daemon: Error initializing network controller: parse fixed-cidr failed: invalid CIDR address: 10.5.0.0/40"),
            (#"{"default-address-pools": [{"base": "10.0.0.0", "size": 24}]}"#, file + #"netip.ParsePrefix("10.0.0.0"): no '/'"#),
            (#"{"max-concurrent-uploads": -1}"#,
             file + "merged configuration validation from file and command line flags failed: invalid max concurrent uploads: -1"),
        ]
        for (json, message) in cases {
            let result = try start(json)
            #expect(result.status == 1, "\(json): \(result)")
            #expect(result.stderr == "berthd: \(message)\n", "\(json)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory + "/s.sock"))
    }

    /// As dockerd: json-file's max-size is read when a container's logger starts, so a bad
    /// one lets the daemon start and refuses the container; accepted dns, dns-search, labels
    /// and fixed-cidr start it too.
    @Test func valuesDockerdChecksLaterLetTheDaemonStart() throws {
        let daemon = try TestDaemon(configuration: """
            {"log-driver": "json-file", "log-opts": {"max-size": "abc"}, "dns": ["192.0.2.53"],
             "dns-search": ["example.com"], "labels": ["a=b"], "fixed-cidr": "10.5.0.0/25"}
            """)
        #expect(daemon.docker(["load", "-q", "-i", Harness.imageDir + "/busybox.tar"]).status == 0)
        let create = daemon.docker(["create", "busybox", "true"])
        #expect(create.status != 0)
        #expect(create.stderr.contains("Error response from daemon: failed to initialize logging driver: "), "\(create)")
        #expect(daemon.stop() == 0)
    }
}
