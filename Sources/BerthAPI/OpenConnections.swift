import BerthOCI
import NIOCore

/// The clients' connections that are open, so that a shutdown can close those whose
/// requests outlast its grace: their streams end before the event loops go away.
final class OpenConnections: @unchecked Sendable {
    private let lock = Lock()
    private var channels: [ObjectIdentifier: Channel] = [:]

    func track(_ channel: Channel) {
        let key = ObjectIdentifier(channel)
        lock.withLock { channels[key] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            self?.lock.withLock { _ = self?.channels.removeValue(forKey: key) }
        }
    }

    func closeAll() {
        for channel in lock.withLock({ Array(channels.values) }) { channel.close(promise: nil) }
    }
}
