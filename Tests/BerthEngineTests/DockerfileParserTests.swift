@testable import BerthEngine
import BerthOCI
import Testing

/// The Dockerfile grammar of the classic builder: lines, directives, instructions, the errors
/// dockerd gives before a build starts, and variable substitution.
struct DockerfileParserTests {
    @Test func commentsBlankLinesAndContinuations() throws {
        let document = try DockerfileSyntax.parse("""
            # a comment
            FROM busybox

            RUN echo a \\
              # a comment inside
                b
            env  A=1 \\
               B=2
            """)
        #expect(document.lines.map(\.instruction) == ["from", "run", "env"])
        #expect(document.lines[1].rest == "echo a     b")
        #expect(document.lines[1].lineNumber == 4)
        // The Step line echoes the joined lines as written.
        #expect(document.lines[2].original == "env  A=1    B=2")
        #expect(document.lines[2].word == "env")
    }

    /// A Dockerfile written on Windows: CRLF line ends are line ends, continuations included.
    @Test func crlfLineEndsReadAsLineEnds() throws {
        let document = try DockerfileSyntax.parse("FROM busybox\r\nRUN echo a \\\r\n  b\r\nENV Z=1\r\n")
        #expect(document.lines.map(\.instruction) == ["from", "run", "env"])
        #expect(document.lines[0].rest == "busybox")
        #expect(document.lines[1].rest == "echo a   b")
        #expect(document.lines[2].rest == "Z=1")
    }

