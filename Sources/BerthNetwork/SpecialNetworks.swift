import CSystemShims
import FoundationEssentials
import Glibc

/// A running container's process and names, for giving it interfaces in its own namespace.
public struct ContainerProcess: Sendable {
    public var pid: Int32
    public var name: String
    public var hostname: String

    public init(pid: Int32, name: String, hostname: String) {
        self.pid = pid
        self.name = name
        self.hostname = hostname
    }
}

extension NetworkRequestError {
    /// dockerd's (v28) refusals around the host network, at connect and at disconnect.
    public static let hostNetworkJoin = NetworkRequestError(
        kind: .invalid, description: "cannot connect container to host network - container must be created in host network mode")
    public static let hostNetworkLeave = NetworkRequestError(
        kind: .invalid, description: "cannot disconnect container from host network - container was created in host network mode")
    public static let sharedNamespace = NetworkRequestError(
        kind: .invalid, description: "container sharing network namespace with another container or host cannot be connected to any other network")
}

/// The host and none networks as networks a container is on: one created with `--network
/// none` may leave none and join bridges, as dockerd lets it; host goes with nothing else.
extension NetworkService {
    /// dockerd's check of a network joined next to the ones a container is on already.
    func checkJoinable(_ record: NetworkRecord, alongside list: [Attachment]) throws {
        for attachment in list {
            guard let other = networks[attachment.networkID], other.id != record.id else { continue }
            if other.driver == "host" || record.driver == "host" { throw NetworkRequestError.sharedNamespace }
            if other.isNone || record.isNone { throw NetworkRequestError.noNetworkWithOthers }
        }
    }

    /// A running `--network none` container without a namespace of berthd's (one started by a
    /// berthd before they had one) that joins a bridge: its namespace is bound under the exec
    /// root as its sandbox, given interfaces like any other, and released like any other at
    /// its exit.
    func adoptNamespace(of process: ContainerProcess, containerID: String) throws {
        let sandboxID = randomHex(64)
        let path = namespaceDirectory + "/" + sandboxID.prefix(12)
        let nsfd = open("/proc/\(process.pid)/ns/net", O_RDONLY | O_CLOEXEC)
        guard nsfd >= 0 else { throw NetworkError.errno("open the network namespace of process \(process.pid)", errno) }
        defer { close(nsfd) }
        let result = berth_netns_bind(nsfd, path)
        guard result == 0 else { throw NetworkError.errno("bind \(path)", -result) }
        let sandbox = SandboxRecord(containerID: containerID, name: process.name, namespacePath: path, endpoints: [], ports: [],
                                    sandboxID: sandboxID, hostname: process.hostname)
        do {
            try saveSandbox(sandbox)
        } catch {
            sandboxes[containerID] = nil
            _ = berth_netns_remove(path)
            throw error
        }
    }

    /// The bridge networks among a container's attachments: host and none give it no
    /// interface, and a container on none but those runs with loopback only.
    func interfaceAttachments(_ list: [Attachment]) -> [Attachment] {
        list.filter { networks[$0.networkID]?.driver != "host" && networks[$0.networkID]?.driver != "null" }
    }
}
