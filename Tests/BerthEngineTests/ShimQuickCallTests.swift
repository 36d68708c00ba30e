@testable import BerthEngine
import Dispatch
import Foundation
import Glibc
import Testing

/// ShimClient.quickCall against a stand-in shim: one connection, one line read, one answer.
@Suite struct ShimQuickCallTests {
    /// Listens at `directory/name`, takes one connection, and hands its request line to
    /// `answer`, which writes what the shim would (or nothing, to close without an answer).
    private final class StandInShim: @unchecked Sendable {
        let path: String
        private let listener: Int32
        private(set) var request = ""
        private let served = DispatchSemaphore(value: 0)

        init(directory: String, name: String = "shim.sock", answer: @escaping @Sendable (String) -> String?) throws {
            path = directory + "/" + name
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            listener = fd
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            // Bound through the directory's descriptor, so that a path past sun_path works too.
            let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            defer { close(directoryFD) }
            let bytes = Array("/proc/self/fd/\(directoryFD)/\(name)".utf8)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard bound == 0, listen(fd, 1) == 0 else { throw POSIXError(.EADDRINUSE) }
            DispatchQueue.global().async {
                let client = accept(fd, nil, nil)
                var line: [UInt8] = []
                var byte: UInt8 = 0
                while read(client, &byte, 1) == 1, byte != UInt8(ascii: "\n") { line.append(byte) }
                self.request = String(decoding: line, as: UTF8.self)
                if let reply = answer(self.request) {
                    _ = Array(reply.utf8).withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                }
                close(client)
                self.served.signal()
            }
        }

        func waitServed() { served.wait() }
        deinit { close(listener) }
    }

    private func withDirectory(_ body: (String) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.path + "/berth-quickcall-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await body(directory)
    }

    @Test func sendsTheLineAndReturnsTheAnswer() async throws {
        try await withDirectory { directory in
            let shim = try StandInShim(directory: directory) { _ in "ok\n" }
            let reply = try await ShimClient(socketPath: shim.path).quickCall("kill 15")
            shim.waitServed()
            #expect(reply == "ok")
            #expect(shim.request == "kill 15")
        }
    }

    @Test func anErrorAnswerIsARefusal() async throws {
        try await withDirectory { directory in
            let shim = try StandInShim(directory: directory) { _ in "error container is not running\n" }
            do {
                try await ShimClient(socketPath: shim.path).quickCall("start")
                Issue.record("an error answer was taken for success")
            } catch let refused as ShimRefused {
                #expect(refused.message == "container is not running")
            }
            shim.waitServed()
        }
    }

    @Test func noAnswerOrNoShimIsAGoneShim() async throws {
        try await withDirectory { directory in
            let shim = try StandInShim(directory: directory) { _ in nil }
            await #expect(throws: ShimGone.self) { try await ShimClient(socketPath: shim.path).quickCall("start") }
            shim.waitServed()
            await #expect(throws: ShimGone.self) { try await ShimClient(socketPath: directory + "/missing.sock").quickCall("start") }
        }
    }

    @Test func aSilentShimTimesOut() async throws {
        try await withDirectory { directory in
            let shim = try StandInShim(directory: directory) { _ in
                usleep(300_000)
                return "ok\n"
            }
            await #expect(throws: ShimGone.self) {
                try await ShimClient(socketPath: shim.path).quickCall("start", timeoutMilliseconds: 50)
            }
            shim.waitServed()
        }
    }

    @Test func aSocketPathPastSunPathIsReached() async throws {
        try await withDirectory { directory in
            let deep = directory + "/" + String(repeating: "d", count: 60) + "/" + String(repeating: "e", count: 60)
            try FileManager.default.createDirectory(atPath: deep, withIntermediateDirectories: true)
            let shim = try StandInShim(directory: deep) { _ in "running 42\n" }
            #expect(shim.path.utf8.count > 108)
            #expect(try await ShimClient(socketPath: shim.path).quickCall("state") == "running 42")
            shim.waitServed()
        }
    }
}
