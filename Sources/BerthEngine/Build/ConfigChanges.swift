import BerthOCI
import BerthStore

/// `docker commit --change` and `docker import --change`: the changes read together as a
/// Dockerfile and applied as build steps apply them (quotes, escapes, `$VAR` from the
/// config's own Env), as dockerd runs them through its builder.
enum ConfigChanges {
    /// dockerd 20.10's change commands (STOPSIGNAL came with a later API version).
    static let allowed: Set<String> = ["cmd", "entrypoint", "env", "expose", "healthcheck", "label", "onbuild", "user",
                                       "volume", "workdir"]

    static func apply(_ changes: [String], to config: inout ContainerConfig) throws {
        guard changes.contains(where: { !$0.trimmed(newlines: false).isEmpty }) else { return }
        do {
            let document = try DockerfileSyntax.parse(changes.joined(separator: "\n"))
            var cmdSet = false
            for line in document.lines {
                guard allowed.contains(line.instruction) else {
                    throw BerthError.invalidArgument("\(line.instruction) is not a valid change command")
                }
                let instruction = try Dockerfile.parseInstruction(line, escape: document.escape)
                let words = DockerfileWords(escape: document.escape, environment: DockerfileWords.environment(config.Env ?? []))
                if case .workdir(let path) = instruction {
                    config.WorkingDir = ConfigInstructions.workingDirectory(try words.word(path), from: config.WorkingDir ?? "")
                    continue
                }
                let shell = (config.Shell ?? []).isEmpty ? BuildStageState.defaultShell : config.Shell!
                _ = try ConfigInstructions.apply(instruction, words: words, shell: shell, cmdSet: &cmdSet, to: &config)
            }
        } catch let failure as BuildFailure {
            throw BerthError.invalidArgument(failure.message)
        } catch let error as BerthError {
            // The parser's own words, without what a build puts before them.
            let prefix = "failed to parse Dockerfile: "
            throw BerthError(error.code, error.message.hasPrefix(prefix) ? String(error.message.dropFirst(prefix.count)) : error.message)
        }
    }

    /// An imported image's config: the changes over an empty one.
    static func importedConfig(_ changes: [String]) throws -> ImageConfig.Config {
        var config = ContainerConfig()
        try apply(changes, to: &config)
        var image = ImageConfig.Config()
        image.User = config.User
        image.Env = config.Env
        image.Cmd = config.Cmd
        image.Entrypoint = config.Entrypoint
        image.WorkingDir = config.WorkingDir
        image.Labels = config.Labels
        image.ExposedPorts = config.ExposedPorts
        image.Volumes = config.Volumes
        image.OnBuild = config.OnBuild
        image.Healthcheck = config.Healthcheck
        return image
    }
}
