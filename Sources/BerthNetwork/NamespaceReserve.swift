import BerthOCI
import CSystemShims
import Dispatch
import Glibc

/// A network namespace made ahead of a container start with its first interface in place:
/// loopback up, `eth0` inside, and the veth's host end outside on no bridge yet. Making a
/// namespace and a veth pair is what the kernel takes longest over (and longer still while
/// other namespaces are torn down, as both wait for the same lock), so a start that takes
/// one only binds it, puts the host end on its bridge, and gives eth0 its address.
final class ReadyNamespace: @unchecked Sendable {
    let namespaceFD: Int32
    let inside: NetlinkSocket
    let hostName: String
    let hostIndex: Int32
    let peerIndex: Int32
    let mtu: Int
    private var bound = false

    init(mtu: Int) throws {
        var fd: Int32 = -1
        inside = try NetlinkSocket(creatingNamespaceOpenAt: &fd)
        namespaceFD = fd
        self.mtu = mtu
        hostName = "veth" + randomHex(7)
        do {
            let host = try NetlinkSocket()
            try host.createVeth(hostName: hostName, bridgeIndex: nil, peerName: "eth0", peerNamespaceFD: fd, peerMAC: nil, mtu: mtu)
            guard let hostIndex = try host.linkIndex(hostName) else { throw NetworkError("\(hostName) vanished") }
            self.hostIndex = hostIndex
            // Loopback is always index 1.
            let answers = try inside.performAll([(.setUp(1), "set lo up"), (.getLink("eth0"), "find eth0")])
            guard let peerIndex = NetlinkRequest.linkIndex(in: answers[1]) else { throw NetworkError("eth0 not found") }
            self.peerIndex = peerIndex
        } catch {
            // The pair, if made, goes with the namespace once its fd is closed.
            close(fd)
            throw error
        }
    }

    /// Binds the namespace at `path` (a file it creates), where the runtime joins it.
    func bind(at path: String) throws {
        let result = berth_netns_bind(namespaceFD, path)
        guard result == 0 else { throw NetworkError.errno("bind network namespace at \(path)", -result) }
        bound = true
    }

    deinit {
        // Unused: the namespace ends with its last fd, and the veth pair with it; the host end
        // is deleted now so that its name is not seen a moment longer.
        if !bound { try? NetlinkSocket().deleteLink(hostName) }
        close(namespaceFD)
    }
}

/// Keeps one ReadyNamespace made in the background: again after each start took the last
/// (once the start's own netlink work is done, so that both do not queue for the kernel's
/// lock), never while one is being made, and none after `drain`.
final class NamespaceReserve: @unchecked Sendable {
    private let lock = Lock()
    private var ready: ReadyNamespace?
    private var making = false
    private var open = true
    private let queue = DispatchQueue(label: "berth.network.namespace-reserve")
    private let mtu: Int
    private let log: @Sendable (String) -> Void

    init(mtu: Int, log: @escaping @Sendable (String) -> Void) {
        self.mtu = mtu
        self.log = log
    }

    /// The ready namespace, if there is one.
    func take() -> ReadyNamespace? {
        lock.withLock {
            defer { ready = nil }
            return ready
        }
    }

    /// Makes the next one in the background unless there is one or it is under way.
    func refill() {
        let start = lock.withLock {
            guard open, ready == nil, !making else { return false }
            making = true
            return true
        }
        guard start else { return }
        queue.async { [self] in
            var made: ReadyNamespace?
            do {
                made = try ReadyNamespace(mtu: mtu)
            } catch {
                log("cannot make a network namespace ahead of a start: \(error)")
            }
            let unused: ReadyNamespace? = lock.withLock {
                making = false
                guard open else { return made }
                ready = made
                return nil
            }
            _ = unused  // released here, outside the lock
        }
    }

    /// No more: waits for one under way and releases the ready one (at daemon stop).
    func drain() {
        lock.withLock { open = false }
        queue.sync {}
        _ = take()
    }
}
