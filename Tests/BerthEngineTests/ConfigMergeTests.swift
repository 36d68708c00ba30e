import BerthOCI
import Testing
@testable import BerthEngine

struct ConfigMergeTests {
    static func image(entrypoint: [String]? = nil, cmd: [String]? = nil, env: [String]? = nil) -> ImageConfig.Config {
        var image = ImageConfig.Config()
        image.Entrypoint = entrypoint
        image.Cmd = cmd
        image.Env = env
        image.WorkingDir = "/srv"
        image.User = "app"
        image.Labels = ["a": "image", "b": "image"]
        return image
    }

    static func request(entrypoint: [String]? = nil, cmd: [String]? = nil, env: [String]? = nil) -> ContainerConfig {
        var config = ContainerConfig()
        config.Entrypoint = entrypoint
        config.Cmd = cmd
        config.Env = env
        return config
    }

    @Test func imageCommandIsUsedWhenTheRequestHasNone() throws {
        let merged = try Self.request().merged(withImage: Self.image(entrypoint: ["/entry"], cmd: ["serve"]))
        #expect(merged.commandLine == ["/entry", "serve"])
        #expect(merged.WorkingDir == "/srv")
        #expect(merged.User == "app")
    }

    @Test func cmdWithoutEntrypointKeepsTheImageEntrypoint() throws {
        let merged = try Self.request(cmd: ["ls"]).merged(withImage: Self.image(entrypoint: ["/entry"], cmd: ["serve"]))
        #expect(merged.Entrypoint == ["/entry"])
        #expect(merged.Cmd == ["ls"])
    }

    @Test func entrypointResetsTheImageCmd() throws {
        let merged = try Self.request(entrypoint: ["/bin/echo"]).merged(withImage: Self.image(entrypoint: ["/entry"], cmd: ["serve"]))
        #expect(merged.commandLine == ["/bin/echo"])
    }

    @Test func emptyStringEntrypointClearsItAndNeedsACommand() throws {
        let merged = try Self.request(entrypoint: [""], cmd: ["sh"]).merged(withImage: Self.image(entrypoint: ["/entry"], cmd: ["serve"]))
        #expect(merged.Entrypoint == nil)
        #expect(merged.commandLine == ["sh"])
        #expect(throws: BerthError.invalidArgument("No command specified")) {
            try Self.request(entrypoint: [""]).merged(withImage: Self.image(entrypoint: ["/entry"], cmd: ["serve"]))
        }
    }

    @Test func nothingToRunIsAnError() {
        #expect(throws: BerthError.invalidArgument("No command specified")) {
            try Self.request().merged(withImage: Self.image())
        }
    }

    @Test func requestEnvWinsPerName() throws {
        let merged = try Self.request(cmd: ["sh"], env: ["A=request", "C=3"])
            .merged(withImage: Self.image(env: ["PATH=/image/bin", "A=image", "B=2"]))
        #expect(merged.Env == ["A=request", "C=3", "PATH=/image/bin", "B=2"])
    }

    @Test func labelsAreMergedRequestFirst() throws {
        var request = Self.request(cmd: ["sh"])
        request.Labels = ["a": "request"]
        let merged = try request.merged(withImage: Self.image())
        #expect(merged.Labels == ["a": "request", "b": "image"])
    }

    @Test func processEnvironmentPutsDockerDefaultsFirst() {
        var config = Self.request(env: ["PATH=/image/bin", "B=2", "HOSTNAME"])
        config.Tty = true
        #expect(SpecBuilder.environment(config: config, hostname: "abc") == ["PATH=/image/bin", "TERM=xterm", "B=2"])
        config.Env = ["B=2"]
        config.Tty = false
        #expect(SpecBuilder.environment(config: config, hostname: "abc")
            == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=abc", "B=2"])
    }
}
