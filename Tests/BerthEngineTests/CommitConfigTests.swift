import BerthOCI
import Testing
@testable import BerthEngine

/// The config `docker commit` gives the new image: dockerd's change instructions and its
/// merge with the container's config.
struct CommitConfigTests {
    static func container() -> ContainerConfig {
        var config = ContainerConfig()
        config.Hostname = "abc"
        config.User = "nobody"
        config.Env = ["PATH=/bin", "KEEP=1"]
        config.Cmd = ["sleep", "1"]
        config.WorkingDir = "/srv"
        config.Labels = ["a": "1"]
        config.ExposedPorts = ["80/tcp": EmptyObject()]
        config.Tty = true
        return config
    }

    @Test func changesApplyToTheContainersConfig() throws {
        let made = try CommitConfig.make(base: Self.container(), changes: ["CMD [\"cat\"]", "ENV KEEP=2 NEW=x", "WORKDIR /tmp",
                                                                           "EXPOSE 53/udp", "LABEL b=2", "USER root",
                                                                           "HEALTHCHECK --interval=5s --retries=2 CMD true"],
                                         container: Self.container())
        #expect(made.Cmd == ["cat"])
        #expect(made.Env == ["PATH=/bin", "KEEP=2", "NEW=x"])
        #expect(made.WorkingDir == "/tmp")
        #expect(made.ExposedPorts == ["80/tcp": EmptyObject(), "53/udp": EmptyObject()])
        #expect(made.Labels == ["a": "1", "b": "2"])
        #expect(made.User == "root")
        #expect(made.Healthcheck == HealthConfig(Test: ["CMD-SHELL", "true"], Interval: 5_000_000_000, Retries: 2))
        // What the instructions do not touch passes through.
        #expect(made.Hostname == "abc" && made.Tty == true)
    }

    @Test func dockerdsRefusals() {
        #expect(throws: BerthError.invalidArgument("foo is not a valid change command")) {
            try CommitConfig.make(base: Self.container(), changes: ["FOO bar"], container: Self.container())
        }
        #expect(throws: BerthError.invalidArgument("from is not a valid change command")) {
            try CommitConfig.make(base: Self.container(), changes: ["FROM busybox"], container: Self.container())
        }
        // dockerd 20.10 has no STOPSIGNAL among its change commands.
        #expect(throws: BerthError.invalidArgument("stopsignal is not a valid change command")) {
            try CommitConfig.make(base: Self.container(), changes: ["STOPSIGNAL SIGINT"], container: Self.container())
        }
        #expect(throws: BerthError.invalidArgument("Invalid containerPort: x")) {
            try CommitConfig.make(base: Self.container(), changes: ["EXPOSE x"], container: Self.container())
        }
    }

    @Test func anEntrypointChangeDropsTheCommandUnlessACmdComesWithIt() throws {
        let alone = try CommitConfig.make(base: Self.container(), changes: ["ENTRYPOINT echo"], container: Self.container())
        #expect(alone.Entrypoint == ["/bin/sh", "-c", "echo"] && alone.Cmd == nil)
        let both = try CommitConfig.make(base: Self.container(), changes: ["CMD [\"x\"]", "ENTRYPOINT [\"/e\"]"], container: Self.container())
        #expect(both.Entrypoint == ["/e"] && both.Cmd == ["x"])
        // An empty one clears it, and the container's command comes back in the merge.
        let cleared = try CommitConfig.make(base: Self.container(), changes: ["ENTRYPOINT []"], container: Self.container())
        #expect(cleared.Entrypoint == nil && cleared.Cmd == ["sleep", "1"])
    }

    @Test func aGivenConfigIsCompletedFromTheContainers() {
        var given = ContainerConfig()
        given.Env = ["KEEP=0"]
        given.Entrypoint = ["/bin/app"]
        let merged = CommitConfig.merged(given, with: Self.container())
        #expect(merged.Env == ["KEEP=0", "PATH=/bin"])
        // An entrypoint of its own keeps the container's command out.
        #expect(merged.Entrypoint == ["/bin/app"] && merged.Cmd == nil)
        #expect(merged.User == "nobody" && merged.WorkingDir == "/srv")
        #expect(merged.Labels == ["a": "1"] && merged.ExposedPorts == ["80/tcp": EmptyObject()])
        // Nothing at all: the container's config, labels never null.
        let empty = CommitConfig.merged(ContainerConfig(), with: ContainerConfig())
        #expect(empty.Labels == [:] && empty.Volumes == nil && empty.Cmd == nil)
        #expect(CommitConfig.merged(ContainerConfig(), with: Self.container()).Cmd == ["sleep", "1"])
    }
}
