import CBerthShim

/// A remote log driver with dockerd's local cache ("dual logging"): every record goes to the
/// remote backend and to a local-driver log berthd reads for `docker logs` (unless the container
/// sets cache-disabled). The cache is written first: it is local and never drops a record.
final class CachedLog: LogBackend {
    private let cache: FileLog
    private let remote: LogBackend

    init(cache: FileLog, remote: LogBackend) {
        self.cache = cache
        self.remote = remote
    }

    func record(_ line: UnsafeBufferPointer<UInt8>, stderr: Bool, partial: Bool) {
        cache.record(line, stderr: stderr, partial: partial)
        remote.record(line, stderr: stderr, partial: partial)
    }

    func endChunk() {
        cache.endChunk()
        remote.endChunk()
    }

    func releaseMemory() {
        cache.releaseMemory()
        remote.releaseMemory()
    }

    func childExited(_ pid: pid_t, status: Int32) -> Bool {
        cache.childExited(pid, status: status)
    }

    func outputEnded() {
        cache.outputEnded()
        remote.outputEnded()
    }

    func finish() {
        cache.finish()
        remote.finish()
    }
}
