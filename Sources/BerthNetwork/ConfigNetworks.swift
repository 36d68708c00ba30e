import FoundationEssentials

/// What a configuration network (`network create --config-only`) holds for the networks made
/// `--config-from` it; its labels, driver options and IPAM options are the record's own fields.
public struct NetworkConfiguration: Codable, Sendable {
    /// The IPAM configs as given (nothing is allocated from them until a network uses them).
    public var ipam: [NetworkCreateRequest.IPAMConfig]
    public var enableIPv6: Bool
}

extension NetworkRequestError {
    static let endpointOnConfigNetwork = NetworkRequestError(kind: .forbidden, description: "cannot create endpoint on configuration-only network")

    /// A subnet that is no CIDR, in dockerd's words.
    static func invalidSubnet(_ text: String) -> NetworkRequestError {
        NetworkRequestError(kind: .invalid, description: "Invalid subnet \(text) : invalid CIDR address: \(text)")
    }
}

/// Configuration networks as dockerd has them: a config-only network is settings under a name,
/// with the driver "null", no device and no addresses; nothing joins it. A network made from
/// it takes its IPAM configs, IPv6 switch, labels and driver options, and may add none of its own.
extension NetworkService {
    /// `--config-only`: refused with the fields dockerd refuses (the "operator" ones), else kept.
    func createConfigurationNetwork(_ request: NetworkCreateRequest) throws -> String {
        if request.Ingress == true || request.Internal == true || request.Attachable == true || !(request.Scope ?? "").isEmpty {
            throw NetworkRequestError(kind: .forbidden, description: "configuration network can only contain network specific fields. Network operator fields like [ ingress | internal | attachable | scope ] are not supported.")
        }
        if !(request.ConfigFrom?.Network ?? "").isEmpty {
            throw NetworkRequestError(kind: .forbidden, description: "a configuration network cannot depend on another configuration network")
        }
        let configs = request.IPAM?.Config ?? []
        for subnet in configs.compactMap(\.Subnet) where !subnet.isEmpty && IPv4Subnet(subnet) == nil && IPv6Subnet(subnet) == nil {
            throw NetworkRequestError.invalidSubnet(subnet)
        }
        let id = unusedNetworkID()
        var record = NetworkRecord(id: id, name: request.Name, driver: "null", created: nowTimestamp())
        record.labels = request.Labels ?? [:]
        record.options = request.Options ?? [:]
        record.ipamOptions = request.IPAM?.Options
        record.configuration = NetworkConfiguration(ipam: configs, enableIPv6: request.EnableIPv6 ?? false)
        try save(record)
        return id
    }

    /// `--config-from`'s own settings must be left empty, as dockerd checks them before the driver.
    static func checkDependsOnlyOnConfiguration(_ request: NetworkCreateRequest) throws {
        let ipamDriver = request.IPAM?.Driver ?? ""
        if (!ipamDriver.isEmpty && ipamDriver != "default") || request.EnableIPv6 == true || !(request.Labels ?? [:]).isEmpty
            || !(request.IPAM?.Options ?? [:]).isEmpty || !(request.IPAM?.Config ?? []).isEmpty {
            throw NetworkRequestError(kind: .forbidden, description: "user-specified configurations are not supported if the network depends on a configuration network")
        }
        if !(request.Options ?? [:]).isEmpty {
            throw NetworkRequestError(kind: .forbidden, description: "network driver options are not supported if the network depends on a configuration network")
        }
    }

    /// The request with the configuration network's settings in place of its own (empty) ones.
    func applyingConfiguration(named name: String, to request: NetworkCreateRequest) throws -> NetworkCreateRequest {
        guard let source = networks.values.first(where: { $0.name == name && $0.configuration != nil }),
              let configuration = source.configuration else {
            throw NetworkRequestError(kind: .notFound, description: "configuration network \"\(name)\" does not exist")
        }
        var applied = request
        applied.IPAM = .init(Driver: request.IPAM?.Driver, Config: configuration.ipam, Options: source.ipamOptions)
        applied.EnableIPv6 = configuration.enableIPv6
        applied.Labels = source.labels
        applied.Options = source.options
        return applied
    }

    /// A configuration network goes only once no network is made from it.
    func checkConfigurationUnused(_ record: NetworkRecord) throws {
        guard record.configuration != nil, networks.values.contains(where: { $0.configFrom == record.name }) else { return }
        throw NetworkRequestError(kind: .forbidden, description: "error while removing network: configuration network \"\(record.name)\" is in use")
    }
}
