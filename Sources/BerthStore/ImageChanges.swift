import BerthOCI
import FoundationEssentials
import Glibc

/// `docker import --change` / `docker commit --change`: Dockerfile instructions applied to an
/// image's config, as dockerd 20.10 applies them (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER,
/// WORKDIR, VOLUME, ONBUILD, HEALTHCHECK). Its other instructions, STOPSIGNAL included, it
/// refuses as "not a valid change command".
public enum ImageChanges {
    public static func apply(_ changes: [String], to config: inout ImageConfig.Config) throws {
        var cmdSet = false
        for change in changes where !change.trimmed(newlines: false).isEmpty {
            let (instruction, argument) = split(change)
            switch instruction.uppercased() {
            case "CMD":
                config.Cmd = command(argument)
                cmdSet = true
            case "ENTRYPOINT":
                // An empty one (shell or JSON form) clears it.
                if let list = jsonArray(argument) {
                    config.Entrypoint = list.isEmpty ? nil : list
                } else {
                    config.Entrypoint = argument.isEmpty ? nil : ["/bin/sh", "-c", argument]
                }
                // An ENTRYPOINT drops the command unless a CMD came with it.
                if !cmdSet { config.Cmd = nil }
            case "ENV":
                var env = config.Env ?? []
                for (key, value) in try pairs(argument, instruction: "ENV") {
                    env.removeAll { $0.hasPrefix(key + "=") }
                    env.append(key + "=" + value)
                }
                config.Env = env
            case "LABEL":
                var labels = config.Labels ?? [:]
                for (key, value) in try pairs(argument, instruction: "LABEL") { labels[key] = value }
                config.Labels = labels
            case "EXPOSE":
                guard !argument.isEmpty else { throw BerthError.invalidArgument("EXPOSE requires at least one argument") }
                var ports = config.ExposedPorts ?? [:]
                for spec in argument.split(separator: " ") {
                    for port in try exposedPorts(String(spec)) { ports[port] = EmptyObject() }
                }
                config.ExposedPorts = ports
            case "USER":
                guard !argument.isEmpty else { throw BerthError.invalidArgument("USER requires exactly one argument") }
                config.User = argument
            case "WORKDIR":
                guard !argument.isEmpty else { throw BerthError.invalidArgument("WORKDIR requires exactly one argument") }
                config.WorkingDir = workingDirectory(argument, from: config.WorkingDir ?? "")
            case "VOLUME":
                let paths = jsonArray(argument) ?? argument.split(separator: " ").map(String.init)
                guard !paths.isEmpty else { throw BerthError.invalidArgument("VOLUME requires at least one argument") }
                var volumes = config.Volumes ?? [:]
                for path in paths {
                    guard !path.trimmed(newlines: false).isEmpty else { throw BerthError.invalidArgument("VOLUME specified can not be an empty string") }
                    volumes[path] = EmptyObject()
                }
                config.Volumes = volumes
            case "ONBUILD":
                guard !argument.isEmpty else { throw BerthError.invalidArgument("ONBUILD requires at least one argument") }
                let trigger = split(argument).instruction.uppercased()
                if trigger == "ONBUILD" { throw BerthError.invalidArgument("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed") }
                if trigger == "FROM" || trigger == "MAINTAINER" {
                    throw BerthError.invalidArgument("\(trigger) isn't allowed as an ONBUILD trigger")
                }
                config.OnBuild = (config.OnBuild ?? []) + [argument]
            case "HEALTHCHECK": config.Healthcheck = try HealthcheckInstruction.parse(argument)
            default:
                throw BerthError.invalidArgument("\(instruction.lowercased()) is not a valid change command")
            }
        }
    }

    /// "CMD [\"x\"]" → ("CMD", "[\"x\"]").
    static func split(_ change: String) -> (instruction: String, argument: String) {
        let trimmed = change.trimmed(newlines: false)
        let instruction = String(trimmed.prefix { !$0.isWhitespace })
        return (instruction, trimmed.dropFirst(instruction.count).trimmed(newlines: false))
    }

    /// JSON form stays as given; shell form runs through /bin/sh -c, as in a Dockerfile.
    static func command(_ argument: String) -> [String] {
        if let list = jsonArray(argument) { return list }
        return argument.isEmpty ? ["/bin/sh", "-c"] : ["/bin/sh", "-c", argument]
    }

    public static func jsonArray(_ text: String) -> [String]? {
        guard text.hasPrefix("[") else { return nil }
        return try? JSONDecoder().decode([String].self, from: Data(text.utf8))
    }

    /// A relative WORKDIR continues from the one before (from / when there is none).
    public static func workingDirectory(_ path: String, from current: String) -> String {
        if path.hasPrefix("/") { return cleanPath(path) }
        return cleanPath((current.isEmpty ? "/" : current) + "/" + path)
    }

    static func cleanPath(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// "80", "80/udp", "8000-8002/tcp" → "80/tcp" ... (dockerd's nat.ParsePortSpecs wording).
    public static func exposedPorts(_ spec: String) throws -> [String] {
        let parts = spec.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let proto = parts.count == 2 ? parts[1].lowercased() : "tcp"
        guard ["tcp", "udp", "sctp"].contains(proto) else { throw BerthError.invalidArgument("Invalid proto: \(parts[1])") }
        let bounds = parts[0].split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard let low = UInt16(bounds[0]), let high = bounds.count == 2 ? UInt16(bounds[1]) : low, low <= high else {
            throw BerthError.invalidArgument("Invalid containerPort: \(parts[0])")
        }
        return (low...high).map { "\($0)/\(proto)" }
    }

    /// "k=v k2=v2" or the old "k v" form (a value with spaces).
    static func pairs(_ argument: String, instruction: String) throws -> [(String, String)] {
        guard !argument.isEmpty else { throw BerthError.invalidArgument("\(instruction) requires at least one argument") }
        if !argument.split(separator: " ")[0].contains("=") {
            let parts = argument.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { throw BerthError.invalidArgument("\(instruction) must have two arguments") }
            return [(String(parts[0]), parts[1].trimmed(newlines: false))]
        }
        return try argument.split(separator: " ").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 || pair.hasSuffix("=") else {
                throw BerthError.invalidArgument("\(instruction) names must be given as key=value: \(pair)")
            }
            let value = parts.count == 2 ? String(parts[1]).trimmed(of: ["\""]) : ""
            return (String(parts[0]), value)
        }
    }
}
