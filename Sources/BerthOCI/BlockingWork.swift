import Dispatch

/// Work that waits in the kernel (fsync, unmount, removing trees and cgroups, a pipe that is
/// full) runs here, each piece on a thread of its own.
///
/// Not on `DispatchQueue.global()` nor on a concurrent queue of ours: on Linux both use the
/// root queue that Swift's tasks run on, which keeps about one thread per core. A few calls
/// blocked there (say, removals each waiting for the disk to discard freed blocks) stall
/// every actor of the daemon until they return. A serial queue targets the overcommitting
/// root queue instead, which starts a thread for each item that finds none idle; a new queue
/// per piece lets the pieces run side by side.
public enum BlockingWork {
    public static func start(_ work: @escaping @Sendable () -> Void) {
        DispatchQueue(label: "berth.blocking").async(execute: work)
    }

    public static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            start { continuation.resume(with: Result { try work() }) }
        }
    }

    public static func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            start { continuation.resume(returning: work()) }
        }
    }
}
