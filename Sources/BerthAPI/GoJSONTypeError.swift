import BerthOCI
import FoundationEssentials

/// A body whose JSON is well formed but has a value of the wrong type (`"Env": {"A": "B"}`,
/// `"Memory": "1g"`), described in Go's json.UnmarshalTypeError words as dockerd answers:
/// `json: cannot unmarshal object into Go struct field CreateRequest.Env of type []string`.
/// Go names the innermost struct that holds the field and the field's whole path from the
/// body's root, without map keys or list indexes.
struct GoJSONTypeError {
    /// The Go type the body decodes into, as `%T` names it ("container.CreateRequest").
    let rootType: String
    /// Field types of this body that differ from the shared table (an exec's Cmd is a plain
    /// []string, a container's a StrSlice).
    var overrides: [String: String] = [:]

    /// Fields whose Go type is a struct: the struct's name in a message.
    static let structFields: [String: String] = [
        "HostConfig": "HostConfig", "NetworkingConfig": "NetworkingConfig", "Healthcheck": "HealthConfig",
        "RestartPolicy": "RestartPolicy", "LogConfig": "LogConfig", "IPAMConfig": "EndpointIPAMConfig",
        "Mounts": "Mount", "Devices": "DeviceMapping", "Ulimits": "Ulimit", "DeviceRequests": "DeviceRequest",
        "BindOptions": "BindOptions", "VolumeOptions": "VolumeOptions", "TmpfsOptions": "TmpfsOptions",
        "BlkioWeightDevice": "WeightDevice", "BlkioDeviceReadBps": "ThrottleDevice", "BlkioDeviceWriteBps": "ThrottleDevice",
        "BlkioDeviceReadIOps": "ThrottleDevice", "BlkioDeviceWriteIOps": "ThrottleDevice",
        "IPAM": "IPAM", "EndpointConfig": "EndpointSettings",
    ]

    /// Fields that are maps: the next element of a path is a key, which Go leaves out. The
    /// value is the struct a map value is, if it is one.
    static let mapFields: [String: String?] = [
        "Labels": nil, "ExposedPorts": nil, "Volumes": nil, "Sysctls": nil, "StorageOpt": nil, "Tmpfs": nil,
        "Config": nil, "DriverOpts": nil, "Annotations": nil, "Options": nil,
        "EndpointsConfig": "EndpointSettings", "PortBindings": "PortBinding",
    ]

    /// Go types that the Swift type does not tell: named types, and lists or maps of
    /// other things than strings.
    static let namedTypes: [String: String] = [
        "HostConfig": "container.HostConfig", "NetworkingConfig": "network.NetworkingConfig",
        "Healthcheck": "container.HealthConfig", "ExposedPorts": "nat.PortSet", "Volumes": "map[string]struct {}",
        "RestartPolicy": "container.RestartPolicy", "LogConfig": "container.LogConfig", "PortBindings": "nat.PortMap",
        "NetworkMode": "container.NetworkMode", "IpcMode": "container.IpcMode", "PidMode": "container.PidMode",
        "UTSMode": "container.UTSMode", "UsernsMode": "container.UsernsMode", "CgroupnsMode": "container.CgroupnsMode",
        "Isolation": "container.Isolation", "Cgroup": "container.CgroupSpec", "Mounts": "[]mount.Mount",
        "Devices": "[]container.DeviceMapping", "Ulimits": "[]*container.Ulimit",
        "DeviceRequests": "[]container.DeviceRequest", "EndpointsConfig": "map[string]*network.EndpointSettings",
        "Interval": "time.Duration", "Timeout": "time.Duration", "StartPeriod": "time.Duration",
        "StartInterval": "time.Duration", "Type": "mount.Type", "Consistency": "mount.Consistency",
        "Propagation": "mount.Propagation", "ConsoleSize": "*[2]uint", "BlkioWeight": "uint16",
        "IPAMConfig": "network.EndpointIPAMConfig", "IPAM": "network.IPAM", "EndpointConfig": "network.EndpointSettings",
        // strslice.StrSlice reads a string when a list fails: its error is the string's.
        "Cmd": "string", "Entrypoint": "string", "Shell": "string", "CapAdd": "string", "CapDrop": "string",
    ]

