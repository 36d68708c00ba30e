import BerthOCI
import CSystemShims
import Glibc

/// A failed network operation, with the message berthd reports.
public struct NetworkError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }

    static func errno(_ what: String, _ code: Int32) -> NetworkError {
        NetworkError("\(what): \(String(cString: strerror(code)))")
    }
}

/// One rtnetlink request: the fixed header of its family (ifinfomsg, ifaddrmsg, rtmsg) and
/// its attributes, encoded as the kernel reads them (host byte order, 4-byte alignment).
struct NetlinkRequest {
    var type: UInt16
    var flags: UInt16
    var header: [UInt8]
    var attributes = Attributes()

    struct Attributes {
        var bytes: [UInt8] = []

        mutating func add(_ type: UInt16, _ payload: [UInt8]) {
            let length = UInt16(4 + payload.count)
            bytes += length.littleBytes + type.littleBytes + payload
            while bytes.count % 4 != 0 { bytes.append(0) }
        }

        mutating func add(_ type: UInt16, string: String) { add(type, Array(string.utf8) + [0]) }
        mutating func add(_ type: UInt16, uint32: UInt32) { add(type, uint32.littleBytes) }

        /// A nested attribute; `prefix` is a fixed header inside it (VETH_INFO_PEER carries an ifinfomsg).
        mutating func nest(_ type: UInt16, prefix: [UInt8] = [], _ build: (inout Attributes) -> Void) {
            var inner = Attributes()
            build(&inner)
            add(type, prefix + inner.bytes)
        }
    }

    /// The whole message with its nlmsghdr.
    func encoded(sequence: UInt32) -> [UInt8] {
        var body = header
        while body.count % 4 != 0 { body.append(0) }
        body += attributes.bytes
        let length = UInt32(16 + body.count)
        return length.littleBytes + type.littleBytes + flags.littleBytes + sequence.littleBytes + UInt32(0).littleBytes + body
    }

    /// struct ifinfomsg.
    static func linkHeader(index: Int32 = 0, flags: UInt32 = 0, change: UInt32 = 0) -> [UInt8] {
        [UInt8(AF_UNSPEC), 0] + UInt16(0).littleBytes + UInt32(bitPattern: index).littleBytes + flags.littleBytes + change.littleBytes
    }
}

enum RTM {
    static let newLink: UInt16 = 16, delLink: UInt16 = 17, getLink: UInt16 = 18
    static let newAddr: UInt16 = 20, delAddr: UInt16 = 21, getAddr: UInt16 = 22
    static let newRoute: UInt16 = 24
}

enum NLM {
    static let request: UInt16 = 0x1, ack: UInt16 = 0x4, dump: UInt16 = 0x300
    static let replace: UInt16 = 0x100, excl: UInt16 = 0x200, create: UInt16 = 0x400
}

enum IFLA {
    static let address: UInt16 = 1, ifname: UInt16 = 3, mtu: UInt16 = 4, master: UInt16 = 10, txqlen: UInt16 = 13
    static let linkinfo: UInt16 = 18, netnsFD: UInt16 = 28
    static let infoKind: UInt16 = 1, infoData: UInt16 = 2
    static let vethPeer: UInt16 = 1
}

extension FixedWidthInteger {
    var littleBytes: [UInt8] { withUnsafeBytes(of: self.littleEndian) { Array($0) } }
}

/// A NETLINK_ROUTE socket, in berthd's network namespace or in a container's.
final class NetlinkSocket {
    let fd: Int32
    private var sequence: UInt32 = 1

