import BerthOCI

/// The contents of the /etc/hostname, /etc/hosts and /etc/resolv.conf files Docker generates
/// for a container. Pure functions of their inputs: the caller reads the host's files and
/// writes the results into the container's directory.
public enum ContainerFiles {
    /// /etc/hostname: the hostname and a newline.
    public static func hostname(_ hostname: String) -> String {
        hostname + "\n"
    }

    static let defaultHostsRecords: [(address: String, names: String)] = [
        ("127.0.0.1", "localhost"),
        ("::1", "localhost ip6-localhost ip6-loopback"),
        ("fe00::0", "ip6-localnet"),
        ("ff00::0", "ip6-mcastprefix"),
        ("ff02::1", "ip6-allnodes"),
        ("ff02::2", "ip6-allrouters"),
    ]

    /// /etc/hosts of a container with its own network namespace: Docker's default records,
    /// the ExtraHosts entries, the legacy links' lines, then one line per address of the container naming it by its
    /// full and short hostname. `hostGateway` is what `host-gateway` stands for.
    public static func hosts(hostname: String, domainname: String? = nil, extraHosts: [String]? = nil,
                             hostGateway: String? = nil, containerAddresses: [String] = [],
                             linkLines: [String] = []) throws -> String {
        var text = ""
        for record in defaultHostsRecords { text += "\(record.address)\t\(record.names)\n" }
        text += try extraHostsLines(extraHosts, hostGateway: hostGateway)
        // Links' lines come before the container's own, as in dockerd's file.
        text += linkLines.map { $0 + "\n" }.joined()
        let names = selfNames(hostname: hostname, domainname: domainname)
        for address in containerAddresses { text += "\(address)\t\(names)\n" }
        return text
    }

    /// /etc/hosts with `--network host`: a copy of the host's file; with ExtraHosts, Docker
    /// writes its default records and the extra ones instead.
    public static func hostsForHostNetwork(hostFile: String, extraHosts: [String]? = nil,
                                           hostGateway: String? = nil) throws -> String {
        guard let extraHosts, !extraHosts.isEmpty else { return hostFile }
        return try hosts(hostname: "", extraHosts: extraHosts, hostGateway: hostGateway)
    }

    static func extraHostsLines(_ entries: [String]?, hostGateway: String?) throws -> String {
        var text = ""
        for entry in entries ?? [] {
            var host = try ExtraHost.parse(entry)
            if host.address == ExtraHost.hostGateway {
                guard let hostGateway, !hostGateway.isEmpty else {
                    throw BerthError.invalidArgument("unable to derive the IP value for host-gateway")
                }
                host.address = hostGateway
            }
            text += "\(host.address)\t\(host.name)\n"
        }
        return text
    }

    /// "web.example.com web" for hostname "web" and domain "example.com"; a bare name alone.
    static func selfNames(hostname: String, domainname: String?) -> String {
        var fqdn = hostname
        if let domainname, !domainname.isEmpty { fqdn += "." + domainname }
        guard let dot = fqdn.firstIndex(of: ".") else { return fqdn }
        return "\(fqdn) \(fqdn[..<dot])"
    }

    // MARK: resolv.conf

    static let defaultIPv4Nameservers = ["nameserver 8.8.8.8", "nameserver 8.8.4.4"]
    static let defaultIPv6Nameservers = ["nameserver 2001:4860:4860::8888", "nameserver 2001:4860:4860::8844"]

    /// Which host file to start from: with systemd-resolved's stub (a lone 127.0.0.53)
    /// in /etc/resolv.conf, Docker reads the real upstream list instead.
    public static func resolvConfSource(etcResolvConf: String) -> String {
        nameservers(in: etcResolvConf) == ["127.0.0.53"] ? "/run/systemd/resolve/resolv.conf" : "/etc/resolv.conf"
    }

    /// /etc/resolv.conf for a container, from the host's file (`hostFile`, empty when the
    /// host has none):
    /// - Dns, DnsSearch or DnsOptions given: a file of search, nameserver and options lines,
    ///   each taken from the request when given and from the host's file otherwise.
    /// - host network, none given: the host's file as is.
    /// - otherwise the host's file without loopback nameservers (unreachable from another
    ///   network namespace) and, without IPv6, without IPv6 ones; if none remain, Google's
    ///   public servers are written into the file (nothing is contacted).
    public static func resolvConf(hostFile: String, dns: [String]? = nil, dnsSearch: [String]? = nil,
                                  dnsOptions: [String]? = nil, hostNetwork: Bool = false,
                                  ipv6Enabled: Bool = false) -> String {
        let dns = dns ?? [], dnsSearch = dnsSearch ?? [], dnsOptions = dnsOptions ?? []
        if !dns.isEmpty || !dnsSearch.isEmpty || !dnsOptions.isEmpty {
            let servers = dns.isEmpty ? nameservers(in: hostFile) : dns
            let search = dnsSearch.isEmpty ? lastFields(of: "search", in: hostFile) : dnsSearch
            let options = dnsOptions.isEmpty ? lastFields(of: "options", in: hostFile) : dnsOptions
            var text = ""
            let searchLine = search.joined(separator: " ")
            if !search.isEmpty && searchLine.trimmed(of: [" "]) != "." { text += "search \(searchLine)\n" }
            for server in servers { text += "nameserver \(server)\n" }
            let optionsLine = options.joined(separator: " ")
            if !options.isEmpty && !optionsLine.trimmed(of: [" "]).isEmpty { text += "options \(optionsLine)\n" }
            return text
        }
        if hostNetwork { return hostFile }
        var cleaned = removeNameserverLines(from: hostFile) { address in
            isLoopback(address) || (!ipv6Enabled && address.contains(":"))
        }
        if nameservers(in: cleaned).isEmpty {
            let defaults = defaultIPv4Nameservers + (ipv6Enabled ? defaultIPv6Nameservers : [])
            cleaned += "\n" + defaults.joined(separator: "\n")
        }
        return cleaned
    }

    /// The addresses of the file's `nameserver` lines (comments stripped).
    public static func nameservers(in text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).compactMap { line in
            let fields = uncommented(line).split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count == 2, fields[0] == "nameserver" else { return nil }
            let address = String(fields[1])
            return ExtraHost.isIPAddress(String(address.prefix { $0 != "%" })) ? address : nil
        }
    }

    /// The words of the last `search` or `options` line.
    static func lastFields(of keyword: String, in text: String) -> [String] {
        var result: [String] = []
        for line in text.split(separator: "\n") {
            let fields = uncommented(line).split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.first.map(String.init) == keyword { result = fields.dropFirst().map(String.init) }
        }
        return result
    }

    static func uncommented(_ line: Substring) -> Substring {
        line.prefix { $0 != "#" }
    }

    static func isLoopback(_ address: String) -> Bool {
        address == "::1" || (address.hasPrefix("127.") && ExtraHost.isIPAddress(address))
    }

    /// Drops `nameserver <address>` lines whose address matches, together with the blank
    /// lines after them (as Docker's regular expressions do).
    static func removeNameserverLines(from text: String, where matches: (String) -> Bool) -> String {
        var output: [Substring] = []
        var droppingBlanks = false
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() {
            if droppingBlanks && line.allSatisfy({ $0 == " " || $0 == "\t" }) && index < lines.count - 1 { continue }
            droppingBlanks = false
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if line.hasPrefix("nameserver"), fields.count >= 2, fields[0] == "nameserver",
               matches(String(fields[1].prefix { $0 != "%" })) {
                droppingBlanks = true
                continue
            }
            output.append(line)
        }
        return output.joined(separator: "\n")
    }
}
