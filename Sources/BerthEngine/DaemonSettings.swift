import BerthOCI
import FoundationEssentials
import Glibc

/// The daemon settings the engine reports that can change while it runs (daemon.json's
/// reloadable keys, re-read on SIGHUP): `docker info` shows `Debug`.
public final class DaemonSettings: @unchecked Sendable {
    private let lock = Lock()
    private var currentDebug: Bool
    private var currentInsecureRegistries: [String]

    public init(debug: Bool, insecureRegistries: [String] = []) {
        currentDebug = debug
        currentInsecureRegistries = insecureRegistries
    }

    public var debug: Bool { lock.withLock { currentDebug } }
    /// daemon.json's `insecure-registries` (reloadable, as in dockerd).
    public var insecureRegistries: [String] { lock.withLock { currentInsecureRegistries } }

    public func reload(from options: DaemonOptions) {
        lock.withLock {
            currentDebug = options.debug
            currentInsecureRegistries = options.insecureRegistries
        }
    }
}
