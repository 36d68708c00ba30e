import BerthOCI
import FoundationEssentials

/// Go's encoding/json matches an object's keys to struct fields ignoring case (`"image"`
/// sets Image), which curl scripts rely on; Swift's decoding does not. The keys of a request
/// body that name a field in another case are renamed to the field's own spelling before it
/// is decoded; the keys of map fields (Labels, ExposedPorts, ...) are data and stay.
enum GoJSONKeyFolding {
    /// Every field name of the request bodies read this way (container create and update,
    /// exec create and start, network create, connect and disconnect, volume create), as
    /// the Engine API reference spells them. No two differ only in case.
    static let fieldNames: [String] = [
        "AccessMode", "AccessibilityRequirements", "Aliases", "Annotations", "ArgsEscaped", "AttachStderr",
        "AttachStdin", "AttachStdout", "Attachable", "AutoRemove", "AuxiliaryAddresses", "Availability",
        "BindOptions", "Binds", "BlkioDeviceReadBps", "BlkioDeviceReadIOps", "BlkioDeviceWriteBps",
        "BlkioDeviceWriteIOps", "BlkioWeight", "BlkioWeightDevice", "CapAdd", "CapDrop", "Capabilities",
        "CapacityRange", "Cgroup", "CgroupParent", "CgroupPermissions", "CgroupnsMode", "ClusterVolumeSpec", "Cmd",
        "Config", "ConfigFrom", "ConfigOnly", "Consistency", "ConsoleSize", "Container", "ContainerIDFile", "Count",
        "CpuCount", "CpuPercent", "CpuPeriod", "CpuQuota", "CpuRealtimePeriod", "CpuRealtimeRuntime", "CpuShares",
        "CpusetCpus", "CpusetMems", "CreateMountpoint", "DNSNames", "Detach", "DetachKeys", "DeviceCgroupRules",
        "DeviceIDs", "DeviceRequests", "Devices", "Dns", "DnsOptions", "DnsSearch", "Domainname", "Driver",
        "DriverConfig", "DriverOpts", "EnableIPv4", "EnableIPv6", "EndpointConfig", "EndpointID", "EndpointsConfig",
        "Entrypoint", "Env", "ExposedPorts", "ExtraHosts", "Force", "Gateway", "GlobalIPv6Address",
        "GlobalIPv6PrefixLen", "Group", "GroupAdd", "GwPriority", "Hard", "Healthcheck", "HostConfig", "HostIp",
        "HostPort", "Hostname", "IOMaximumBandwidth", "IOMaximumIOps", "IPAM", "IPAMConfig", "IPAddress",
        "IPPrefixLen", "IPRange", "IPv4Address", "IPv6Address", "IPv6Gateway", "Image", "ImageOptions", "Ingress",
        "Init", "Internal", "Interval", "IpcMode", "Isolation", "KernelMemoryTCP", "Key", "Labels", "LimitBytes",
        "LinkLocalIPs", "Links", "LogConfig", "MacAddress", "MaskedPaths", "MaximumRetryCount", "Memory",
        "MemoryReservation", "MemorySwap", "MemorySwappiness", "Mode", "MountVolume", "Mounts", "Name", "NanoCpus",
        "Network", "NetworkDisabled", "NetworkID", "NetworkMode", "NetworkingConfig", "NoCopy", "NonRecursive",
        "OnBuild", "OomKillDisable", "OomScoreAdj", "OpenStdin", "Options", "Path", "PathInContainer", "PathOnHost",
        "PidMode", "PidsLimit", "PortBindings", "Preferred", "Privileged", "Propagation", "PublishAllPorts", "Rate",
        "ReadOnly", "ReadOnlyForceRecursive", "ReadOnlyNonRecursive", "ReadonlyPaths", "ReadonlyRootfs",
        "RequiredBytes", "Requisite", "RestartPolicy", "Retries", "Runtime", "Scope", "Secret", "Secrets",
        "SecurityOpt", "Segments", "Sharing", "Shell", "ShmSize", "SizeBytes", "Soft", "Source", "StartInterval",
        "StartPeriod", "StdinOnce", "StopSignal", "StopTimeout", "StorageOpt", "Subnet", "Subpath", "Sysctls",
        "Target", "Test", "Timeout", "Tmpfs", "TmpfsOptions", "Tty", "Type", "UTSMode", "Ulimits", "User",
        "UsernsMode", "VolumeDriver", "VolumeOptions", "Volumes", "VolumesFrom", "Weight", "WorkingDir",
    ]

    static let canonical: [String: String] = Dictionary(fieldNames.map { ($0.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })

    /// Fields whose value is a map: its keys are names given by the user.
    static let mapFields: Set<String> = [
        "Labels", "ExposedPorts", "Volumes", "PortBindings", "EndpointsConfig", "Sysctls", "StorageOpt", "Tmpfs",
        "DriverOpts", "Options", "Annotations",
    ]

    /// The body with its keys folded to the fields' spelling, or nil when none needed it.
    static func folded(_ body: [UInt8]) -> [UInt8]? {
        // Clients spell the fields as the API does: a glance at the keys spares them a parse.
        guard mayNeedFolding(body), let document = try? AnyJSON.parse(Data(body)) else { return nil }
        var changed = false
        let result = fold(document, parent: nil, grandparent: nil, changed: &changed)
        return changed ? Array(AnyJSON.text(result).utf8) : nil
    }

    /// Whether some object key (a string followed by a colon) names a field in another case,
    /// or has an escape that could hide one. Keys of map fields may set it off too: the
    /// folding then leaves them as they are.
    static func mayNeedFolding(_ body: [UInt8]) -> Bool {
        var index = 0
        while index < body.count {
            guard body[index] == UInt8(ascii: "\"") else { index += 1; continue }
            let start = index + 1
            var end = start
            var escaped = false
            while end < body.count && body[end] != UInt8(ascii: "\"") {
                if body[end] == UInt8(ascii: "\\") { escaped = true; end += 1 }
                end += 1
            }
            var next = end + 1
            while next < body.count && [0x20, 0x09, 0x0A, 0x0D].contains(body[next]) { next += 1 }
            if next < body.count && body[next] == UInt8(ascii: ":") {
                if escaped { return true }
                let key = String(decoding: body[start..<min(end, body.count)], as: UTF8.self)
                if let field = canonical[key.lowercased()], field != key { return true }
            }
            index = end + 1
        }
        return false
    }

    private static func fold(_ value: Any, parent: String?, grandparent: String?, changed: inout Bool) -> Any {
        switch value {
        case let list as [Any]:
            return list.map { fold($0, parent: parent, grandparent: grandparent, changed: &changed) }
        case let object as [String: Any]:
            // "Config" is a map in a LogConfig, a list of structs in an IPAM.
            let isMap = parent.map { mapFields.contains($0) || ($0 == "Config" && grandparent == "LogConfig") } ?? false
            var result: [String: Any] = [:]
            for (key, member) in object {
                var name = key
                if !isMap, let field = canonical[key.lowercased()], field != key {
                    // An exact key wins over one in another case, whatever their order.
                    if object[field] != nil { continue }
                    name = field
                    changed = true
                }
                // A map's values are structs or plain values, never maps of their own names.
                result[name] = fold(member, parent: isMap ? nil : name, grandparent: isMap ? nil : parent, changed: &changed)
            }
            return result
        default:
            return value
        }
    }
}
