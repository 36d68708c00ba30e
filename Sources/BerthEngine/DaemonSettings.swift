import BerthOCI
import FoundationEssentials
import Glibc

/// The daemon settings the engine reports that can change while it runs (daemon.json's
/// reloadable keys, re-read on SIGHUP): `docker info` shows `Debug` and `LiveRestoreEnabled`.
public final class DaemonSettings: @unchecked Sendable {
    private let lock = Lock()
    private var currentDebug: Bool
    private var currentLiveRestore: Bool
    private var currentInsecureRegistries: [String]
    private var currentMaxDownloads: Int
    private var currentMaxUploads: Int

    /// dockerd's defaults: three layers fetched at once, five sent.
    public static let defaultMaxConcurrentDownloads = 3
    public static let defaultMaxConcurrentUploads = 5

    public init(debug: Bool, liveRestore: Bool = true, insecureRegistries: [String] = [], maxConcurrentDownloads: Int? = nil,
                maxConcurrentUploads: Int? = nil) {
        currentDebug = debug
        currentLiveRestore = liveRestore
        currentInsecureRegistries = insecureRegistries
        currentMaxDownloads = Self.limit(maxConcurrentDownloads, default: Self.defaultMaxConcurrentDownloads)
        currentMaxUploads = Self.limit(maxConcurrentUploads, default: Self.defaultMaxConcurrentUploads)
    }

    /// 0 (or unset) is the default, as dockerd reads it.
    private static func limit(_ value: Int?, default fallback: Int) -> Int {
        guard let value, value > 0 else { return fallback }
        return value
    }

    /// daemon.json's `max-concurrent-downloads` / `max-concurrent-uploads` (reloadable).
    public var maxConcurrentDownloads: Int { lock.withLock { currentMaxDownloads } }
    public var maxConcurrentUploads: Int { lock.withLock { currentMaxUploads } }

    public var debug: Bool { lock.withLock { currentDebug } }
    /// Whether containers outlive the daemon's stop (reloadable, as in dockerd).
    public var liveRestore: Bool { lock.withLock { currentLiveRestore } }
    /// daemon.json's `insecure-registries` (reloadable, as in dockerd).
    public var insecureRegistries: [String] { lock.withLock { currentInsecureRegistries } }

    public func reload(from options: DaemonOptions) {
        lock.withLock {
            currentDebug = options.debug
            currentLiveRestore = options.liveRestore
            currentInsecureRegistries = options.insecureRegistries
            currentMaxDownloads = Self.limit(options.maxConcurrentDownloads, default: Self.defaultMaxConcurrentDownloads)
            currentMaxUploads = Self.limit(options.maxConcurrentUploads, default: Self.defaultMaxConcurrentUploads)
        }
    }
}
