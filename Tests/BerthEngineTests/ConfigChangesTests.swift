import BerthOCI
import Testing
@testable import BerthEngine

/// `--change` instructions of import and commit, read as dockerd's builder reads them, with
/// dockerd 20.10's results and refusals.
struct ConfigChangesTests {
    static func imported(_ changes: [String]) throws -> ImageConfig.Config {
        try ConfigChanges.importedConfig(changes)
    }

    @Test func formsAsDockerdReadsThem() throws {
        #expect(try Self.imported(["CMD"]).Cmd == ["/bin/sh", "-c"])
        #expect(try Self.imported(["CMD echo hi"]).Cmd == ["/bin/sh", "-c", "echo hi"])
        #expect(try Self.imported(["EXPOSE 1-3 80/UDP 0"]).ExposedPorts
                == ["1/tcp": EmptyObject(), "2/tcp": EmptyObject(), "3/tcp": EmptyObject(), "80/udp": EmptyObject(), "0/tcp": EmptyObject()])
        #expect(try Self.imported(["WORKDIR a b"]).WorkingDir == "/a b")
        #expect(try Self.imported(["WORKDIR /srv", "WORKDIR app/../web"]).WorkingDir == "/srv/web")
        #expect(try Self.imported(["VOLUME [\"/a\", \"/b\"]", "VOLUME /c"]).Volumes == ["/a": EmptyObject(), "/b": EmptyObject(), "/c": EmptyObject()])
        #expect(try Self.imported(["ONBUILD run echo"]).OnBuild == ["run echo"])
        #expect(try Self.imported(["USER a b"]).User == "a b")
        var withCmd = ContainerConfig()
        withCmd.Cmd = ["old"]
        try ConfigChanges.apply(["ENTRYPOINT"], to: &withCmd)
        #expect(withCmd.Entrypoint == nil && withCmd.Cmd == nil)
    }

    /// ENV and LABEL go through the Dockerfile lexer: quotes, escapes and variables.
    @Test func envAndLabelAsInADockerfile() throws {
        #expect(try Self.imported(["ENV a b c"]).Env == ["a=b c"])
        #expect(try Self.imported([#"ENV A=1 B="two words""#]).Env == ["A=1", "B=two words"])
        #expect(try Self.imported([#"ENV A=b\ c"#]).Env == ["A=b c"])
        #expect(try Self.imported([#"ENV A "b c" d"#]).Env == ["A=b c d"])
        #expect(try Self.imported(["ENV A=$HOME/x", "ENV B=${B:-d}"]).Env == ["A=/x", "B=d"])
        #expect(try Self.imported([#"LABEL a="b c" "x y"=z"#]).Labels == ["a": "b c", "x y": "z"])
        // A variable set again keeps its place.
        #expect(try Self.imported(["ENV a=1 b=2", "ENV a=3"]).Env == ["a=3", "b=2"])
        var config = ContainerConfig()
        config.Env = ["PATH=/bin", "X=1"]
        try ConfigChanges.apply(["ENV PATH=/opt/bin:$PATH"], to: &config)
        #expect(config.Env == ["PATH=/opt/bin:/bin", "X=1"])
    }

    @Test func refusalsInDockerdsWords() {
        let refusals: [(String, String)] = [
            ("STOPSIGNAL SIGINT", "stopsignal is not a valid change command"), ("MAINTAINER me", "maintainer is not a valid change command"),
            ("FOO x", "foo is not a valid change command"),
            ("EXPOSE 3-1", "Invalid containerPort: 3-1"), ("EXPOSE 70000", "Invalid containerPort: 70000"),
            ("EXPOSE 80/foo", "Invalid proto: foo"), ("ENV a", "ENV must have two arguments"), ("LABEL a", "LABEL must have two arguments"),
            ("ENV =x", "ENV names can not be blank"), ("ENV A=1 B", #"Syntax error - can't find = in "B". Must be of the form: name=value"#),
            ("ENV A=${B:?nope}", #"failed to process "${B:?nope}": B: nope"#),
            ("LABEL", "LABEL requires at least one argument"), ("USER", "USER requires exactly one argument"),
            ("WORKDIR", "WORKDIR requires exactly one argument"), ("VOLUME", "VOLUME requires at least one argument"),
            ("ONBUILD", "ONBUILD requires at least one argument"), ("ONBUILD FROM x", "FROM isn't allowed as an ONBUILD trigger"),
            ("ONBUILD MAINTAINER x", "MAINTAINER isn't allowed as an ONBUILD trigger"),
            ("ONBUILD ONBUILD x", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
            ("HEALTHCHECK --foo CMD x", "Unknown flag: foo"),
        ]
        for (change, message) in refusals {
            #expect(throws: BerthError.invalidArgument(message), "\(change)") { try Self.imported([change]) }
        }
    }
}