    /// A JSON array with anything but strings is an error, not the shell form (dockerd's words).
    @Test func jsonArraysMustHoldStrings() throws {
        let message = "failed to parse Dockerfile: when using JSON array syntax, arrays must be comprised of strings only"
        for line in [#"CMD ["a", 1]"#, #"ENTRYPOINT [true]"#, #"RUN ["sh", null]"#, #"VOLUME [1]"#, #"COPY [1, "/x"]"#] {
            #expect(throws: BerthError.invalidArgument(message)) { try Dockerfile.parse("FROM busybox\n" + line) }
        }
        #expect(throws: BerthError.invalidArgument("dockerfile parse error line 2: VOLUME specified can not be an empty string")) {
            try Dockerfile.parse("FROM busybox\nVOLUME [\"\"]")
        }
        // Text that is no JSON array at all stays the shell form.
        let document = try Dockerfile.parse("FROM busybox\nCMD [\"a\", b]")
        guard case .cmd(let form) = document.stages[0].steps[0].instruction else { Issue.record("not a CMD"); return }
        #expect(form == CommandForm(arguments: [#"["a", b]"#], prependShell: true))
    }

    @Test func blankLinesInAContinuationAreNoted() throws {
        let document = try DockerfileSyntax.parse("FROM busybox\nRUN echo a \\   \n\n   \n  # c\n  b\nRUN x \\\n # only a comment\n y\n")
        #expect(document.lines.map(\.original) == ["FROM busybox", "RUN echo a   b", "RUN x  y"])
        // Comments do not count, blank lines do.
        #expect(document.emptyContinuations == ["RUN echo a   b"])
    }

    @Test func theEscapeDirectiveChangesTheContinuationCharacter() throws {
        let document = try DockerfileSyntax.parse("# escape=`\nFROM busybox\nRUN dir c:\\ `\n  && echo x\n")
        #expect(document.escape == "`")
        #expect(document.lines[1].rest == "dir c:\\   && echo x")
        #expect(throws: BerthError.invalidArgument("failed to parse Dockerfile: invalid ESCAPE 'x'. Must be ` or \\")) {
            try DockerfileSyntax.parse("# escape=x\nFROM busybox\n")
        }
        // A directive after an instruction is a comment.
        #expect(try DockerfileSyntax.parse("FROM busybox\n# escape=`\nRUN a \\\n b\n").escape == "\\")
    }

    @Test func execFormAndShellForm() throws {
        let file = try Dockerfile.parse("FROM busybox\nRUN [\"echo\", \"a b\"]\nCMD echo hi\nENTRYPOINT [not json\nrun\n")
        let steps = file.stages[0].steps.map(\.instruction)
        #expect(steps[0] == .run(CommandForm(arguments: ["echo", "a b"], prependShell: false)))
        #expect(steps[1] == .cmd(CommandForm(arguments: ["echo hi"], prependShell: true)))
        #expect(steps[2] == .entrypoint(CommandForm(arguments: ["[not json"], prependShell: true)))
        #expect(steps[3] == .run(CommandForm(arguments: [], prependShell: true)))
        // RUN --mount is read (BuildKit's; refused when the step runs), other RUN flags are not.
        let mount = try Dockerfile.parse("FROM busybox\nRUN --mount=type=cache,target=/c make\n")
        #expect(mount.stages[0].steps[0].instruction == .run(CommandForm(arguments: ["make"], prependShell: true, mount: "type=cache,target=/c")))
        #expect(throws: BerthError.invalidArgument("dockerfile parse error line 2: Unknown flag: network")) {
            try Dockerfile.parse("FROM busybox\nRUN --network=none true\n")
        }
    }

    @Test func stagesMetaArgsAndFlags() throws {
        let file = try Dockerfile.parse("""
            ARG BASE=busybox
            FROM $BASE AS Build
            COPY --from=build --chown=1:2 a b /dst/
            from scratch
            """)
        #expect(file.metaArgs.count == 1)
        #expect(file.stages.map(\.name) == ["build", nil])
        #expect(file.stages[0].image == "$BASE")
        #expect(file.stages[0].steps[0].instruction == .copy(.init(sources: ["a", "b"], destination: "/dst/", from: "build", chown: "1:2", chmod: nil)))
    }

    @Test func dockerdsErrorTexts() {
        let cases: [(String, String)] = [
            ("FROM busybox\nFOO bar\n", "dockerfile parse error line 2: unknown instruction: FOO"),
            ("FROM busybox\nx\n", "dockerfile parse error line 2: unknown instruction: X"),
            ("RUN true\n", "no build stage in current context"),
            ("FROM busybox\nENV\n", "dockerfile parse error line 2: ENV requires at least one argument"),
            ("FROM busybox\nENV A\n", "failed to parse Dockerfile: ENV must have two arguments"),
            ("FROM busybox\nLABEL a\n", "failed to parse Dockerfile: LABEL must have two arguments"),
            ("FROM busybox\nCOPY a\n", "dockerfile parse error line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined"),
            ("FROM busybox\nCOPY --foo=1 a b\n", "dockerfile parse error line 2: Unknown flag: foo"),
            ("FROM busybox AS\n", "dockerfile parse error line 1: FROM requires either one or three arguments"),
            ("FROM busybox\nWORKDIR\n", "dockerfile parse error line 2: WORKDIR requires exactly one argument"),
            ("FROM busybox\nSHELL sh\n", "dockerfile parse error line 2: SHELL requires the arguments to be in JSON form"),
            ("FROM busybox\nONBUILD FROM x\n", "dockerfile parse error line 2: FROM isn't allowed as an ONBUILD trigger"),
            ("FROM busybox\nHEALTHCHECK\n", "dockerfile parse error line 2: HEALTHCHECK requires at least one argument"),
            ("\n# only a comment\n", "failed to parse Dockerfile: file with no instructions"),
            // No heredocs in this grammar: the body reads as instructions, as with dockerd 20.10.
            ("FROM busybox\nRUN <<EOF\nx\nEOF\n", "dockerfile parse error line 3: unknown instruction: X"),
        ]
        for (text, message) in cases {
            #expect(throws: BerthError.invalidArgument(message)) { try Dockerfile.parse(text) }
        }
    }

    @Test func nameValuePairsKeepQuotesForTheSubstitution() throws {
        let file = try Dockerfile.parse("FROM busybox\nENV A=\"two words\" B=x\\ y\n")
        #expect(file.stages[0].steps[0].instruction == .env([.init(name: "A", value: "\"two words\""), .init(name: "B", value: "x\\ y")]))
        #expect(throws: BerthError.invalidArgument("failed to parse Dockerfile: Syntax error - can't find = in \"C\". Must be of the form: name=value")) {
            try Dockerfile.parse("FROM busybox\nENV A=\"two words\" B=x\\ y C\n")
        }
        let old = try Dockerfile.parse("FROM busybox\nENV OLD value with spaces\n")
        #expect(old.stages[0].steps[0].instruction == .env([.init(name: "OLD", value: "value with spaces")]))
        let quoted = try Dockerfile.parse("FROM busybox\nLABEL \"a b\"=\"c d\" e=f\n")
        #expect(quoted.stages[0].steps[0].instruction == .label([.init(name: "\"a b\"", value: "\"c d\""), .init(name: "e", value: "f")]))
    }

    @Test func argDefaultsMayBeQuoted() throws {
        let file = try Dockerfile.parse("FROM busybox\nARG A=\"x y\" B=z C\n")
        #expect(file.stages[0].steps[0].instruction == .arg([.init(name: "A", defaultValue: "\"x y\""), .init(name: "B", defaultValue: "z"),
                                                            .init(name: "C", defaultValue: nil)]))
    }

    @Test func variableSubstitution() throws {
        let words = DockerfileWords(escape: "\\", environment: ["A": "1", "EMPTY": "", "B": "two words"])
        #expect(try words.word("$A ${A} x$A-y") == "1 1 x1-y")
        #expect(try words.word("${NOPE:-dflt} ${EMPTY:-dflt} ${EMPTY-dflt} ${A:-dflt}") == "dflt dflt  1")
        #expect(try words.word("${A:+set} [${NOPE:+set}] [${EMPTY:+set}] [${EMPTY+set}]") == "set [] [] [set]")
        #expect(try words.word("'$A' \"$A\" \\$A $") == "$A 1 $A $")
        #expect(try words.word("\"a \\\"q\\\" b\"") == "a \"q\" b")
        #expect(try words.word("$NOPE:-x") == ":-x")
        #expect(try words.words("$B \"c d\" e") == ["two", "words", "c d", "e"])
        #expect(try words.words("$NOPE a\"$B\"") == ["atwo words"])
        // Errors name the text, as dockerd's lexer does ("failed to process %q: ...").
        #expect(throws: BerthError.invalidArgument(#"failed to process "\"open": unexpected end of statement while looking for matching double-quote"#)) {
            try words.word("\"open")
        }
        #expect(throws: BerthError.invalidArgument(#"failed to process "${NOPE:?must be set}": NOPE: must be set"#)) {
            try words.word("${NOPE:?must be set}")
        }
        // With the backtick as escape, a backslash is an ordinary character.
        #expect(try DockerfileWords(escape: "`", environment: [:]).word("c:\\dir `$x") == "c:\\dir $x")
    }

    @Test func aStageFromScratchHasTheDefaultPath() {
        let state = BuildStageState(imageID: nil, stored: nil, hasLayers: false)
        #expect(state.config.Env == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
        #expect(state.shell == ["/bin/sh", "-c"])
    }

    @Test func argumentScopingFollowsDockerd() {
        var state = BuildStageState(imageID: nil, stored: nil, hasLayers: false)
        state.config.Env = ["SHADOW=env"]
        state.declaredArgs = [("Z", "1"), ("SHADOW", "arg"), ("NOVALUE", nil), ("A", "2")]
        // Declared arguments with a value, sorted, except those an ENV shadows.
        #expect(state.argumentEnvironment == ["A=2", "Z=1"])
        #expect(state.words(escape: "\\").environment["SHADOW"] == "env")
    }

    @Test func dockerIgnorePatterns() {
        let ignore = DockerIgnore("# comment\n*.log\n!keep.log\nsecret/\n**/tmp\ndocs/*.md\n")
        #expect(ignore.excludes("debug.log"))
        #expect(!ignore.excludes("keep.log"))
        #expect(ignore.excludes("secret/key"))
        #expect(ignore.excludes("a/b/tmp/x"))
        #expect(ignore.excludes("docs/readme.md"))
        #expect(!ignore.excludes("docs/sub/readme.md"))
        #expect(!ignore.excludes("sub/debug.log"))
        #expect(!ignore.excludes("Dockerfile"))
    }

    @Test func goFormattingForHistory() {
        #expect(GoFormat.quote(["cat", "/hi"]) == #"["cat" "/hi"]"#)
        #expect(GoFormat.quote("a \"b\"\n") == #""a \"b\"\n""#)
        #expect(GoFormat.duration(0) == "0s")
        #expect(GoFormat.duration(90_000_000_000) == "1m30s")
        #expect(GoFormat.duration(1_500_000_000) == "1.5s")
        #expect(GoFormat.duration(500_000_000) == "500ms")
        #expect(GoFormat.quoteRune(3) == #"'\x03'"#)
        var check = HealthConfig()
        check.Test = ["CMD-SHELL", "true"]
        check.Interval = 5_000_000_000
        check.Retries = 3
        #expect(ConfigInstructions.describe(check) == #"&{["CMD-SHELL" "true"] "5s" "0s" "0s" '\x03'}"#)
    }
}
