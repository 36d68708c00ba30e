import Foundation
import Testing

/// Parallel layer transfers: a pull fetches up to three layers at once and a push sends up to
/// five, as dockerd (daemon.json's max-concurrent-downloads / max-concurrent-uploads), with
/// the others shown waiting; the limits validated as dockerd validates them.
@Suite(.enabled(if: Harness.isRoot, "berthd runs as root"))
struct TransferConcurrencyTests {
    /// A docker-archive with `layers` layers of random bytes (`kilobytes` each).
    static func makeLayeredImage(_ path: String, reference: String, layers: Int, kilobytes: Int) throws {
        let make = Harness.run("/usr/bin/python3", ["-c", """
            import hashlib, io, json, os, sys, tarfile
            path, reference, count, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) << 10
            members, diffs = [], []
            for index in range(count):
                layer = io.BytesIO()
                with tarfile.open(fileobj=layer, mode='w') as t:
                    data = os.urandom(size); info = tarfile.TarInfo('blob%d' % index); info.size = len(data)
                    t.addfile(info, io.BytesIO(data))
                layer = layer.getvalue(); diffs.append('sha256:' + hashlib.sha256(layer).hexdigest())
                members.append(('l%d/layer.tar' % index, layer))
            config = json.dumps({'architecture': 'amd64', 'os': 'linux', 'rootfs': {'type': 'layers', 'diff_ids': diffs}}).encode()
            cid = hashlib.sha256(config).hexdigest()
            manifest = json.dumps([{'Config': cid + '.json', 'RepoTags': [reference], 'Layers': [m[0] for m in members]}]).encode()
            with tarfile.open(path, 'w') as t:
                for name, body in members + [(cid + '.json', config), ('manifest.json', manifest)]:
                    info = tarfile.TarInfo(name); info.size = len(body); t.addfile(info, io.BytesIO(body))
            """, path, reference, String(layers), String(kilobytes)])
        guard make.status == 0 else { throw TestFailure("cannot make \(path): \(make.stderr)") }
    }

    /// How many blob GETs the registry began before it logged the end of the first layer.
    static func blobRequestsBeforeFirstLayerEnds(_ log: String, repository: String) -> Int {
        var count = 0
        for line in log.split(separator: "\n") {
            if line == "layer sent whole" { break }
            if line.hasPrefix("GET /v2/\(repository)/blobs/") { count += 1 }
        }
        return count
    }

    @Test func pullFetchesThreeLayersAtOnceAndPushSendsFive() throws {
        let registry = try TestRegistry(["--slow"])
        let source = try TestDaemon(configuration: #"{"max-concurrent-uploads": 1}"#)
        let archive = source.directory + "/layered.tar"
        let name = registry.name("layered")
        try Self.makeLayeredImage(archive, reference: name, layers: 4, kilobytes: 384)
        #expect(source.docker(["load", "-q", "-i", archive]).status == 0)
        // One upload at a time: the three others wait.
        let push = source.docker(["push", name])
        #expect(push.status == 0, "\(push.stderr)")
        #expect(push.stdout.components(separatedBy: ": Waiting\n").count - 1 == 3, "\(push.stdout)")
        #expect(push.stdout.components(separatedBy: ": Pushed\n").count - 1 == 4, "\(push.stdout)")
        let id = source.docker(["inspect", "-f", "{{.Id}}", name]).stdout

        // dockerd's default: three at once, the fourth waits.
        let parallel = try TestDaemon()
        let start = Date()
        let pull = parallel.docker(["pull", name])
        let parallelTime = Date().timeIntervalSince(start)
        #expect(pull.status == 0, "\(pull.stderr)")
        #expect(pull.stdout.components(separatedBy: ": Waiting\n").count - 1 == 1, "\(pull.stdout)")
        #expect(pull.stdout.components(separatedBy: ": Pull complete\n").count - 1 == 4, "\(pull.stdout)")
        #expect(parallel.docker(["inspect", "-f", "{{.Id}}", name]).stdout == id)
        // The config, then three layers begun before the first one ended (a fourth may start
        // as the first one's last bytes go out, before the registry logs its end).
        #expect(Self.blobRequestsBeforeFirstLayerEnds(registry.requests, repository: "layered") >= 4, "\(registry.requests)")

        // One at a time, as the limit says.
        let serial = try TestDaemon(configuration: #"{"max-concurrent-downloads": 1}"#)
        let mark = registry.requests.count
        let serialStart = Date()
        let one = serial.docker(["pull", name])
        let serialTime = Date().timeIntervalSince(serialStart)
        #expect(one.status == 0, "\(one.stderr)")
        #expect(one.stdout.components(separatedBy: ": Waiting\n").count - 1 == 3, "\(one.stdout)")
        #expect(Self.blobRequestsBeforeFirstLayerEnds(String(registry.requests.dropFirst(mark)), repository: "layered") <= 3)
        #expect(serial.docker(["inspect", "-f", "{{.Id}}", name]).stdout == id)
        print("pull of 4 slow layers: \(parallelTime) s three at a time, \(serialTime) s one at a time")
    }

    @Test func limitsAreValidatedAsDockerdDoes() throws {
        let attempts = try ConfigStartAttempts("berthd-limits")
        func start(_ json: String, _ flags: [String] = []) throws -> Harness.Result { try attempts.start(json, flags, timeout: 10) }
        let negative = try start(#"{"max-concurrent-downloads": -1}"#)
        #expect(negative.status == 1)
        #expect(negative.stderr.contains("merged configuration validation from file and command line flags failed: invalid max concurrent downloads: -1"),
                "\(negative.stderr)")
        let text = try start(#"{"max-concurrent-uploads": "five"}"#)
        #expect(text.status == 1)
        #expect(text.stderr.contains("invalid value for max-concurrent-uploads"), "\(text.stderr)")
        let flag = try start("{}", ["--max-concurrent-uploads", "five"])
        #expect(flag.status == 1)
        #expect(flag.stderr.contains("invalid argument \"five\" for \"--max-concurrent-uploads\" flag: strconv.ParseInt: parsing \"five\": invalid syntax"),
                "\(flag.stderr)")
        let negativeFlag = try start("{}", ["--max-concurrent-downloads=-2"])
        #expect(negativeFlag.status == 1)
        #expect(negativeFlag.stderr.contains("invalid max concurrent downloads: -2"), "\(negativeFlag.stderr)")
    }
}
