import Glibc

/// Daemons on one host choose their bridges' subnets one at a time. A choice reads the host's
/// routes, where a subnet shows only once its bridge has its address; two daemons starting
/// together (a test run starts many) could pick the same subnet, and the host would then route
/// one daemon's traffic to the other's bridge. A lock file held from the choice until the
/// bridge has its address keeps them apart; without the lock directory, nothing is held.
enum SubnetChoiceLock {
    static let path = "/run/lock/berth-subnets.lock"

    static func holding<T>(_ body: () throws -> T) rethrows -> T {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        defer { if fd >= 0 { close(fd) } }  // closing the file lets the lock go
        if fd >= 0 { while flock(fd, LOCK_EX) != 0 && errno == EINTR {} }
        return try body()
    }
}
