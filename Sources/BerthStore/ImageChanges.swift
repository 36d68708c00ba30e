import BerthOCI
import FoundationEssentials
import Glibc

/// `docker import --change` / `docker commit --change`: Dockerfile instructions applied to an
/// image's config (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL, ONBUILD).
public enum ImageChanges {
    public static func apply(_ changes: [String], to config: inout ImageConfig.Config) throws {
        for change in changes where !change.trimmed(newlines: false).isEmpty {
            let trimmed = change.trimmed(newlines: false)
            let instruction = String(trimmed.prefix { !$0.isWhitespace })
            let argument = trimmed.dropFirst(instruction.count).trimmed(newlines: false)
            switch instruction.uppercased() {
            case "CMD": config.Cmd = command(argument)
            case "ENTRYPOINT": config.Entrypoint = command(argument)
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
                var ports = config.ExposedPorts ?? [:]
                for port in argument.split(separator: " ") {
                    let parts = port.split(separator: "/")
                    guard let number = Int(parts[0]), (1...65535).contains(number), parts.count <= 2,
                          parts.count == 1 || ["tcp", "udp", "sctp"].contains(parts[1].lowercased()) else {
                        throw BerthError.invalidArgument("Invalid containerPort: \(port)")
                    }
                    ports["\(number)/\(parts.count == 2 ? parts[1].lowercased() : "tcp")"] = EmptyObject()
                }
                config.ExposedPorts = ports
            case "USER": config.User = argument
            case "WORKDIR": config.WorkingDir = argument
            case "STOPSIGNAL": config.StopSignal = argument
            case "VOLUME":
                var volumes = config.Volumes ?? [:]
                for path in jsonArray(argument) ?? argument.split(separator: " ").map(String.init) { volumes[path] = EmptyObject() }
                config.Volumes = volumes
            case "ONBUILD": config.OnBuild = (config.OnBuild ?? []) + [argument]
            case "HEALTHCHECK": config.Healthcheck = try HealthcheckInstruction.parse(String(argument))
            default:
                throw BerthError.invalidArgument("\(instruction.lowercased()) is not a valid change command")
            }
        }
    }

    /// JSON form stays as given; shell form runs through /bin/sh -c, as in a Dockerfile.
    static func command(_ argument: String) -> [String] {
        jsonArray(argument) ?? ["/bin/sh", "-c", argument]
    }

    static func jsonArray(_ text: String) -> [String]? {
        guard text.hasPrefix("[") else { return nil }
        return try? JSONDecoder().decode([String].self, from: Data(text.utf8))
    }

    /// "k=v k2=v2" or the old "k v" form.
    static func pairs(_ argument: String, instruction: String) throws -> [(String, String)] {
        guard !argument.isEmpty else { throw BerthError.invalidArgument("\(instruction) requires at least one argument") }
        if !argument.split(separator: " ")[0].contains("=") {
            let parts = argument.split(separator: " ", maxSplits: 1)
            return [(String(parts[0]), parts.count > 1 ? String(parts[1]) : "")]
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
