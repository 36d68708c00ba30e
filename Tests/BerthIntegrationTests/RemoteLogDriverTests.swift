import Foundation
import Glibc
import Testing

/// The remote log drivers (syslog, fluentd, gelf) through the stock CLI: a server the test
/// starts on loopback or at a private socket path receives exactly the messages dockerd 20.10
/// sends; bad options fail `docker run` with dockerd's errors; `docker logs` reads dockerd's
/// local cache of the records (or says it cannot, with cache-disabled).
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct RemoteLogDriverTests {
    static func id(_ daemon: TestDaemon, _ name: String) -> String {
        ContainerBehaviourTests.inspect(daemon, "{{.Id}}", name).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static var hostname: String {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, 255)
        return String(cString: name)
    }

    /// Whole messages matched against a pattern with the changing parts (time, pid) as regexes.
    static func matches(_ text: String, _ pattern: String) -> Bool {
        text.wholeMatch(of: try! Regex(pattern)) != nil
    }

    static func escaped(_ text: String) -> String { NSRegularExpression.escapedPattern(for: text) }

    // MARK: - syslog

    @Test func syslogOverUnixgramInDockersDefaultLayout() throws {
        let server = try LogListener(.unixgram)
        defer { server.stop() }
        try ContainerBehaviourTests.withDaemon { daemon in
            let run = daemon.docker(["run", "--name", "sl", "--log-driver", "syslog", "--log-opt", "syslog-address=" + server.address,
                                     "busybox", "sh", "-c", "echo out; echo; sleep 0.1; echo err >&2; sleep 0.1; printf partial"])
            #expect(run.status == 0 && run.stdout == "out\n\npartial" && run.stderr == "err\n", "\(run)")
            let short = String(Self.id(daemon, "sl").prefix(12))
            let texts = server.wait { $0.count >= 3 }.map { String(decoding: $0, as: UTF8.self) }
            // `<PRI>Mmm _d hh:mm:ss TAG[PID]: MSG\n`, daemon facility; the empty line is not sent.
            let stamp = "[A-Z][a-z]{2} [ 1-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9]"
            #expect(texts.count == 3, "\(texts)")
            if texts.count == 3 {
                #expect(Self.matches(texts[0], "<30>\(stamp) \(short)\\[[0-9]+\\]: out\n"), "\(texts)")
                #expect(Self.matches(texts[1], "<27>\(stamp) \(short)\\[[0-9]+\\]: err\n"), "\(texts)")
                #expect(Self.matches(texts[2], "<30>\(stamp) \(short)\\[[0-9]+\\]: partial\n"), "\(texts)")
            }
            // dockerd's local cache: `docker logs` reads the records back; no LogPath is shown.
            let logs = daemon.docker(["logs", "sl"])
            #expect(logs.status == 0 && logs.stdout == "out\n\npartial" && logs.stderr == "err\n", "\(logs)")
            #expect(ContainerBehaviourTests.inspect(daemon, "{{.LogPath}}|{{json .HostConfig.LogConfig}}", "sl")
                    == #"|{"Type":"syslog","Config":{"syslog-address":"\#(server.address)"}}"# + "\n")
        }
    }

    @Test func syslogOverTCPInRFC5424WithFacilityAndTag() throws {
        let server = try LogListener(.tcp)
        defer { server.stop() }
        try ContainerBehaviourTests.withDaemon { daemon in
            let run = daemon.docker(["run", "--name", "s5", "--log-driver", "syslog",
                                     "--log-opt", "syslog-address=tcp://localhost:\(server.port)", "--log-opt", "syslog-facility=local3",
                                     "--log-opt", "syslog-format=rfc5424micro", "--log-opt", "tag=app {{.Name}}",
                                     "busybox", "sh", "-c", "echo one; echo '  two  '"])
            #expect(run.status == 0, "\(run)")
            let streams = server.wait { $0.first.map { String(decoding: $0, as: UTF8.self).hasSuffix("two  \n") } ?? false }
            #expect(streams.count == 1)
            let text = String(decoding: streams.first ?? [], as: UTF8.self)
            let time = "2[0-9]{3}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9](\\.[0-9]{0,5}[1-9])?(Z|[+-][0-9]{2}:[0-9]{2})"
            let head = "<158>1 \(time) \(Self.escaped(Self.hostname)) app s5 [0-9]+ app s5 - "
            // No framing on tcp: one message after the other, each ending in a newline.
            #expect(Self.matches(text, head + "one\n" + head + "  two  \n"), "\(text)")
        }
    }

    @Test func syslogOverUDPInRFC3164() throws {
        let server = try LogListener(.udp)
        defer { server.stop() }
        try ContainerBehaviourTests.withDaemon { daemon in
            let run = daemon.docker(["run", "--name", "s3", "--log-driver", "syslog", "--log-opt", "syslog-address=" + server.address,
                                     "--log-opt", "syslog-format=rfc3164", "--log-opt", "syslog-facility=0", "busybox", "echo", "hi"])
            #expect(run.status == 0, "\(run)")
            let short = String(Self.id(daemon, "s3").prefix(12))
            let texts = server.wait { !$0.isEmpty }.map { String(decoding: $0, as: UTF8.self) }
            #expect(texts.count == 1 && Self.matches(texts.first ?? "",
                    "<6>[A-Z][a-z]{2} [ 1-3][0-9] [0-9:]{8} \(Self.escaped(Self.hostname)) \(short)\\[[0-9]+\\]: hi\n"), "\(texts)")
        }
    }

    /// dockerd's texts at create, where `docker run` exits 125 (127 for a missing socket file,
    /// which the CLI reads as a missing file).
    @Test func syslogOptionsAreCheckedAtCreateAsDockerdDoes() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let cases: [(String, String, Int32)] = [
                ("foo=bar", "unknown log opt 'foo' for syslog log driver", 125),
                ("syslog-address=http://x", "syslog-address should be in form proto://address, got http://x", 125),
                ("syslog-address=UDP://127.0.0.1:1", "syslog-address should be in form proto://address, got UDP://127.0.0.1:1", 125),
                ("syslog-address=udp://127.0.0.1:notaport", #"parse "udp://127.0.0.1:notaport": invalid port ":notaport" after host"#, 125),
                ("syslog-address=udp://a:b:c", #"parse "udp://a:b:c": invalid port ":c" after host"#, 125),
                ("syslog-address=udp://[::1", #"parse "udp://[::1": missing ']' in host"#, 125),
                ("syslog-address=unix:///nonexistent/log", "stat /nonexistent/log: no such file or directory", 127),
                ("syslog-facility=bogus", "invalid syslog facility", 125),
                ("syslog-facility=24", "invalid syslog facility", 125),
                ("syslog-format=RFC5424", "Invalid syslog format", 125),
                ("cache-disabled=maybe", "invalid value for option cache-disabled: maybe", 125),
                ("cache-foo=1", "unknown log opt 'cache-foo' for syslog log driver", 125),
            ]
            for (option, message, status) in cases {
                let run = daemon.docker(["run", "--rm", "--log-driver", "syslog", "--log-opt", option, "busybox", "true"])
                #expect(run.status == status, "\(option): \(run)")
                #expect(run.stderr.hasPrefix("docker: Error response from daemon: \(message)\n"), "\(option): \(run.stderr)")
            }
            #expect(daemon.docker(["ps", "-aq"]).stdout.isEmpty)
        }
    }

    /// A server that does not answer fails the start with dockerd's dial error; so does a
    /// tag template it cannot render.
    @Test func syslogStartFailsWhenTheServerIsNotThere() throws {
        let closed = try LogListener(.tcp)
        let port = closed.port
        closed.stop()
        try ContainerBehaviourTests.withDaemon { daemon in
            let run = daemon.docker(["run", "--name", "down", "--log-driver", "syslog", "--log-opt", "syslog-address=tcp://127.0.0.1:\(port)",
                                     "busybox", "true"])
            #expect(run.status == 125)
            #expect(run.stderr.hasPrefix("docker: Error response from daemon: failed to initialize logging driver: dial tcp 127.0.0.1:\(port): connect: connection refused\n"),
                    "\(run.stderr)")
            #expect(ContainerBehaviourTests.inspect(daemon, "{{.State.Status}}", "down") == "created\n")
            let tag = daemon.docker(["run", "--rm", "--log-driver", "syslog", "--log-opt", "syslog-address=udp://127.0.0.1:\(port)",
                                     "--log-opt", "tag={{.Bogus}}", "busybox", "true"])
            #expect(tag.status == 125)
            #expect(tag.stderr.hasPrefix("docker: Error response from daemon: failed to initialize logging driver: template: log-tag:1:2: executing \"log-tag\" at <.Bogus>: can't evaluate field Bogus in type *logger.Info\n"),
                    "\(tag.stderr)")
            let gram = daemon.docker(["run", "--rm", "--log-driver", "syslog", "--log-opt", "syslog-address=unixgram://" + daemon.directory,
                                      "busybox", "true"])
            #expect(gram.stderr.hasPrefix("docker: Error response from daemon: failed to initialize logging driver: dial unixgram \(daemon.directory): connect: connection refused\n"),
                    "\(gram.stderr)")
            if access("/dev/log", F_OK) != 0 && access("/var/run/syslog", F_OK) != 0 && access("/var/run/log", F_OK) != 0 {
                let local = daemon.docker(["run", "--rm", "--log-driver", "syslog", "busybox", "true"])
                #expect(local.stderr.hasPrefix("docker: Error response from daemon: failed to initialize logging driver: Unix syslog delivery error\n"),
                        "\(local.stderr)")
            }
        }
    }

    @Test func logsSaysItCannotReadWithoutTheCache() throws {
        let server = try LogListener(.udp)
        defer { server.stop() }
        try ContainerBehaviourTests.withDaemon { daemon in
            let run = daemon.docker(["run", "--name", "nc", "--log-driver", "syslog", "--log-opt", "syslog-address=" + server.address,
                                     "--log-opt", "cache-disabled=true", "busybox", "echo", "hi"])
            #expect(run.status == 0 && run.stdout == "hi\n", "\(run)")
            let logs = daemon.docker(["logs", "nc"])
            #expect(logs.status == 1)
            #expect(logs.stderr == "Error response from daemon: configured logging driver does not support reading\n", "\(logs)")
            let raw = daemon.curl(["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://berth/v1.50/containers/nc/logs?stdout=1"])
            #expect(raw.stdout == "501")
            #expect(server.wait { !$0.isEmpty }.count == 1)
        }
    }

    /// A server that takes nothing: the container's output goes on (records to it are dropped
    /// after a send times out), and the cache keeps every line.
    @Test(arguments: [LogListener.Kind.tcp, .unixgram])
    func aServerThatStopsReadingDoesNotStallTheContainer(kind: LogListener.Kind) throws {
        let server = try LogListener(kind, accepting: false)
        defer { server.stop() }
        try ContainerBehaviourTests.withDaemon { daemon in
            let started = Date()
            let run = daemon.docker(["run", "--name", "stuck", "--log-driver", "syslog", "--log-opt", "syslog-address=" + server.address,
                                     "busybox", "sh", "-c", "seq 1 200000 | sed 's/$/ xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx/'"])
            #expect(run.status == 0)
            #expect(Date().timeIntervalSince(started) < 30, "took \(Date().timeIntervalSince(started)) s")
            let logs = daemon.docker(["logs", "--tail", "1", "stuck"])
            #expect(logs.stdout.hasPrefix("200000 x"), "\(logs.stdout.prefix(200))")
        }
    }

    // MARK: - fluentd

    /// The forward messages of a stream connection.
    static func forwardMessages(_ server: LogListener, count: Int) -> [MessagePackValue] {
        let streams = server.wait { $0.count == 1 && MessagePackValue.all($0[0]).count >= count }
        return streams.first.map { MessagePackValue.all($0) } ?? []
    }

    @Test func fluentdSendsForwardMessagesWithTheContainersFields() throws {
        let server = try LogListener(.tcp)
        defer { server.stop() }
        try ContainerBehaviourTests.withDaemon { daemon in
            let before = Int64(Date().timeIntervalSince1970)
            let run = daemon.docker(["run", "--name", "fl", "--label", "team=a", "-e", "FOO=bar", "--log-driver", "fluentd",
                                     "--log-opt", "fluentd-address=127.0.0.1:\(server.port)", "--log-opt", "labels=team",
                                     "--log-opt", "env=FOO", "busybox", "sh", "-c",
                                     "echo hello; sleep 0.1; echo; sleep 0.1; echo err >&2; sleep 0.1; printf partial"])
            #expect(run.status == 0 && run.stdout == "hello\n\npartial" && run.stderr == "err\n", "\(run)")
            let id = Self.id(daemon, "fl")
            let messages = Self.forwardMessages(server, count: 4)
            #expect(messages.count == 4, "\(messages)")
            let base = ["container_id": id, "container_name": "/fl", "team": "a", "FOO": "bar"]
            let expected: [[String: String]] = [
                base.merging(["source": "stdout", "log": "hello"]) { $1 },
                base.merging(["source": "stdout", "log": ""]) { $1 },
                base.merging(["source": "stderr", "log": "err"]) { $1 },
                base.merging(["source": "stdout", "log": "partial", "partial_message": "true", "partial_ordinal": "1",
                              "partial_last": "false"]) { $1 },
            ]
            for (message, want) in zip(messages, expected) {
                let items = message.items
                #expect(items.count == 4, "\(message)")
                guard items.count == 4 else { continue }
                // [tag, time, record, option]: the short ID, whole seconds, the fields, {}.
                #expect(items[0] == .string(String(id.prefix(12))))
                if case .int(let seconds) = items[1] {
                    #expect(seconds >= before && seconds <= before + 30)
                } else {
                    Issue.record("time \(items[1])")
                }
                var fields = items[2].fields
                let partialID = fields.removeValue(forKey: "partial_id")
                #expect(fields == want)
                #expect(partialID.map { $0.count == 64 } ?? (want["partial_message"] == nil))
                #expect(items[3] == .map([]))
            }
            let logs = daemon.docker(["logs", "fl"])
            #expect(logs.stdout == "hello\n\npartial" && logs.stderr == "err\n", "\(logs)")
        }
    }

    @Test func fluentdTagTemplateSubSecondTimesAndAUnixSocket() throws {
        let server = try LogListener(.unix)
        defer { server.stop() }
        try ContainerBehaviourTests.withDaemon { daemon in
            let run = daemon.docker(["run", "--name", "fu", "--log-driver", "fluentd", "--log-opt", "fluentd-address=" + server.address,
                                     "--log-opt", "tag=docker.{{.Name}}", "--log-opt", "fluentd-sub-second-precision=true",
                                     "busybox", "echo", "hi"])
            #expect(run.status == 0, "\(run)")
            let items = Self.forwardMessages(server, count: 1).first?.items ?? []
            #expect(items.count == 4)
            #expect(items.first == .string("docker.fu"))
            if items.count == 4, case .eventTime(let seconds, _) = items[1] {
                #expect(abs(Int64(seconds) - Int64(Date().timeIntervalSince1970)) < 30)
            } else {
                Issue.record("no EventTime: \(items)")
            }
            #expect(items.count == 4 && items[2].fields["log"] == "hi")
        }
    }

    /// fluentd-request-ack: each message carries a chunk id, and waits for fluentd's ack of it
    /// before the next goes; without acks, the messages stop going (no duplicates, no stall).
    @Test func fluentdRequestAck() throws {
        let server = try LogListener(.tcp)
        defer { server.stop() }
        server.answer { bytes in
            // {"chunk": ID} → {"ack": ID}
            guard let items = MessagePackValue.all(bytes).first?.items, items.count == 4,
                  case .map(let option) = items[3], let chunk = option.first, chunk.0 == "chunk",
                  case .string(let id) = chunk.1 else { return nil }
            return [0x81, 0xA3] + Array("ack".utf8) + [0xA0 | UInt8(id.utf8.count)] + Array(id.utf8)
        }
        let silent = try LogListener(.tcp)
        defer { silent.stop() }
        try ContainerBehaviourTests.withDaemon { daemon in
            let run = daemon.docker(["run", "--name", "ack", "--log-driver", "fluentd", "--log-opt", "fluentd-address=127.0.0.1:\(server.port)",
                                     "--log-opt", "fluentd-request-ack=true", "busybox", "sh", "-c", "echo one; echo two; echo three"])
            #expect(run.status == 0 && run.stdout == "one\ntwo\nthree\n", "\(run)")
            let messages = Self.forwardMessages(server, count: 3)
            #expect(messages.map { $0.items.count > 2 ? $0.items[2].fields["log"] ?? "" : "" } == ["one", "two", "three"])
            var chunks: Set<String> = []
            for message in messages {
                guard message.items.count == 4, case .map(let option) = message.items[3], option.count == 1,
                      case .string(let id) = option[0].1 else {
                    Issue.record("no chunk: \(message)")
                    continue
                }
                #expect(option[0].0 == "chunk" && id.count == 24 && Data(base64Encoded: id)?.count == 16)
                chunks.insert(id)
            }
            #expect(chunks.count == 3)

            // A server that never acks: the first message waits a second, the rest are dropped.
            let started = Date()
            let quiet = daemon.docker(["run", "--name", "noack", "--log-driver", "fluentd", "--log-opt", "fluentd-address=127.0.0.1:\(silent.port)",
                                       "--log-opt", "fluentd-request-ack=true", "busybox", "sh", "-c", "echo one; echo two; echo three"])
            #expect(quiet.status == 0 && quiet.stdout == "one\ntwo\nthree\n" && Date().timeIntervalSince(started) < 8, "\(quiet)")
            #expect(MessagePackValue.all(silent.wait(2) { _ in false }.first ?? []).count == 1)
            #expect(daemon.docker(["logs", "noack"]).stdout == "one\ntwo\nthree\n")
        }
    }

    @Test func fluentdOptionsAndStartFailuresAsDockerd() throws {
        let closed = try LogListener(.tcp)
        let port = closed.port
        closed.stop()
        try ContainerBehaviourTests.withDaemon { daemon in
            let atCreate: [(String, String)] = [
                ("foo=bar", "unknown log opt 'foo' for fluentd log driver"),
                ("fluentd-address=http://x", #"invalid fluentd-address http://x: strconv.Atoi: parsing "//x": invalid syntax"#),
                ("fluentd-address=tcp://127.0.0.1:x", #"invalid fluentd-address tcp://127.0.0.1:x: parse "tcp://127.0.0.1:x": invalid port ":x" after host"#),
                ("fluentd-address=[::1", "invalid fluentd-address [::1: address [::1: missing ']' in address"),
                ("fluentd-async=x", #"strconv.ParseBool: parsing "x": invalid syntax"#),
                ("fluentd-buffer-limit=-1", "invalid size: '-1'"),
                ("fluentd-retry-wait=x", #"time: invalid duration "x""#),
                ("fluentd-max-retries=-1", #"strconv.ParseUint: parsing "-1": invalid syntax"#),
            ]
            for (option, message) in atCreate {
                let create = daemon.docker(["create", "--log-driver", "fluentd", "--log-opt", option, "busybox", "true"])
                #expect(create.status == 1 && create.stderr == "Error response from daemon: \(message)\n", "\(option): \(create)")
            }
            let both = daemon.docker(["create", "--log-driver", "fluentd", "--log-opt", "fluentd-async=true",
                                      "--log-opt", "fluentd-async-connect=true", "busybox", "true"])
            #expect(both.stderr == "Error response from daemon: conflicting options: cannot specify both 'fluentd-async' and 'fluentd-async-connect\n")
            let atStart: [(String, String)] = [
                ("fluentd-address=127.0.0.1:\(port)", "dial tcp 127.0.0.1:\(port): connect: connection refused"),
                ("fluentd-address=udp://127.0.0.1:\(port)", "unknown network udp"),
                ("fluentd-address=unix:///nonexistent/f.sock", "dial unix /nonexistent/f.sock: connect: no such file or directory"),
                ("fluentd-address=127.0.0.1:99999", "dial tcp: address 99999: invalid port"),
            ]
            for (option, message) in atStart {
                let run = daemon.docker(["run", "--rm", "--log-driver", "fluentd", "--log-opt", option, "busybox", "true"])
                #expect(run.status == (message.contains("no such file") ? 127 : 125), "\(option): \(run)")
                #expect(run.stderr.hasPrefix("docker: Error response from daemon: failed to initialize logging driver: \(message)\n"),
                        "\(option): \(run.stderr)")
            }
            // fluentd-async: the container starts without fluentd; its records are kept in the cache.
            let async = daemon.docker(["run", "--name", "fa", "--log-driver", "fluentd", "--log-opt", "fluentd-address=127.0.0.1:\(port)",
                                       "--log-opt", "fluentd-async=true", "busybox", "echo", "kept"])
            #expect(async.status == 0 && async.stdout == "kept\n", "\(async)")
            #expect(daemon.docker(["logs", "fa"]).stdout == "kept\n")
        }
    }

    // MARK: - gelf

    /// A GELF datagram's JSON: gunzipped or inflated (by the host's python3) as its first
    /// bytes say, or as it is.
    static func gelfJSON(_ datagram: [UInt8]) -> String {
        guard datagram.first == 0x1F || datagram.first == 0x78 else { return String(decoding: datagram, as: UTF8.self) }
        let file = NSTemporaryDirectory() + "/gelf-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: file, contents: Data(datagram))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let method = datagram.first == 0x1F ? "gzip.decompress" : "zlib.decompress"
        return Harness.run("/usr/bin/python3", ["-c", "import gzip, zlib, sys; sys.stdout.write(\(method)(open(sys.argv[1], 'rb').read()).decode())", file]).stdout
    }

    @Test func gelfOverUDPCompressedWithTheContainersFields() throws {
        let server = try LogListener(.udp)
        defer { server.stop() }
        try ContainerBehaviourTests.withDaemon { daemon in
            let before = Date().timeIntervalSince1970
            let run = daemon.docker(["run", "--name", "gl", "--label", "team=a", "-e", "FOO=bar", "--log-driver", "gelf",
                                     "--log-opt", "gelf-address=" + server.address, "--log-opt", "labels=team", "--log-opt", "env=FOO",
                                     "busybox", "sh", "-c", "echo hello; echo; sleep 0.1; echo '<err>' >&2"])
            #expect(run.status == 0, "\(run)")
            let id = Self.id(daemon, "gl")
            let created = ContainerBehaviourTests.inspect(daemon, "{{.Created}}", "gl").trimmingCharacters(in: .whitespacesAndNewlines)
            let image = ContainerBehaviourTests.inspect(daemon, "{{.Image}}", "gl").trimmingCharacters(in: .whitespacesAndNewlines)
            let datagrams = server.wait { $0.count >= 2 }
            #expect(datagrams.count == 2, "\(datagrams.count) datagrams")  // the empty line is not sent
            #expect(datagrams.allSatisfy { $0.starts(with: [0x1F, 0x8B]) })  // gzip by default
            let texts = datagrams.map(Self.gelfJSON)
            let extra = #","_FOO":"bar","_command":"sh -c echo hello; echo; sleep 0.1; echo '\u003cerr\u003e' \u003e\u00262","#
                + #""_container_id":"\#(id)","_container_name":"gl","_created":"\#(created)","_image_id":"\#(image)","#
                + #""_image_name":"busybox","_tag":"\#(id.prefix(12))","_team":"a"}"#
            let head = #"\{"version":"1\.1","host":""# + Self.escaped(Self.hostname) + #"","short_message":""#
            let time = #"","timestamp":([0-9]+)(\.[0-9]{1,3})?,"level":"#
            for (index, (message, level)) in [("hello", 6), (#"\u003cerr\u003e"#, 3)].enumerated() where index < texts.count {
                #expect(Self.matches(texts[index], head + Self.escaped(message) + time + "\(level)" + Self.escaped(extra)), "\(texts[index])")
                let stamp = texts[index].firstMatch(of: /"timestamp":([0-9.]+)/).flatMap { Double($0.1) } ?? 0
                #expect(stamp >= before - 1 && stamp <= Date().timeIntervalSince1970 + 1)
            }
            let logs = daemon.docker(["logs", "gl"])
            #expect(logs.stdout == "hello\n\n" && logs.stderr == "<err>\n", "\(logs)")
            // dockerd's cache keeps no attributes: --details shows an empty prefix.
            #expect(daemon.docker(["logs", "--details", "gl"]).stdout == " hello\n \n", "\(logs)")
        }
    }

    @Test func gelfZlibNoneChunksAndTCP() throws {
        let udp = try LogListener(.udp)
        defer { udp.stop() }
        let tcp = try LogListener(.tcp)
        defer { tcp.stop() }
        try ContainerBehaviourTests.withDaemon { daemon in
            for type in ["zlib", "none"] {
                let run = daemon.docker(["run", "--rm", "--log-driver", "gelf", "--log-opt", "gelf-address=" + udp.address,
                                         "--log-opt", "gelf-compression-type=" + type, "--log-opt", "gelf-compression-level=9",
                                         "busybox", "echo", type])
                #expect(run.status == 0, "\(run)")
            }
            let two = udp.wait { $0.count >= 2 }
            #expect(two.first?.first == 0x78 && two.last?.first == UInt8(ascii: "{"))
            #expect(two.map(Self.gelfJSON).map { $0.contains(#""short_message":"zlib""#) || $0.contains(#""short_message":"none""#) } == [true, true])
            // A message bigger than a datagram goes in GELF chunks, which join up to it.
            let long = String(repeating: "0123456789", count: 500)
            #expect(daemon.docker(["run", "--rm", "--log-driver", "gelf", "--log-opt", "gelf-address=" + udp.address,
                                   "--log-opt", "gelf-compression-type=none", "busybox", "sh", "-c",
                                   "yes 0123456789 | head -n 500 | tr -d '\\n'; echo"]).status == 0)
            // ~5350 bytes of JSON: go-gelf's count is bytes / 1408 + 1.
            let chunks = Array(udp.wait { $0.count >= 2 + 4 }.dropFirst(2))
            #expect(chunks.count == 4 && chunks.allSatisfy { $0.starts(with: [0x1E, 0x0F]) && $0.count <= 1420 },
                    "\(chunks.map { ($0.count, $0.prefix(12)) })")
            #expect(chunks.enumerated().allSatisfy { $0.element[10] == UInt8($0.offset) && $0.element[11] == 4 })
            let joined = String(decoding: chunks.flatMap { $0.dropFirst(12) }, as: UTF8.self)
            #expect(joined.contains(#""short_message":"\#(long)""#))

            // tcp: plain JSON, each message ending in a NUL byte.
            let run = daemon.docker(["run", "--name", "gt", "--log-driver", "gelf", "--log-opt", "gelf-address=" + tcp.address,
                                     "busybox", "sh", "-c", "echo one; echo two"])
            #expect(run.status == 0, "\(run)")
            let stream = tcp.wait { ($0.first?.filter { $0 == 0 }.count ?? 0) >= 2 }.first ?? []
            let messages = stream.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            #expect(messages.count == 3 && messages.last == "", "\(messages)")
            #expect(messages.first?.contains(#""short_message":"one""#) == true && messages.dropFirst().first?.contains(#""short_message":"two""#) == true)
        }
    }

    @Test func gelfOptionsAndStartFailuresAsDockerd() throws {
        let closed = try LogListener(.tcp)
        let port = closed.port
        closed.stop()
        try ContainerBehaviourTests.withDaemon { daemon in
            let atCreate: [([String], String)] = [
                ([], "gelf-address is a required parameter"),
                (["foo=bar"], "gelf-address is a required parameter"),
                (["gelf-address=http://x"], "gelf-address should be in form proto://address, got http://x"),
                (["gelf-address=udp://127.0.0.1"], "gelf: please provide gelf-address as proto://host:port"),
                (["gelf-address=udp://127.0.0.1:x"], #"parse "udp://127.0.0.1:x": invalid port ":x" after host"#),
                (["gelf-address=unix:///x"], "gelf: endpoint needs to be TCP or UDP"),
                (["gelf-address=udp://127.0.0.1:1", "foo=bar"], #"unknown log opt "foo" for gelf log driver"#),
                (["gelf-address=udp://127.0.0.1:1", "gelf-tcp-max-reconnect=1"], #""gelf-tcp-max-reconnect" is only valid for TCP"#),
                (["gelf-address=tcp://127.0.0.1:1", "gelf-tcp-reconnect-delay=-1"], #""gelf-tcp-reconnect-delay" must be a positive integer"#),
                (["gelf-address=tcp://127.0.0.1:1", "gelf-compression-type=gzip"], "compression is only supported on UDP"),
                (["gelf-address=udp://127.0.0.1:1", "gelf-compression-level=10"], #"unknown value "10" for log opt "gelf-compression-level" for gelf log driver"#),
                (["gelf-address=udp://127.0.0.1:1", "gelf-compression-type=lz4"], #"unknown value "lz4" for log opt "gelf-compression-type" for gelf log driver"#),
            ]
            for (options, message) in atCreate {
                let create = daemon.docker(["create", "--log-driver", "gelf"] + options.flatMap { ["--log-opt", $0] } + ["busybox", "true"])
                #expect(create.status == 1 && create.stderr == "Error response from daemon: \(message)\n", "\(options): \(create)")
            }
            let run = daemon.docker(["run", "--rm", "--log-driver", "gelf", "--log-opt", "gelf-address=tcp://127.0.0.1:\(port)", "busybox", "true"])
            #expect(run.status == 125)
            #expect(run.stderr.hasPrefix("docker: Error response from daemon: failed to initialize logging driver: gelf: cannot connect to GELF endpoint: 127.0.0.1:\(port) dial tcp 127.0.0.1:\(port): connect: connection refused\n"),
                    "\(run.stderr)")
            #expect(daemon.docker(["info", "--format", "{{json .Plugins.Log}}"]).stdout
                    == #"["fluentd","gelf","journald","json-file","local","syslog"]"# + "\n")
        }
    }

    // MARK: - the daemon's default

    /// daemon.json's `log-driver` and `log-opts`: a container that names no driver gets them
    /// (inspect shows them, as dockerd's does), and `docker logs -f` follows the local cache.
    @Test func theDaemonsDefaultRemoteDriverAndFollowingTheCache() throws {
        let server = try LogListener(.udp)
        defer { server.stop() }
        let configuration = #"{"cgroup-parent": "/berth-test", "log-driver": "gelf", "log-opts": {"gelf-address": "\#(server.address)", "gelf-compression-type": "none"}}"#
        try ContainerBehaviourTests.withDaemon(configuration) { daemon in
            #expect(daemon.docker(["info", "--format", "{{.LoggingDriver}}"]).stdout == "gelf\n")
            let run = daemon.docker(["run", "-d", "--name", "dd", "busybox", "sh", "-c", "echo first; sleep 1; echo second"])
            #expect(run.status == 0, "\(run)")
            let follow = daemon.docker(["logs", "-f", "dd"])
            #expect(follow.status == 0 && follow.stdout == "first\nsecond\n", "\(follow)")
            #expect(ContainerBehaviourTests.inspect(daemon, "{{json .HostConfig.LogConfig}}", "dd")
                    == #"{"Type":"gelf","Config":{"gelf-address":"\#(server.address)","gelf-compression-type":"none"}}"# + "\n")
            let texts = server.wait { $0.count >= 2 }.map { String(decoding: $0, as: UTF8.self) }
            #expect(texts.count == 2 && texts.first?.contains(#""short_message":"first""#) == true
                    && texts.last?.contains(#""short_message":"second""#) == true, "\(texts)")
            // A container's own driver does not take the daemon's options.
            let own = daemon.docker(["run", "--rm", "--log-driver", "json-file", "busybox", "echo", "plain"])
            #expect(own.status == 0 && own.stdout == "plain\n", "\(own)")
        }
    }
}
