import BerthOCI
import FoundationEssentials
import Glibc
import Testing
@testable import BerthEngine

/// Containers' records are written off the service's actor, one container's after another
/// in order; a removal stops them for good.
struct ContainerRecordWriterTests {
    private func scratch() throws -> (ContainerPaths, String) {
        let root = "/tmp/berth-record-writer-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        let paths = ContainerPaths(dataRoot: root, execRoot: root + "/exec")
        for id in ["a", "b"] {
            try FileManager.default.createDirectory(atPath: paths.directory(id), withIntermediateDirectories: true)
        }
        return (paths, root)
    }

    private func contents(_ path: String) -> String? {
        (try? Data(contentsOf: URL(fileURLWithPath: path))).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func theNewestRecordOfEachContainerEndsOnDisk() async throws {
        let (paths, root) = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let writer = ContainerRecordWriter(paths: paths) { Issue.record("\($0)") }
        for n in 1 ... 200 {
            writer.write("a", Data("{\"n\":\(n)}".utf8))
            writer.write("b", Data("{\"m\":\(n)}".utf8))
        }
        await writer.flushed("a")
        #expect(contents(paths.config("a")) == "{\"n\":200}")
        await writer.flushAll()
        #expect(contents(paths.config("b")) == "{\"m\":200}")
        // Nothing queued: no wait.
        await writer.flushed("a")
        await writer.flushed("never-written")
    }

    @Test func noWriteBringsARemovedRecordBack() async throws {
        let (paths, root) = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let writer = ContainerRecordWriter(paths: paths) { Issue.record("\($0)") }
        for n in 1 ... 50 { writer.write("a", Data("{\"n\":\(n)}".utf8)) }
        // Closed at once, most likely while a write is in progress, which must not land after.
        try writer.close("a") {
            _ = rename(paths.config("a"), paths.config("a") + ".removed")  // as a removal does (nothing may be written yet)
        }
        writer.write("a", Data("{\"late\":true}".utf8))
        await writer.flushAll()
        #expect(!FileManager.default.fileExists(atPath: paths.config("a")))
        #expect(!FileManager.default.fileExists(atPath: paths.config("a") + ".tmp"))
        // Forgotten, the ID is the writer's no more: a new container of that ID writes again.
        writer.forget("a")
        writer.write("a", Data("{\"new\":true}".utf8))
        await writer.flushed("a")
        #expect(contents(paths.config("a")) == "{\"new\":true}")
    }

    @Test func aRemovalThatFailsLeavesTheWriterOpen() async throws {
        let (paths, root) = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let writer = ContainerRecordWriter(paths: paths) { Issue.record("\($0)") }
        struct CannotRemove: Error {}
        #expect(throws: CannotRemove.self) { try writer.close("b") { throw CannotRemove() } }
        writer.write("b", Data("{\"still\":true}".utf8))
        await writer.flushed("b")
        #expect(contents(paths.config("b")) == "{\"still\":true}")
    }

    @Test func aFailedWriteIsReported() async throws {
        let (paths, root) = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let reports = ReportBox()
        let writer = ContainerRecordWriter(paths: paths) { reports.add($0) }
        writer.write("gone", Data("{}".utf8))  // its directory does not exist
        await writer.flushed("gone")
        #expect(reports.all.count == 1)
        #expect(reports.all.first?.hasPrefix("container gone: cannot save its state") == true)
    }
}

private final class ReportBox: @unchecked Sendable {
    private let lock = Lock()
    private var messages: [String] = []
    func add(_ message: String) { lock.withLock { messages.append(message) } }
    var all: [String] { lock.withLock { messages } }
}
