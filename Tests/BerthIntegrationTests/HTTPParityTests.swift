import Foundation
import Testing

/// Raw Engine API requests as SDKs and scripts send them (docker-py, Go clients, curl) and
/// the CLI never does, with dockerd's answers: status, `{"message": ...}` and headers. The
/// words are current dockerd's (API 1.50), checked against dockerd 20.10 where they agree.
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct HTTPParityTests {
    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: String

        /// The `message` of a JSON error body.
        var message: String? {
            guard let data = body.data(using: .utf8),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
            return object["message"] as? String
        }

        var json: Any? { body.data(using: .utf8).flatMap { try? JSONSerialization.jsonObject(with: $0) } }
    }

    /// One request through curl, the path sent as it is; `body` nil sends none.
    static func send(_ daemon: TestDaemon, _ method: String, _ path: String, body: String? = nil,
                     headers: [String] = ["Content-Type: application/json"]) -> Answer {
        var arguments = ["-i", "--path-as-is", "-X", method, "-m", "20"]
        if method == "HEAD" { arguments = ["-I", "--path-as-is", "-m", "20"] }
        // An empty -H "Name:" removes curl's own header.
        for header in headers { arguments += ["-H", header] }
        if let body { arguments += ["--data-binary", body] }
        let output = daemon.curl(arguments + ["http://berth" + path]).stdout
        let (head, body) = output.range(of: "\r\n\r\n").map { (String(output[..<$0.lowerBound]), String(output[$0.upperBound...])) }
            ?? (output, "")
        let lines = head.components(separatedBy: "\r\n")
        let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Answer(status: status, headers: fields, body: body)
    }

    @Test func routingVersionsAndSystemRoutes() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            // OPTIONS is a 200 on any path (dockerd's CORS preflight route).
            let options = Self.send(daemon, "OPTIONS", "/v1.41/nothing/here")
            #expect(options.status == 200 && options.body.isEmpty, "\(options)")
            // A path that is not clean is redirected to the clean one, query kept.
            let doubled = Self.send(daemon, "GET", "//containers/json?all=1&x=%20")
            #expect(doubled.status == 301 && doubled.headers["location"] == "/containers/json?all=1&x=%20", "\(doubled)")
            let encoded = Self.send(daemon, "GET", "/v1.41/containers/%2Fweb/json")
            #expect(encoded.status == 301 && encoded.headers["location"] == "/v1.41/containers/web/json", "\(encoded)")
            // A trailing slash is another path.
            let trailing = Self.send(daemon, "GET", "/v1.41/containers/json/")
            #expect(trailing.status == 404 && trailing.message == "page not found", "\(trailing)")
            // "/v1" is a version (digits and dots), too old, not an unknown path.
            let v1 = Self.send(daemon, "GET", "/v1/containers/json")
            #expect(v1.status == 400 && v1.message == "client version 1 is too old. Minimum supported API version is 1.40, "
                + "please upgrade your client to a newer version", "\(v1)")

            let head = Self.send(daemon, "HEAD", "/_ping")
            #expect(head.status == 200 && head.headers["content-length"] == "0" && head.headers["swarm"] == "inactive", "\(head)")
            let ping = Self.send(daemon, "GET", "/_ping")
            #expect(ping.body == "OK" && ping.headers["content-length"] == "2" && ping.headers["swarm"] == "inactive", "\(ping)")

            // HEAD matches only its own routes, as in dockerd's router.
            #expect(Self.send(daemon, "HEAD", "/v1.41/containers/json").status == 404)
            // A query Go cannot parse is refused before anything else.
            let escape = Self.send(daemon, "GET", "/v1.41/containers/json?all=%zz")
            #expect(escape.status == 400 && escape.message == #"invalid URL escape "%zz""#, "\(escape)")
            let semicolon = Self.send(daemon, "GET", "/v1.41/containers/json?all=1;size=1")
            #expect(semicolon.status == 400 && semicolon.message == "invalid semicolon separator in query", "\(semicolon)")

            let version = try #require(Self.send(daemon, "GET", "/version").json as? [String: Any])
            #expect(version["Experimental"] == nil, "Experimental is omitempty in dockerd's answer")
            let info = try #require(Self.send(daemon, "GET", "/info").json as? [String: Any])
            #expect(info.keys.contains("GenericResources") && info["CDISpecDirs"] as? [Any] != nil)

            // /system/df's `type` (API 1.42): only what is asked for, the rest null; an unknown type refused.
            let containersOnly = try #require(Self.send(daemon, "GET", "/v1.50/system/df?type=container").json as? [String: Any])
            #expect(containersOnly["Containers"] is [Any] && containersOnly["Images"] is NSNull && containersOnly["BuildCache"] is NSNull,
                    "\(containersOnly)")
            let bogusType = Self.send(daemon, "GET", "/v1.50/system/df?type=bogus")
            #expect(bogusType.status == 400 && bogusType.message == "unknown object type: bogus", "\(bogusType)")
            let oldClient = try #require(Self.send(daemon, "GET", "/v1.41/system/df?type=bogus").json as? [String: Any])
            #expect(oldClient["Images"] is [Any] && oldClient["BuildCache"] is [Any], "\(oldClient)")

            let emptyName = Self.send(daemon, "DELETE", "/v1.41/containers/")
            #expect(emptyName.status == 400 && emptyName.message == "invalid name or ID supplied: \"\"", "\(emptyName)")
            let checkpoints = Self.send(daemon, "GET", "/v1.41/containers/x/checkpoints")
            #expect(checkpoints.status == 501 && checkpoints.message == "This experimental feature is disabled by default. "
                + "Start the Docker daemon in experimental mode in order to enable it.", "\(checkpoints)")

            // Filters: null is none, malformed JSON one short message, the map form counts every key.
            #expect(Self.send(daemon, "GET", "/v1.41/containers/json?filters=null").status == 200)
            let malformed = Self.send(daemon, "GET", "/v1.41/containers/json?filters=%7B")
            #expect(malformed.status == 400 && malformed.message == "invalid filter", "\(malformed)")
            let mixed = Self.send(daemon, "GET", "/v1.41/containers/json?filters=%7B%22status%22%3A%22running%22%7D")
            #expect(mixed.status == 400 && mixed.message == "invalid filter", "\(mixed)")

            // strconv's errors pass through dockerd untyped: 500s in Go's words.
            let limit = Self.send(daemon, "GET", "/v1.41/containers/json?limit=99999999999999999999")
            #expect(limit.status == 500 && limit.message == #"strconv.Atoi: parsing "99999999999999999999": value out of range"#, "\(limit)")
            let since = Self.send(daemon, "GET", "/v1.41/events?since=x")
            #expect(since.status == 500 && since.message == #"strconv.ParseInt: parsing "x": invalid syntax"#, "\(since)")
        }
    }

    @Test func createBodiesAndContentTypes() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            let create = "/v1.41/containers/create"
            let empty = Self.send(daemon, "POST", create, body: "")
            #expect(empty.status == 400 && empty.message == "invalid JSON: got EOF while reading request body", "\(empty)")
            let null = Self.send(daemon, "POST", create, body: "null")
            #expect(null.status == 400 && null.message == "config cannot be empty in order to create a container", "\(null)")
            let cut = Self.send(daemon, "POST", create, body: #"{"Image":"busybox""#)
            #expect(cut.status == 400 && cut.message == "invalid JSON: unexpected EOF", "\(cut)")
            let syntax = Self.send(daemon, "POST", create, body: #"{"Image":busybox}"#)
            #expect(syntax.message == "invalid JSON: invalid character 'b' looking for beginning of value", "\(syntax)")
            let trailing = Self.send(daemon, "POST", create, body: #"{"Image":"busybox"} x"#)
            #expect(trailing.status == 400 && trailing.message == "unexpected content after JSON", "\(trailing)")
            let env = Self.send(daemon, "POST", create, body: #"{"Image":"busybox","Env":{"A":"B"}}"#)
            #expect(env.status == 400 && env.message
                == "invalid JSON: json: cannot unmarshal object into Go struct field CreateRequest.Env of type []string", "\(env)")
            let memory = Self.send(daemon, "POST", create, body: #"{"Image":"busybox","HostConfig":{"Memory":"1g"}}"#)
            #expect(memory.message == "invalid JSON: json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Memory of type int64",
                    "\(memory)")

            let plain = Self.send(daemon, "POST", create, body: #"{"Image":"busybox"}"#, headers: ["Content-Type: text/plain"])
            #expect(plain.status == 400 && plain.message == "unsupported Content-Type header (text/plain): must be 'application/json'", "\(plain)")
            // curl sends x-www-form-urlencoded for -d unless told otherwise; "Content-Type:" removes the header.
            let none = Self.send(daemon, "POST", create, body: #"{"Image":"busybox"}"#, headers: ["Content-Type:"])
            #expect(none.status == 400 && none.message == "malformed Content-Type header (): mime: no media type", "\(none)")
            let charset = Self.send(daemon, "POST", create + "?name=cs", body: #"{"Image":"busybox"}"#,
                                    headers: ["Content-Type: application/json; charset=utf-8"])
            #expect(charset.status == 201, "\(charset)")
            let chunked = Self.send(daemon, "POST", create + "?name=ch", body: #"{"Image":"busybox"}"#,
                                    headers: ["Content-Type: application/json", "Transfer-Encoding: chunked"])
            #expect(chunked.status == 201, "\(chunked)")
            // Go matches keys to fields ignoring case; a label's own key stays as it is.
            let lower = Self.send(daemon, "POST", create + "?name=lc", body: #"{"image":"busybox","cmd":["echo","hi"],"labels":{"Mixed":"1"}}"#)
            #expect(lower.status == 201, "\(lower)")
            #expect(daemon.docker(["inspect", "-f", "{{.Config.Image}} {{json .Config.Cmd}} {{json .Config.Labels}}", "lc"]).stdout
                == "busybox [\"echo\",\"hi\"] {\"Mixed\":\"1\"}\n")
            #expect(daemon.docker(["rm", "cs", "ch", "lc"]).status == 0)

            // Networks and volumes read their bodies the same way.
            let unnamed = Self.send(daemon, "POST", "/v1.41/networks/create", body: "")
            #expect(unnamed.status == 400 && unnamed.message == "invalid name: name is empty", "\(unnamed)")
            let labels = Self.send(daemon, "POST", "/v1.41/networks/create", body: #"{"Name":"n","Labels":[]}"#)
            #expect(labels.message == "invalid JSON: json: cannot unmarshal array into Go struct field CreateRequest.Labels of type map[string]string",
                    "\(labels)")
            let connect = Self.send(daemon, "POST", "/v1.41/networks/bridge/connect", body: "{}")
            #expect(connect.status == 400 && connect.message == "invalid name or ID supplied: \"\"", "\(connect)")
            let volume = Self.send(daemon, "POST", "/v1.41/volumes/create", body: #"{"Name":5}"#)
            #expect(volume.status == 400 && volume.message
                == "invalid JSON: json: cannot unmarshal number into Go struct field CreateOptions.Name of type string", "\(volume)")
            let volumePlain = Self.send(daemon, "POST", "/v1.41/volumes/create", body: "{}", headers: ["Content-Type: text/plain"])
            #expect(volumePlain.status == 400, "\(volumePlain)")
            #expect(daemon.docker(["volume", "ls", "-q"]).stdout.isEmpty)
        }
    }

    @Test func containerRoutesWithOddQueriesAndBodies() throws {
        try ContainerBehaviourTests.withDaemon { daemon in
            #expect(daemon.docker(["run", "-d", "--name", "up", "busybox", "sleep", "100"]).status == 0)
            #expect(daemon.docker(["run", "--name", "down", "busybox", "true"]).status == 0)

            // Query booleans: "no" is false; the first of repeated keys counts.
            func names(_ query: String) -> [String] {
                (Self.send(daemon, "GET", "/v1.41/containers/json?" + query).json as? [[String: Any]] ?? [])
                    .compactMap { ($0["Names"] as? [String])?.first }.sorted()
            }
            #expect(names("all=no") == ["/up"])
            #expect(names("all=1&all=0") == ["/down", "/up"])
            #expect(names("all=0&all=1") == ["/up"])

            // Resizing a container without a TTY is nothing to do, as with dockerd's runtime.
            #expect(Self.send(daemon, "POST", "/v1.41/containers/up/resize?h=30&w=100").status == 200)
            let negative = Self.send(daemon, "POST", "/v1.41/containers/up/resize?h=-1&w=100")
            #expect(negative.status == 400 && negative.message == #"invalid resize height "-1": value out of range"#, "\(negative)")
            let missing = Self.send(daemon, "POST", "/v1.41/containers/up/resize")
            #expect(missing.status == 400 && missing.message == #"invalid resize height "": invalid syntax"#, "\(missing)")

            let timeout = Self.send(daemon, "POST", "/v1.41/containers/up/stop?t=x")
            #expect(timeout.status == 500 && timeout.message == #"strconv.Atoi: parsing "x": invalid syntax"#, "\(timeout)")
            let noStream = Self.send(daemon, "GET", "/v1.41/containers/missing/logs")
            #expect(noStream.status == 400 && noStream.message == "Bad parameters: you must choose at least one stream", "\(noStream)")
            let logs = Self.send(daemon, "GET", "/v1.41/containers/down/logs?stdout=1&since=99999999999999999999")
            #expect(logs.status == 500 && logs.message == #"strconv.ParseInt: parsing "99999999999999999999": value out of range"#, "\(logs)")

            // Exec: no command in an empty body; the Content-Type checked.
            let noCommand = Self.send(daemon, "POST", "/v1.41/containers/up/exec", body: "")
            #expect(noCommand.status == 400 && noCommand.message == "No exec command specified", "\(noCommand)")
            let execPlain = Self.send(daemon, "POST", "/v1.41/containers/up/exec", body: #"{"Cmd":["true"]}"#, headers: ["Content-Type: text/plain"])
            #expect(execPlain.status == 400 && execPlain.message == "unsupported Content-Type header (text/plain): must be 'application/json'")
            let execCmd = Self.send(daemon, "POST", "/v1.41/containers/up/exec", body: #"{"Cmd":"true"}"#)
            #expect(execCmd.message == "invalid JSON: json: cannot unmarshal string into Go struct field ExecOptions.Cmd of type []string", "\(execCmd)")
            let execStart = Self.send(daemon, "POST", "/v1.41/exec/nothing/start", body: "{")
            #expect(execStart.status == 400 && execStart.message == "invalid JSON: unexpected EOF", "\(execStart)")

            // An exec without a TTY is resized as a container without one: nothing to do, 200.
            let exec = try #require(Self.send(daemon, "POST", "/v1.41/containers/up/exec", body: #"{"Cmd":["sleep","5"]}"#).json as? [String: Any])
            let execID = try #require(exec["Id"] as? String)
            #expect(Self.send(daemon, "POST", "/v1.41/exec/\(execID)/start", body: #"{"Detach":true}"#).status == 200)
            #expect(Self.send(daemon, "POST", "/v1.41/exec/\(execID)/resize?h=10&w=10").status == 200)
            let again = Self.send(daemon, "POST", "/v1.41/exec/\(execID)/start", body: #"{"Detach":true}"#)
            #expect(again.status == 409 && again.message == "exec command \(execID) is already running", "\(again)")

            // A resize sent before the start waits for it, as dockerd's does (up to 10 s).
            let early = try #require(Self.send(daemon, "POST", "/v1.41/containers/up/exec", body: #"{"Cmd":["sleep","3"],"Tty":true}"#).json
                as? [String: Any])
            let earlyID = try #require(early["Id"] as? String)
            let resize = Process()
            resize.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            resize.arguments = ["-s", "-m", "15", "-o", "/dev/null", "-w", "%{http_code}", "--unix-socket", daemon.socket, "-X", "POST",
                                "http://berth/v1.41/exec/\(earlyID)/resize?h=20&w=60"]
            let output = Pipe()
            resize.standardOutput = output
            try resize.run()
            usleep(300_000)
            #expect(Self.send(daemon, "POST", "/v1.41/exec/\(earlyID)/start", body: #"{"Detach":true}"#).status == 200)
            resize.waitUntilExit()
            #expect(String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "200")

            // An update without a body updates nothing.
            let update = Self.send(daemon, "POST", "/v1.41/containers/up/update", body: "")
            #expect(update.status == 200 && update.body == "{\"Warnings\":null}\n", "\(update)")

            let startBody = Self.send(daemon, "POST", "/v1.41/containers/down/start", body: #"{"Binds":[]}"#)
            #expect(startBody.status == 400 && startBody.message
                == "starting container with non-empty request body was deprecated since API v1.22 and removed in v1.24", "\(startBody)")
            #expect(Self.send(daemon, "POST", "/v1.41/containers/up/start", body: "{}").status == 304)

            let unpause = Self.send(daemon, "POST", "/v1.41/containers/up/unpause")
            #expect(unpause.status == 500 && unpause.message?.hasSuffix("is not paused") == true, "\(unpause)")

            // `signal` on stop came with API 1.42: dockerd ignores it from older clients.
            let newer = Self.send(daemon, "POST", "/v1.42/containers/up/stop?t=0&signal=BOGUS")
            #expect(newer.status == 400 && newer.message == "invalid signal: BOGUS", "\(newer)")
            #expect(Self.send(daemon, "POST", "/v1.41/containers/up/stop?t=0&signal=BOGUS").status == 204)
            #expect(daemon.docker(["rm", "up", "down"]).status == 0)

            // An ID prefix that more than one container has is a 400. Seventeen IDs share a
            // first digit for sure.
            var ids: [String] = []
            for index in 0..<17 {
                ids.append(daemon.docker(["create", "--name", "p\(index)", "busybox", "true"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            let shared = try #require(Dictionary(grouping: ids, by: { $0.prefix(1) }).first(where: { $0.value.count > 1 })?.key)
            let ambiguous = Self.send(daemon, "GET", "/v1.41/containers/\(shared)/json")
            #expect(ambiguous.status == 400 && ambiguous.message == "multiple IDs found with provided prefix: \(shared)", "\(ambiguous)")
            #expect(daemon.docker(["rm"] + ids).status == 0)
        }
    }
}