    /// Go's message for a decoding error of `body`; nil when it is no type error Go would
    /// also have (a `null` Go takes as "not set", a key Swift requires).
    func message(_ error: DecodingError, body: [UInt8]) -> String? {
        let path: [any CodingKey]
        let swiftType: String
        switch error {
        case .typeMismatch(let type, let context):
            path = context.codingPath
            swiftType = "\(type)"
        case .dataCorrupted(let context):
            // A number that does not fit its integer (1.5, 70000 for a uint16): Swift's
            // decoder does not say where, so the first such number of the body is it.
            guard let document = try? AnyJSON.parse(Data(body)),
                  let found = context.codingPath.isEmpty ? Self.firstMisfitNumber(in: document, path: []) : context.codingPath
            else { return nil }
            path = found
            swiftType = ""
        default:
            return nil
        }
        guard let document = try? AnyJSON.parse(Data(body)), let found = Self.value(at: path, in: document),
              !(found is AnyJSON.Null) else { return nil }
        let names = path.filter { $0.intValue == nil }.map(\.stringValue)
        // A map's key names no field: its value's type is the Swift one's.
        let leafIsKey = path.count >= 2 && path[path.count - 2].intValue == nil && path.last?.intValue == nil
            && Self.mapFields[path[path.count - 2].stringValue] != nil
        let leaf = leafIsKey ? nil : names.last
        let goType = path.isEmpty ? rootType
            : (leaf.flatMap { overrides[$0] ?? Self.leafType($0, parent: names.dropLast().last) }
                ?? (swiftType.isEmpty ? leaf.flatMap { Self.integerFields[$0] } : Self.goType(swiftType)))
        guard let goType else { return nil }
        let kind = Self.kind(of: found, goType: goType)
        guard let location = location(path) else {
            return "json: cannot unmarshal \(kind) into Go value of type \(goType)"
        }
        return "json: cannot unmarshal \(kind) into Go struct field \(location.structName).\(location.field) of type \(goType)"
    }

    /// The innermost struct that holds the field, and the field's path from the root.
    private func location(_ path: [any CodingKey]) -> (structName: String, field: String)? {
        var structName = String(rootType.split(separator: ".").last ?? "")
        var fields: [String] = []
        var afterMap = false
        for (index, key) in path.enumerated() {
            let isLast = index == path.count - 1
            if key.intValue != nil { continue }
            if afterMap {
                afterMap = false
                continue  // a map key
            }
            fields.append(key.stringValue)
            guard !isLast else { break }
            // "Config" is a map in a LogConfig, a list of structs in an IPAM.
            let isMap = key.stringValue != "Config" || fields.dropLast().last == "LogConfig"
            if isMap, let valueStruct = Self.mapFields[key.stringValue] {
                afterMap = true
                if let valueStruct { structName = valueStruct }
            } else if let name = Self.structFields[key.stringValue] {
                structName = name
            } else if key.stringValue == "Config" && fields.dropLast().last == "IPAM" {
                structName = "IPAMConfig"
            }
        }
        return fields.isEmpty ? nil : (structName, fields.joined(separator: "."))
    }

    /// Go's integer types of the fields a body may hold a misfit number for.
    static let integerFields: [String: String] = [
        "Memory": "int64", "MemorySwap": "int64", "MemoryReservation": "int64", "KernelMemory": "int64",
        "CpuShares": "int64", "CpuPeriod": "int64", "CpuQuota": "int64", "CpuRealtimePeriod": "int64",
        "CpuRealtimeRuntime": "int64", "NanoCpus": "int64", "CPUCount": "int64", "CPUPercent": "int64",
        "ShmSize": "int64", "PidsLimit": "int64", "MemorySwappiness": "int64", "OomScoreAdj": "int",
        "StopTimeout": "int", "MaximumRetryCount": "int", "Retries": "int", "BlkioWeight": "uint16", "Weight": "uint16",
        "Rate": "uint64", "IOMaximumIOps": "uint64", "IOMaximumBandwidth": "uint64", "Soft": "int64", "Hard": "int64",
        "Interval": "time.Duration", "Timeout": "time.Duration", "StartPeriod": "time.Duration",
        "StartInterval": "time.Duration", "ConsoleSize": "uint",
    ]

