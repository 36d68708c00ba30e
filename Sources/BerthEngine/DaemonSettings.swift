import BerthOCI
import FoundationEssentials
import Glibc

/// The daemon settings the engine reports that can change while it runs (daemon.json's
/// reloadable keys, re-read on SIGHUP): `docker info` shows `Debug`.
public final class DaemonSettings: @unchecked Sendable {
    private let lock = Lock()
    private var currentDebug: Bool

    public init(debug: Bool) {
        currentDebug = debug
    }

    public var debug: Bool { lock.withLock { currentDebug } }

    public func reload(from options: DaemonOptions) {
        lock.withLock { currentDebug = options.debug }
    }
}