    /// In the current (host) namespace.
    init() throws {
        fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw NetworkError.errno("netlink socket", errno) }
    }

    /// In the network namespace mounted at `namespacePath` (made on a helper thread).
    init(namespacePath: String) throws {
        let nsfd = open(namespacePath, O_RDONLY | O_CLOEXEC)
        guard nsfd >= 0 else { throw NetworkError.errno("open \(namespacePath)", errno) }
        defer { close(nsfd) }
        let result = berth_netns_socket(nsfd, AF_NETLINK, Int32(SOCK_RAW.rawValue), 0)
        guard result >= 0 else { throw NetworkError.errno("netlink socket in \(namespacePath)", -result) }
        fd = result
    }

    /// In a new network namespace, which it bind-mounts at `path` (a file it creates).
    init(creatingNamespaceAt path: String) throws {
        let result = berth_netns_new_socket(path, AF_NETLINK, Int32(SOCK_RAW.rawValue), 0)
        guard result >= 0 else { throw NetworkError.errno("create network namespace \(path)", -result) }
        fd = result
    }

    /// In a new network namespace bound nowhere yet; `namespaceFD` is set to an fd open on it.
    init(creatingNamespaceOpenAt namespaceFD: inout Int32) throws {
        let result = berth_netns_new(AF_NETLINK, Int32(SOCK_RAW.rawValue), 0, &namespaceFD)
        guard result >= 0 else { throw NetworkError.errno("create network namespace", -result) }
        fd = result
    }

    deinit { close(fd) }

    /// Sends the request and waits for the kernel's acknowledgement; returns the reply
    /// messages' payloads (for requests that answer with data).
    @discardableResult
    func perform(_ request: NetlinkRequest, what: String) throws -> [(type: UInt16, payload: [UInt8])] {
        try performAll([(request, what)])[0]
    }

    /// Sends the requests in one write and reads every answer: one round trip to the kernel
    /// for several changes. The kernel takes them in order and answers each; the first
    /// refusal is thrown, after all answers are in. Returns each request's data replies.
    @discardableResult
    func performAll(_ requests: [(request: NetlinkRequest, what: String)]) throws -> [[(type: UInt16, payload: [UInt8])]] {
        let first = sequence &+ 1
        var message: [UInt8] = []
        for (request, _) in requests {
            sequence &+= 1
            message += request.encoded(sequence: sequence)
        }
        // Unaddressed netlink messages go to the kernel.
        let sent = send(fd, message, message.count, 0)
        guard sent == message.count else { throw NetworkError.errno(requests[0].what, errno) }
        var replies = [[(type: UInt16, payload: [UInt8])]](repeating: [], count: requests.count)
        var done = [Bool](repeating: false, count: requests.count)
        var remaining = requests.count
        var failure: (index: Int, code: Int32)?
        var buffer = [UInt8](repeating: 0, count: 65536)
        while remaining > 0 {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw NetworkError.errno(requests[0].what, errno) }
            var offset = 0
            while offset + 16 <= count {
                let length = Int(buffer.loadLE(UInt32.self, at: offset))
                let type = buffer.loadLE(UInt16.self, at: offset + 4)
                let seq = buffer.loadLE(UInt32.self, at: offset + 8)
                guard length >= 16, offset + length <= count else { break }
                let payload = Array(buffer[offset + 16 ..< offset + length])
                offset += (length + 3) & ~3
                // Answers to earlier, abandoned requests are skipped.
                let index = Int(seq &- first)
                guard index >= 0, index < requests.count, !done[index] else { continue }
                let flags = requests[index].request.flags
                switch type {
                case 2:  // NLMSG_ERROR: 0 is the acknowledgement
                    let code = -Int32(bitPattern: payload.loadLE(UInt32.self, at: 0))
                    if code != 0 && (failure == nil || index < failure!.index) { failure = (index, code) }
                case 3:  // NLMSG_DONE
                    break
                default:
                    replies[index].append((type, payload))
                    // A dump ends with NLMSG_DONE, an acknowledged request with its ack,
                    // and a plain request with its one answer.
                    if flags & (NLM.ack | NLM.dump) != 0 { continue }
                }
                done[index] = true
                remaining -= 1
            }
        }
        if let failure { throw NetworkError.errno(requests[failure.index].what, failure.code) }
        return replies
    }
}

extension Array where Element == UInt8 {
    /// The rtattrs of a payload after its fixed header, by type (the last of a type wins).
    func attributes(after headerLength: Int) -> [UInt16: ArraySlice<UInt8>] {
        var result: [UInt16: ArraySlice<UInt8>] = [:]
        var offset = (headerLength + 3) & ~3
        while offset + 4 <= count {
            let length = Int(loadLE(UInt16.self, at: offset))
            guard length >= 4, offset + length <= count else { break }
            result[loadLE(UInt16.self, at: offset + 2)] = self[offset + 4 ..< offset + length]
            offset += (length + 3) & ~3
        }
        return result
    }

    func loadLE<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        var value: T = 0
        for index in 0..<MemoryLayout<T>.size { value |= T(self[offset + index]) << (8 * index) }
        return value
    }
}
