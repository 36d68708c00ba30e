import Testing
@testable import BerthEngine

/// `docker info`'s network warnings, in dockerd's words, from the /proc/sys switches.
struct SystemInfoNetworkTests {
    static let forwarding = "/proc/sys/net/ipv4/ip_forward"
    static let iptables = "/proc/sys/net/bridge/bridge-nf-call-iptables"
    static let ip6tables = "/proc/sys/net/bridge/bridge-nf-call-ip6tables"

    @Test func allOnSaysNothing() {
        #expect(SystemInfo.networkWarnings { _ in "1\n" } == [])
    }

    @Test func eachSwitchOffIsNamed() {
        let values = [Self.forwarding: "0\n", Self.iptables: "1\n", Self.ip6tables: "0\n"]
        #expect(SystemInfo.networkWarnings { values[$0] } == [
            "WARNING: IPv4 forwarding is disabled", "WARNING: bridge-nf-call-ip6tables is disabled",
        ])
    }

    @Test func withoutBrNetfilterBothBridgeSwitchesAreOff() {
        let values = [Self.forwarding: "1\n"]
        #expect(SystemInfo.networkWarnings { values[$0] } == [
            "WARNING: bridge-nf-call-iptables is disabled", "WARNING: bridge-nf-call-ip6tables is disabled",
        ])
    }
}

/// `docker info`'s cgroup warnings: the block I/O weight is warned about on cgroup v2 only.
struct SystemInfoCgroupWarningTests {
    @Test func cgroupV1WithoutBlkioWeightSaysNothingOfIt() {
        let present: Set<String> = [
            "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", "/sys/fs/cgroup/memory/memory.kmem.tcp.limit_in_bytes",
            "/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device", "/sys/fs/cgroup/blkio/blkio.throttle.write_bps_device",
            "/sys/fs/cgroup/blkio/blkio.throttle.read_iops_device", "/sys/fs/cgroup/blkio/blkio.throttle.write_iops_device",
        ]
        #expect(SystemInfo.cgroupWarnings(version: "1", v2Controllers: []) { present.contains($0) } == [])
        #expect(SystemInfo.cgroupWarnings(version: "1", v2Controllers: []) { _ in false } == [
            "WARNING: No swap limit support", "WARNING: No kernel memory TCP limit support",
            "WARNING: No blkio throttle.read_bps_device support", "WARNING: No blkio throttle.write_bps_device support",
            "WARNING: No blkio throttle.read_iops_device support", "WARNING: No blkio throttle.write_iops_device support",
        ])
    }

    @Test func cgroupV2WarnsOfIOWithoutItsController() {
        #expect(SystemInfo.cgroupWarnings(version: "2", v2Controllers: ["cpu", "io", "memory"]) { _ in false } == [])
        #expect(SystemInfo.cgroupWarnings(version: "2", v2Controllers: ["cpu", "memory"]) { _ in true }.first
            == "WARNING: No io.weight support")
    }
}
