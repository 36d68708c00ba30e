import BerthAPI
import Testing

/// -H values as dockerd takes them, including systemd socket activation.
struct ListenerTests {
    @Test func unixAndTCPAddresses() throws {
        #expect(try APIServer.Listener.parse(["unix:///run/berth/berth.sock"]) == [.unix(path: "/run/berth/berth.sock")])
        #expect(try APIServer.Listener.parse(["tcp://127.0.0.1:2375"]) == [.tcp(host: "127.0.0.1", port: 2375)])
        #expect(try APIServer.Listener.parse(["tcp://:2375"]) == [.tcp(host: "0.0.0.0", port: 2375)])
        #expect(try APIServer.Listener.parse(["tcp://[::1]:2375"]) == [.tcp(host: "::1", port: 2375)])
        #expect(throws: (any Error).self) { try APIServer.Listener.parse(["tcp://127.0.0.1"]) }
        #expect(throws: (any Error).self) { try APIServer.Listener.parse(["unix://relative.sock"]) }
        #expect(throws: (any Error).self) { try APIServer.Listener.parse(["http://x"]) }
    }

    @Test func socketActivationTakesTheFdsSystemdPassed() throws {
        let environment = ["LISTEN_PID": "42", "LISTEN_FDS": "2"]
        #expect(try APIServer.Listener.parse(["fd://"], environment: environment, pid: 42) == [.descriptor(3), .descriptor(4)])
        #expect(try APIServer.Listener.parse(["fd://4"], environment: environment, pid: 42) == [.descriptor(4)])
        #expect(throws: (any Error).self) { try APIServer.Listener.parse(["fd://5"], environment: environment, pid: 42) }
        // The sockets were meant for another process.
        #expect(throws: (any Error).self) { try APIServer.Listener.parse(["fd://"], environment: environment, pid: 43) }
        #expect(throws: (any Error).self) { try APIServer.Listener.parse(["fd://"], environment: [:], pid: 42) }
    }
}