    /// The path of the first number, in the body's order, that no integer field takes: not
    /// whole, beyond an int64, or beyond a uint16 field's range.
    private static func firstMisfitNumber(in value: Any, path: [any CodingKey]) -> [any CodingKey]? {
        switch value {
        case let number as Double:
            return number.rounded() != number || abs(number) >= 9.2e18 ? path : nil
        case let number as Int:
            let isUInt16 = ["BlkioWeight", "Weight"].contains(path.last?.stringValue ?? "")
            return isUInt16 && !(0...65535).contains(number) ? path : nil
        case let list as [Any]:
            for (index, element) in list.enumerated() {
                if let found = firstMisfitNumber(in: element, path: path + [Key(index)]) { return found }
            }
            return nil
        case let object as [String: Any]:
            for key in object.keys.sorted() {
                if let found = firstMisfitNumber(in: object[key]!, path: path + [Key(key)]) { return found }
            }
            return nil
        default:
            return nil
        }
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int?
        init(_ name: String) { stringValue = name }
        init(_ index: Int) { stringValue = String(index); intValue = index }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { self.init(intValue) }
    }

    private static func leafType(_ name: String, parent: String?) -> String? {
        if ["Interval", "Timeout", "StartPeriod", "StartInterval"].contains(name) && parent != "Healthcheck" { return nil }
        if name == "Type" && parent != "Mounts" { return nil }
        if name == "Name" && parent == "RestartPolicy" { return "container.RestartPolicyMode" }
        return namedTypes[name]
    }

    /// Go's name for what the Swift model expected.
    private static func goType(_ swiftType: String) -> String? {
        switch swiftType {
        case "String": return "string"
        case "Bool": return "bool"
        case "Int": return "int"
        case "Int64": return "int64"
        case "Int32": return "int32"
        case "UInt16": return "uint16"
        case "UInt32": return "uint32"
        case "UInt64": return "uint64"
        case "Double": return "float64"
        case "Array<Any>": return "[]string"
        case "Dictionary<String, Any>": return "map[string]string"
        default: return nil
        }
    }

    /// How Go names the JSON value it could not store: a number that is no integer (or too
    /// large) for an integer type is "number 1.5".
    private static func kind(of value: Any, goType: String) -> String {
        switch value {
        case is String: return "string"
        case is Bool: return "bool"
        case let number as Int:
            return goType.hasPrefix("int") || goType.hasPrefix("uint") ? "number \(number)" : "number"
        case let number as Double:
            let integral = goType.hasPrefix("int") || goType.hasPrefix("uint") || goType == "time.Duration"
            return integral ? "number \(number)" : "number"
        case is [Any]: return "array"
        case is [String: Any]: return "object"
        default: return "value"
        }
    }

    private static func value(at path: [any CodingKey], in document: Any) -> Any? {
        var current = document
        for key in path {
            if let index = key.intValue {
                guard let list = current as? [Any], list.indices.contains(index) else { return nil }
                current = list[index]
            } else {
                guard let object = current as? [String: Any], let next = object[key.stringValue] else { return nil }
                current = next
            }
        }
        return current
    }
}

extension GoJSONTypeError {
    /// POST /containers/create's body.
    static let createRequest = GoJSONTypeError(rootType: "container.CreateRequest")
    /// POST /containers/{id}/exec's body, whose Cmd is a plain list.
    static let execOptions = GoJSONTypeError(rootType: "container.ExecOptions", overrides: ["Cmd": "[]string"])
}
