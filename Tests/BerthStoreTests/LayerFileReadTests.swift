import BerthOCI
import Foundation
import Testing
@testable import BerthStore

/// A base layer's `lower` file is empty, and the snapshotter reads it at every create and
/// start: a read that keeps memory per empty file grows a long-running daemon for good.
@Suite struct LayerFileReadTests {
    static func residentKiB() -> Int {
        let status = readProcFile("/proc/self/status") ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    @Test func readingABaseLayersEmptyLowerFileKeepsNoMemory() throws {
        let root = NSTemporaryDirectory() + "berth-layer-read-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let snapshotter = try Snapshotter(root: root)
        let chainID = "sha256:" + String(repeating: "ab", count: 32)
        let layer = snapshotter.directory(chainID)
        try FileManager.default.createDirectory(atPath: layer, withIntermediateDirectories: true)
        try "SHORTLINK".write(toFile: layer + "/link", atomically: false, encoding: .utf8)
        try "".write(toFile: layer + "/lower", atomically: false, encoding: .utf8)
        #expect(try snapshotter.lowerChain(of: chainID) == ["l/SHORTLINK"])
        let before = Self.residentKiB()
        for _ in 0..<40_000 { _ = try snapshotter.lowerChain(of: chainID) }
        // 4 KiB kept per read would be 160 MiB; other tests running meanwhile in this process
        // stay far below the bound.
        let grown = Self.residentKiB() - before
        #expect(grown < 48 * 1024, "RSS grew by \(grown) KiB over 40,000 reads of an empty file")
    }

    @Test func aTextFileIsReadWholeAndAMissingOneIsNil() throws {
        let path = NSTemporaryDirectory() + "berth-text-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(readTextFile(path) == nil)
        try "".write(toFile: path, atomically: false, encoding: .utf8)
        #expect(readTextFile(path) == "")
        let long = String(repeating: "0123456789", count: 1000)
        try long.write(toFile: path, atomically: false, encoding: .utf8)
        #expect(readTextFile(path) == long)
    }
}
