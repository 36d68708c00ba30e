import BerthOCI
import Testing
@testable import BerthStore

/// `--change` instructions of import and commit, with dockerd 20.10's results and refusals.
struct ImageChangesTests {
    static func applied(_ changes: [String], to start: ImageConfig.Config = ImageConfig.Config()) throws -> ImageConfig.Config {
        var config = start
        try ImageChanges.apply(changes, to: &config)
        return config
    }

    @Test func formsAsDockerdReadsThem() throws {
        #expect(try Self.applied(["CMD"]).Cmd == ["/bin/sh", "-c"])
        #expect(try Self.applied(["CMD echo hi"]).Cmd == ["/bin/sh", "-c", "echo hi"])
        #expect(try Self.applied(["EXPOSE 1-3 80/UDP 0"]).ExposedPorts
                == ["1/tcp": EmptyObject(), "2/tcp": EmptyObject(), "3/tcp": EmptyObject(), "80/udp": EmptyObject(), "0/tcp": EmptyObject()])
        #expect(try Self.applied(["WORKDIR a b"]).WorkingDir == "/a b")
        #expect(try Self.applied(["WORKDIR /srv", "WORKDIR app/../web"]).WorkingDir == "/srv/web")
        #expect(try Self.applied(["ENV a b c"]).Env == ["a=b c"])
        #expect(try Self.applied(["ENV a=1 b=2", "ENV a=3"]).Env == ["b=2", "a=3"])
        #expect(try Self.applied(["VOLUME [\"/a\", \"/b\"]", "VOLUME /c"]).Volumes == ["/a": EmptyObject(), "/b": EmptyObject(), "/c": EmptyObject()])
        #expect(try Self.applied(["ONBUILD run echo"]).OnBuild == ["run echo"])
        #expect(try Self.applied(["USER a b"]).User == "a b")
        var withCmd = ImageConfig.Config()
        withCmd.Cmd = ["old"]
        #expect(try Self.applied(["ENTRYPOINT"], to: withCmd).Entrypoint == nil)
        #expect(try Self.applied(["ENTRYPOINT"], to: withCmd).Cmd == nil)
    }

    @Test func refusalsInDockerdsWords() {
        let refusals: [(String, String)] = [
            ("STOPSIGNAL SIGINT", "stopsignal is not a valid change command"), ("MAINTAINER me", "maintainer is not a valid change command"),
            ("EXPOSE 3-1", "Invalid containerPort: 3-1"), ("EXPOSE 70000", "Invalid containerPort: 70000"),
            ("EXPOSE 80/foo", "Invalid proto: foo"), ("ENV a", "ENV must have two arguments"), ("LABEL a", "LABEL must have two arguments"),
            ("LABEL", "LABEL requires at least one argument"), ("USER", "USER requires exactly one argument"),
            ("WORKDIR", "WORKDIR requires exactly one argument"), ("VOLUME", "VOLUME requires at least one argument"),
            ("ONBUILD", "ONBUILD requires at least one argument"), ("ONBUILD FROM x", "FROM isn't allowed as an ONBUILD trigger"),
            ("ONBUILD MAINTAINER x", "MAINTAINER isn't allowed as an ONBUILD trigger"),
            ("ONBUILD ONBUILD x", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
        ]
        for (change, message) in refusals {
            #expect(throws: BerthError.invalidArgument(message), "\(change)") { try Self.applied([change]) }
        }
    }
}
