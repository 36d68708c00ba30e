import BerthOCI
import Glibc

/// `--blkio-weight-device` and `--device-read-bps`/`-write-bps`/`-read-iops`/`-write-iops`:
/// each path's device numbers, found at start as dockerd finds them. A path that is not there
/// fails the start with Go's words ("stat /dev/x: no such file or directory"), which also make
/// the CLI exit 127, as with dockerd.
enum BlockIOLimits {
    static func apply(_ host: HostConfig, to blockIO: inout Spec.BlockIO) throws {
        if let devices = host.BlkioWeightDevice, !devices.isEmpty {
            blockIO.weightDevice = try devices.map { device in
                let (major, minor) = try numbers(device.Path)
                return Spec.WeightDevice(major: major, minor: minor, weight: device.Weight)
            }
        }
        func throttles(_ devices: [ThrottleDevice]?) throws -> [Spec.ThrottleDevice]? {
            guard let devices, !devices.isEmpty else { return nil }
            return try devices.map { device in
                let (major, minor) = try numbers(device.Path)
                return Spec.ThrottleDevice(major: major, minor: minor, rate: device.Rate)
            }
        }
        blockIO.throttleReadBpsDevice = try throttles(host.BlkioDeviceReadBps)
        blockIO.throttleWriteBpsDevice = try throttles(host.BlkioDeviceWriteBps)
        blockIO.throttleReadIOPSDevice = try throttles(host.BlkioDeviceReadIOps)
        blockIO.throttleWriteIOPSDevice = try throttles(host.BlkioDeviceWriteIOps)
    }

    /// The device a path names (as dockerd, any node: the kernel refuses what is not a block
    /// device when the limit is written).
    static func numbers(_ path: String) throws -> (major: Int64, minor: Int64) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw BerthError.internalError("stat \(path): \(goErrorText(errno))")
        }
        return ContainerDevices.numbers(info.st_rdev)
    }
}
