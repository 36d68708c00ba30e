import BerthOCI
import FoundationEssentials

/// A Dockerfile's `HEALTHCHECK [--interval=D --timeout=D --start-period=D --retries=N] CMD …`
/// or `HEALTHCHECK NONE`, as `docker import/commit --change` take it, with dockerd's errors.
public enum HealthcheckInstruction {
    public static func parse(_ argument: String) throws -> HealthConfig {
        var rest = Substring(argument)
        var values: [String: String] = [:]
        // The flags come first, each as --name=value.
        while rest.hasPrefix("--") {
            let word = rest.prefix { !$0.isWhitespace }
            rest = rest.dropFirst(word.count).drop { $0.isWhitespace }
            let flag = word.dropFirst(2)
            let name = String(flag.prefix { $0 != "=" })
            guard ["interval", "timeout", "start-period", "retries"].contains(name) else {
                throw BerthError.invalidArgument("Unknown flag: \(name)")
            }
            guard flag.contains("=") else { throw BerthError.invalidArgument("Missing a value on flag: \(name)") }
            values[name] = String(flag.dropFirst(name.count + 1))
        }
        guard let kind = rest.split(whereSeparator: \.isWhitespace).first else {
            throw BerthError.invalidArgument("HEALTHCHECK requires at least one argument")
        }
        let command = String(rest.dropFirst(kind.count).drop { $0.isWhitespace })
        var check = HealthConfig()
        switch kind.uppercased() {
        case "NONE":
            guard command.isEmpty else { throw BerthError.invalidArgument("HEALTHCHECK NONE takes no arguments") }
            check.Test = ["NONE"]
            return check
        case "CMD":
            guard !command.isEmpty else { throw BerthError.invalidArgument("Missing command after HEALTHCHECK CMD") }
            // The JSON form runs as it is; anything else through the container's shell.
            if let words = ImageChanges.jsonArray(command) { check.Test = ["CMD"] + words } else { check.Test = ["CMD-SHELL", command] }
        default:
            throw BerthError.invalidArgument("Unknown type \"\(kind.uppercased())\" in HEALTHCHECK (try CMD)")
        }
        check.Interval = try duration(values["interval"], name: "interval")
        check.Timeout = try duration(values["timeout"], name: "timeout")
        check.StartPeriod = try duration(values["start-period"], name: "start-period")
        if let text = values["retries"], !text.isEmpty {
            guard let retries = Int(text) else { throw BerthError.invalidArgument("strconv.ParseInt: parsing \"\(text)\": invalid syntax") }
            guard retries >= 1 else { throw BerthError.invalidArgument("--retries must be at least 1 (not \(retries))") }
            check.Retries = retries
        }
        return check
    }

    /// A set duration must be at least 1ms; unset is nil (the default).
    private static func duration(_ text: String?, name: String) throws -> Int64? {
        guard let text, !text.isEmpty else { return nil }
        guard let nanoseconds = GoDuration.nanoseconds(text) else {
            throw BerthError.invalidArgument("time: invalid duration \"\(text)\"")
        }
        guard nanoseconds >= 1_000_000 else { throw BerthError.invalidArgument("Interval \"\(name)\" cannot be less than 1ms") }
        return nanoseconds
    }
}
