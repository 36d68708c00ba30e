import BerthOCI
import BerthStore

/// The Dockerfile instructions that change only an image's config, applied the same way by a
/// build step and by `docker commit --change` / `docker import --change` (dockerd runs both
/// through its builder): arguments substituted with `words`, shell forms through `shell`.
enum ConfigInstructions {
    /// Applies `instruction` to `config` and returns the step's history text; nil when the
    /// instruction needs more than the config (RUN, COPY, ARG, WORKDIR's directory, ...).
    static func apply(_ instruction: DockerfileInstruction, words: DockerfileWords, shell: [String],
                      cmdSet: inout Bool, to config: inout ContainerConfig) throws -> String? {
        switch instruction {
        case .cmd(let command):
            let cmd = command.prependShell ? shell + command.arguments : command.arguments
            config.Cmd = cmd
            cmdSet = true
            return "CMD \(GoFormat.quote(cmd))"
        case .entrypoint(let command):
            let entrypoint = command.prependShell ? (command.arguments.isEmpty ? [] : shell + command.arguments) : command.arguments
            config.Entrypoint = entrypoint.isEmpty ? nil : entrypoint  // `ENTRYPOINT []` is null, as dockerd stores it
            if !cmdSet { config.Cmd = nil }
            return "ENTRYPOINT \(GoFormat.quote(config.Entrypoint ?? []))"
        case .env(let pairs):
            var history = "ENV"
            var env = config.Env ?? []
            for pair in pairs {
                let name = try words.word(pair.name)
                let value = try words.word(pair.value)
                history += " \(name)=\(value)"
                // A variable set again keeps its place.
                if let index = env.firstIndex(where: { $0.prefix { $0 != "=" } == name }) {
                    env[index] = "\(name)=\(value)"
                } else {
                    env.append("\(name)=\(value)")
                }
            }
            config.Env = env
            return history
        case .label(let pairs):
            var history = "LABEL"
            var labels = config.Labels ?? [:]
            for pair in pairs {
                let name = pair.literal ? pair.name : try words.word(pair.name)
                let value = pair.literal ? pair.value : try words.word(pair.value)
                history += " \(name)=\(value)"
                labels[name] = value
            }
            config.Labels = labels
            return history
        case .user(let user):
            config.User = try words.word(user)
            return "USER \(config.User!)"
        case .expose(let ports):
            var expanded: [String] = []
            for port in ports { expanded += try words.words(port) }
            var exposed = config.ExposedPorts ?? [:]
            for spec in expanded {
                for port in try ImageChanges.exposedPorts(spec) { exposed[port] = EmptyObject() }
            }
            config.ExposedPorts = exposed
            // dockerd's history line lists them sorted as text.
            return "EXPOSE " + expanded.sorted().joined(separator: " ")
        case .volume(let paths):
            var expanded: [String] = []
            var volumes = config.Volumes ?? [:]
            for path in paths {
                let value = try words.word(path)
                guard !value.trimmed(newlines: false).isEmpty else {
                    throw BuildFailure("VOLUME specified can not be an empty string")
                }
                expanded.append(value)
                volumes[value] = EmptyObject()
            }
            config.Volumes = volumes
            return "VOLUME [\(expanded.joined(separator: " "))]"
        case .stopSignal(let signal):
            let value = try words.word(signal)
            guard (try? DockerSignal.parse(value)) != nil else { throw BuildFailure("Invalid signal: \(value)") }
            config.StopSignal = value
            return "STOPSIGNAL \(value)"
        case .healthcheck(let text):
            let check = try HealthcheckInstruction.parse(text)
            config.Healthcheck = check
            return "HEALTHCHECK \(describe(check))"
        case .shell(let shell):
            config.Shell = shell
            return "SHELL [\(shell.joined(separator: " "))]"
        case .onbuild(let expression):
            // Kept as written: the trigger is parsed again when a build starts from this image.
            config.OnBuild = (config.OnBuild ?? []) + [expression]
            return "ONBUILD \(expression)"
        case .from, .run, .arg, .workdir, .maintainer, .copy, .add:
            return nil
        }
    }

    /// WORKDIR: an absolute path is kept as written (dockerd keeps "/a//b"), a relative one
    /// continues from the current directory.
    static func workingDirectory(_ path: String, from current: String) -> String {
        path.hasPrefix("/") ? path : ImageChanges.workingDirectory(path, from: current)
    }

    /// dockerd's HEALTHCHECK history text: Go's `%q` of the config struct.
    static func describe(_ check: HealthConfig) -> String {
        "&{\(GoFormat.quote(check.Test ?? [])) \(GoFormat.quote(GoFormat.duration(check.Interval ?? 0))) "
            + "\(GoFormat.quote(GoFormat.duration(check.Timeout ?? 0))) \(GoFormat.quote(GoFormat.duration(check.StartPeriod ?? 0))) "
            + "\(GoFormat.quoteRune(check.Retries ?? 0))}"
    }
}
