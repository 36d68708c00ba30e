import BerthOCI
import FoundationEssentials
import Glibc
import Testing
@testable import BerthRuntime

/// The runtime reads its config and state without Codable (JSONValue, SpecReading): these hold
/// that reading to what the Codable conformance decodes, field by field.
struct SpecReadingTests {
    /// A spec with every field set, each to a value that differs from its neighbours, so that a
    /// member name misspelt in SpecReading loses the field and fails the comparison.
    static let everyField: Spec = {
        let throttle = { (n: UInt64) in Spec.ThrottleDevice(major: 8, minor: Int64(n), rate: n * 100) }
        return Spec(
            ociVersion: "1.2.0",
            process: .init(terminal: true, consoleSize: .init(height: 24, width: 80),
                           user: .init(uid: 1000, gid: 1001, umask: 0o22, additionalGids: [10, 11]),
                           args: ["sh", "-c", "echo \"quoted\" \\ back\nslash é 😀"], env: ["A=1", "B=2"], cwd: "/work",
                           capabilities: .init(bounding: ["CAP_A"], effective: ["CAP_B"], inheritable: ["CAP_C"],
                                               permitted: ["CAP_D"], ambient: ["CAP_E"]),
                           rlimits: [.init(type: "RLIMIT_NOFILE", hard: UInt64.max, soft: 1024)],
                           noNewPrivileges: true, apparmorProfile: "prof", oomScoreAdj: -500, selinuxLabel: "label"),
            root: .init(path: "/root/fs", readonly: true),
            hostname: "host", domainname: "example",
            mounts: [.init(destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec"]),
                     .init(destination: "/data")],
            annotations: ["a": "b", "c": "d"],
            linux: .init(
                uidMappings: [.init(containerID: 0, hostID: 100000, size: 65536)],
                gidMappings: [.init(containerID: 1, hostID: 200000, size: 10)],
                sysctl: ["net.ipv4.ip_forward": "1"],
                resources: .init(
                    devices: [.init(allow: false, access: "rwm"), .init(allow: true, type: "c", major: 1, minor: 3, access: "rw")],
                    memory: .init(limit: 1 << 30, reservation: 1 << 29, swap: -1, kernel: 1, kernelTCP: 2, swappiness: 60,
                                  disableOOMKiller: true),
                    cpu: .init(shares: 512, quota: 50000, burst: 1000, period: 100000, realtimeRuntime: 3, realtimePeriod: 4,
                               cpus: "0-1", mems: "0", idle: 1),
                    pids: .init(limit: 100),
                    blockIO: .init(weight: 500, leafWeight: 400, weightDevice: [.init(major: 8, minor: 0, weight: 300, leafWeight: 200)],
                                   throttleReadBpsDevice: [throttle(1)], throttleWriteBpsDevice: [throttle(2)],
                                   throttleReadIOPSDevice: [throttle(3)], throttleWriteIOPSDevice: [throttle(4)]),
                    hugepageLimits: [.init(pageSize: "2MB", limit: 4096)],
                    unified: ["memory.high": "max"]),
                cgroupsPath: "/berth/id",
                namespaces: [.init(type: "pid"), .init(type: "network", path: "/run/netns/x")],
                devices: [.init(type: "c", path: "/dev/fuse", major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 5)],
                seccomp: .init(defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 1, architectures: ["SCMP_ARCH_X86_64"],
                               flags: ["SECCOMP_FILTER_FLAG_LOG"], listenerPath: "/run/listener",
                               syscalls: [.init(names: ["read", "write"], action: "SCMP_ACT_ALLOW", errnoRet: 2,
                                                args: [.init(index: 0, value: 1, valueTwo: 2, op: "SCMP_CMP_EQ")])]),
                rootfsPropagation: "rslave", maskedPaths: ["/proc/kcore"], readonlyPaths: ["/proc/sys"], mountLabel: "mount"))
    }()

    func read(_ text: String) throws -> Spec { try Spec(json: JSONValue.parse(Array(text.utf8))) }

    @Test func everyFieldReadsAsCodableWroteIt() throws {
        let encoded = try JSONEncoder().encode(Self.everyField)
        #expect(try Spec(json: JSONValue.parse(Array(encoded))) == Self.everyField)
    }

    @Test func readsWhatCodableReadsOfTheDefaultSpec() throws {
        let spec = DefaultSpec.make(args: ["true"], terminal: false, seccomp: try DefaultSeccomp.spec())
        let encoded = try JSONEncoder().encode(spec)
        #expect(try Spec(json: JSONValue.parse(Array(encoded))) == JSONDecoder().decode(Spec.self, from: encoded))
    }

    @Test func nullsAndUnknownMembersAsCodable() throws {
        let text = #"{"ociVersion":"1","hostname":null,"extra":{"x":[1,2]},"process":{"user":{"uid":0,"gid":0},"cwd":"/","args":null}}"#
        let spec = try read(text)
        #expect(spec == (try JSONDecoder().decode(Spec.self, from: Data(text.utf8))))
        #expect(spec.hostname == nil && spec.process?.args == nil)
    }

    @Test func wholeNumbersInAnyFormAndRangeChecks() throws {
        let base = #"{"ociVersion":"1","process":{"user":{"uid":UID,"gid":0},"cwd":"/"}}"#
        #expect(try read(base.replacing("UID", with: "1.0e3")).process?.user.uid == 1000)
        #expect(try read(base.replacing("UID", with: "4294967295")).process?.user.uid == UInt32.max)
        for bad in ["1.5", "-1", "4294967296", "\"7\"", "true", "null"] {
            #expect(throws: JSONShapeError.self, "uid \(bad)") { try read(base.replacing("UID", with: bad)) }
        }
    }

    @Test func errorsNameTheField() {
        func failure(_ text: String) -> String {
            do { _ = try read(text); return "" } catch { return "\(error)" }
        }
        #expect(failure(#"{"process":{}}"#) == "ociVersion: expected a value")
        #expect(failure(#"{"ociVersion":"1","linux":{"namespaces":[{"type":"pid"},{"type":5}]}}"#)
                == "linux.namespaces[1].type: expected a string")
        #expect(failure(#"{"ociVersion":"1","process":{"cwd":"/"}}"#) == "process.user: expected a value")
        #expect(failure(#"{"ociVersion":"1","mounts":{}}"#) == "mounts: expected an array")
        #expect(failure(#"{"ociVersion":"1","annotations":{"a":1}}"#) == "annotations.a: expected a string")
    }

