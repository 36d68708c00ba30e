import BerthOCI
import Foundation
import Testing

/// /proc files report a size of 0 and come one page per read: they must be read to the end.
@Suite struct ProcFileTests {
    @Test func aProcFileIsReadPastItsFirstPage() throws {
        // This process's smaps runs to tens of kilobytes (one entry per mapping).
        let text = try #require(readProcFile("/proc/self/smaps"))
        #expect(text.utf8.count > 3 * 4096, "\(text.utf8.count) bytes")
        #expect(text.hasSuffix("\n"))
        #expect(readProcFile("/proc/self/no-such-file") == nil)
    }
}