    @Test func parsesJSONStrictly() throws {
        #expect(try JSONValue.parse(Array(#" {"a":"\u00e9\ud83d\ude00\n\/\"","a":[true,false,null,-0.5e+3]} "#.utf8))
                == .object(["a": .array([.bool(true), .bool(false), .null, .number("-0.5e+3")])]))
        #expect(try JSONValue.parse(Array(#""\u00e9\ud83d\ude00\n\/\"""#.utf8)) == .string("é😀\n/\""))
        #expect(try JSONValue.parse(Array(#""\ud800x""#.utf8)) == .string("\u{FFFD}x"))
        let bad = ["", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "1e", "tru", "\"a", "\"\t\"", "\"\\x\"", "{} x",
                   "{a:1}", "[1 2]", "\"\\u12\"", String(repeating: "[", count: 600) + String(repeating: "]", count: 600)]
        for text in bad {
            #expect(throws: JSONSyntaxError.self, "\(text.prefix(20))") { try JSONValue.parse(Array(text.utf8)) }
        }
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse([0x22, 0xFF, 0x22]) }
    }

    @Test func theStateFileKeepsTheRecordAndTheConfig() throws {
        let root = FileManager.default.temporaryDirectory.path + "/spec-reading-\(getpid())"
        try FileManager.default.createDirectory(atPath: root + "/c1", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = ContainerStore(root: root)
        let record = SavedContainer(id: "c1", bundle: "/b \"q\" \\ ü", rootfs: "/r\n\u{01}", pid: 42, pidStartTime: UInt64.max,
                                    created: "2026-11-30T08:00:00Z", owner: "", cgroupPaths: ["": "/sys/fs/cgroup/x", "cpu": "/c"],
                                    seccomp: .program)
        let config = Array(try JSONEncoder().encode(Self.everyField))
        try store.save(record, config: config)
        let loaded = try store.load("c1")
        #expect(loaded.id == record.id && loaded.bundle == record.bundle && loaded.rootfs == record.rootfs)
        #expect(loaded.pid == 42 && loaded.pidStartTime == UInt64.max && loaded.created == record.created)
        #expect(loaded.cgroupPaths == record.cgroupPaths && loaded.seccomp == .program && loaded.owner == "")
        #expect(try store.loadConfig("c1") == Self.everyField)
        // Written as JSON any reader takes.
        let bytes = try #require(FileSystem.readBytes(root + "/c1/state.json"))
        let generic = try #require(try AnyJSON.parse(Data(bytes)) as? [String: Any])
        #expect(generic["bundle"] as? String == record.bundle && generic["config"] is [String: Any])
    }
}
