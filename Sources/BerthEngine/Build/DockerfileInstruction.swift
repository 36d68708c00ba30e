import BerthOCI
import BerthStore
import FoundationEssentials

/// A command as written: exec form (a JSON array, run as it is) or shell form (run through
/// the stage's SHELL).
public struct CommandForm: Sendable, Equatable {
    public var arguments: [String]
    public var prependShell: Bool
    /// RUN --mount: BuildKit's, read but refused when the step runs, as dockerd 20.10 does.
    public var mount: String? = nil
}

/// One Dockerfile instruction, its arguments still unexpanded (variables are substituted
/// when it is dispatched, with the stage's environment of that moment).
public enum DockerfileInstruction: Sendable, Equatable {
    case from(image: String, stageName: String?, platform: String?)
    case run(CommandForm)
    case cmd(CommandForm)
    case entrypoint(CommandForm)
    case env([NameValue])
    case label([NameValue])
    case arg([ArgDeclaration])
    case workdir(String)
    case user(String)
    case expose([String])
    case volume([String])
    case stopSignal(String)
    case healthcheck(String)
    case shell([String])
    case maintainer(String)
    case copy(FileCopy)
    case add(FileCopy)
    case onbuild(String)

    public struct NameValue: Sendable, Equatable {
        public var name: String
        public var value: String
        /// Taken as it is, without substitution (the labels of `--label`).
        public var literal = false
    }

    public struct ArgDeclaration: Sendable, Equatable {
        public var name: String
        public var defaultValue: String?
    }

    public struct FileCopy: Sendable, Equatable {
        public var sources: [String]
        public var destination: String
        public var from: String?
        public var chown: String?
        public var chmod: String?
    }
}

/// A line and the instruction it holds.
public struct DockerfileStep: Sendable, Equatable {
    public var instruction: DockerfileInstruction
    public var line: DockerfileLine
}

/// The instructions of one stage: its FROM, then the rest.
public struct DockerfileStage: Sendable, Equatable {
    public var from: DockerfileStep
    public var image: String
    /// Lower-cased, as stage names are matched without regard to case.
    public var name: String?
    public var steps: [DockerfileStep]
}

/// The second stage of reading a Dockerfile: each line as a typed instruction, checked as the
/// classic builder checks it before it starts ("dockerfile parse error line N: ..."), and the
/// lines grouped into stages (ARGs before the first FROM are the meta args).
public struct Dockerfile: Sendable, Equatable {
    public var escape: Character
    public var metaArgs: [DockerfileStep]
    public var stages: [DockerfileStage]
    /// Lines continued across a blank line, which dockerd warns about before the steps.
    public var emptyContinuations: [String] = []

    public static func parse(_ text: String) throws -> Dockerfile {
        let document = try DockerfileSyntax.parse(text)
        var metaArgs: [DockerfileStep] = []
        var stages: [DockerfileStage] = []
        for line in document.lines {
            let instruction: DockerfileInstruction
            do {
                instruction = try parseInstruction(line, escape: document.escape)
            } catch let error as BerthError where !error.message.hasPrefix("failed to parse Dockerfile:") {
                throw BerthError.invalidArgument("dockerfile parse error line \(line.lineNumber): \(error.message)")
            }
            let step = DockerfileStep(instruction: instruction, line: line)
            if case .from(let image, let name, _) = instruction {
                stages.append(DockerfileStage(from: step, image: image, name: name, steps: []))
            } else if stages.isEmpty {
                guard case .arg = instruction else { throw BerthError.invalidArgument("no build stage in current context") }
                metaArgs.append(step)
            } else {
                stages[stages.count - 1].steps.append(step)
            }
        }
        guard !stages.isEmpty else { throw BerthError.invalidArgument("no build stage in current context") }
        return Dockerfile(escape: document.escape, metaArgs: metaArgs, stages: stages, emptyContinuations: document.emptyContinuations)
    }

    /// One logical line as an instruction; errors without the line prefix.
    static func parseInstruction(_ line: DockerfileLine, escape: Character) throws -> DockerfileInstruction {
        let known: [String: Set<String>] = [
            "from": ["platform"], "copy": ["from", "chown", "chmod"], "add": ["chown", "chmod"], "run": ["mount"],
        ]
        let allInstructions: Set<String> = ["from", "run", "cmd", "entrypoint", "env", "label", "arg", "workdir", "user",
                                            "expose", "volume", "stopsignal", "healthcheck", "shell", "maintainer",
                                            "copy", "add", "onbuild"]
        guard allInstructions.contains(line.instruction) else {
            throw BerthError.invalidArgument("unknown instruction: \(line.word.uppercased())")
        }
        let name = line.instruction.uppercased()
        // HEALTHCHECK reads its own flags; the others take theirs here.
        var flags: [String: String] = [:]
        var rest = line.rest
        if line.instruction != "healthcheck" && line.instruction != "onbuild" {
            (flags, rest) = try extractFlags(rest, allowed: known[line.instruction] ?? [])
        }
        switch line.instruction {
        case "from":
            let words = rest.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard words.count == 1 || (words.count == 3 && words[1].lowercased() == "as") else {
                throw BerthError.invalidArgument("FROM requires either one or three arguments")
            }
            var stageName: String?
            if words.count == 3 {
                let lowered = words[2].lowercased()
                guard let first = lowered.first, first.isASCII, first.isLetter,
                      lowered.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
                    throw BerthError.invalidArgument("invalid name for build stage: \"\(words[2])\", name can't start with a number or contain symbols")
                }
                stageName = lowered
            }
            return .from(image: words[0], stageName: stageName, platform: flags["platform"])
        case "run":
            var run = try command(rest)
            run.mount = flags["mount"]
            return .run(run)
        case "cmd": return .cmd(try command(rest))
        case "entrypoint": return .entrypoint(try command(rest))
        case "env", "label":
            let pairs = try nameValues(rest, instruction: name, escape: escape)
            guard !pairs.isEmpty else { throw BerthError.invalidArgument("\(name) requires at least one argument") }
            return line.instruction == "env" ? .env(pairs) : .label(pairs)
        case "arg":
            // Quotes group words (ARG A="x y"); the substitution removes them.
            let words = quotedWords(rest, escape: escape)
            guard !words.isEmpty else { throw BerthError.invalidArgument("ARG requires at least one argument") }
            return .arg(words.map { word in
                guard let equals = word.firstIndex(of: "=") else { return .init(name: word, defaultValue: nil) }
                return .init(name: String(word[..<equals]), defaultValue: String(word[word.index(after: equals)...]))
            })
        case "workdir", "user", "stopsignal", "maintainer":
            guard !rest.isEmpty else { throw BerthError.invalidArgument("\(name) requires exactly one argument") }
            switch line.instruction {
            case "workdir": return .workdir(rest)
            case "user": return .user(rest)
            case "stopsignal": return .stopSignal(rest)
            default: return .maintainer(rest)
            }
        case "expose":
            let words = whitespaceWords(rest)
            guard !words.isEmpty else { throw BerthError.invalidArgument("EXPOSE requires at least one argument") }
            return .expose(words)
        case "volume":
            let words = try jsonStrings(rest) ?? whitespaceWords(rest)
            guard !words.isEmpty else { throw BerthError.invalidArgument("VOLUME requires at least one argument") }
            // Checked with the Dockerfile, before any step runs, as dockerd does.
            if words.contains(where: { $0.trimmed(newlines: false).isEmpty }) {
                throw BerthError.invalidArgument("VOLUME specified can not be an empty string")
            }
            return .volume(words)
        case "healthcheck":
            guard !rest.isEmpty else { throw BerthError.invalidArgument("HEALTHCHECK requires at least one argument") }
            _ = try HealthcheckInstruction.parse(rest)
            return .healthcheck(rest)
        case "shell":
            guard !rest.isEmpty else { throw BerthError.invalidArgument("SHELL requires at least one argument") }
            guard let words = try jsonStrings(rest) else { throw BerthError.invalidArgument("SHELL requires the arguments to be in JSON form") }
            return .shell(words)
        case "copy", "add":
            let words = try jsonStrings(rest) ?? whitespaceWords(rest)
            if words.count < 2 {
                throw BerthError.invalidArgument(words.isEmpty ? "\(name) requires at least two arguments"
                    : "\(name) requires at least two arguments, but only one was provided. Destination could not be determined")
            }
            let copy = DockerfileInstruction.FileCopy(sources: Array(words.dropLast()), destination: words.last!,
                                                      from: flags["from"], chown: flags["chown"], chmod: flags["chmod"])
            return line.instruction == "copy" ? .copy(copy) : .add(copy)
        case "onbuild":
            guard !rest.isEmpty else { throw BerthError.invalidArgument("ONBUILD requires at least one argument") }
            let trigger = try DockerfileSyntax.parse(rest).lines[0]
            switch trigger.instruction {
            case "onbuild": throw BerthError.invalidArgument("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
            case "from", "maintainer": throw BerthError.invalidArgument("\(trigger.instruction.uppercased()) isn't allowed as an ONBUILD trigger")
            default: _ = try parseInstruction(trigger, escape: escape)
            }
            return .onbuild(rest)
        default:
            throw BerthError.invalidArgument("unknown instruction: \(line.word.uppercased())")
        }
    }

    /// Leading `--name=value` words; `--` ends them. Unknown, repeated or empty flags are refused.
    static func extractFlags(_ text: String, allowed: Set<String>) throws -> ([String: String], String) {
        var flags: [String: String] = [:]
        var rest = Substring(text)
        while rest.hasPrefix("--") {
            let word = rest.prefix { !$0.isWhitespace }
            rest = rest.dropFirst(word.count).drop { $0.isWhitespace }
            if word == "--" { break }
            let body = word.dropFirst(2)
            let name = String(body.prefix { $0 != "=" })
            guard allowed.contains(name) else { throw BerthError.invalidArgument("Unknown flag: \(name)") }
            guard flags[name] == nil else { throw BerthError.invalidArgument("Duplicate flag specified: \(name)") }
            guard body.contains("=") else { throw BerthError.invalidArgument("Missing a value on flag: \(name)") }
            flags[name] = String(body.dropFirst(name.count + 1))
        }
        return (flags, String(rest))
    }

    static func whitespaceWords(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }

    static func command(_ text: String) throws -> CommandForm {
        if let list = try jsonStrings(text) { return CommandForm(arguments: list, prependShell: false) }
        return CommandForm(arguments: text.isEmpty ? [] : [text], prependShell: true)
    }

    /// The classic builder's "maybe JSON": a JSON array of strings is a list; an array of
    /// anything else is an error; text that is no JSON array is not JSON (the shell form).
    static func jsonStrings(_ text: String) throws -> [String]? {
        if let list = ImageChanges.jsonArray(text) { return list }
        if text.hasPrefix("["), (try? AnyJSON.parse(Data(text.utf8))) is [Any] {
            throw BerthError.invalidArgument("failed to parse Dockerfile: when using JSON array syntax, arrays must be comprised of strings only")
        }
        return nil
    }

    /// ENV and LABEL: `name=value ...` (quotes and escapes kept for the substitution), or the
    /// old `name value` form.
    static func nameValues(_ text: String, instruction: String, escape: Character) throws -> [DockerfileInstruction.NameValue] {
        let words = quotedWords(text, escape: escape)
        guard let first = words.first else { return [] }
        if !first.contains("=") {
            let parts = text.split(maxSplits: 1, whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count == 2 else {
                throw BerthError.invalidArgument("failed to parse Dockerfile: \(instruction) must have two arguments")
            }
            return [.init(name: String(parts[0]), value: parts[1].trimmed(newlines: false))]
        }
        let pairs = try words.map { word -> DockerfileInstruction.NameValue in
            guard let equals = word.firstIndex(of: "=") else {
                throw BerthError.invalidArgument("failed to parse Dockerfile: Syntax error - can't find = in \"\(word)\". Must be of the form: name=value")
            }
            return .init(name: String(word[..<equals]), value: String(word[word.index(after: equals)...]))
        }
        if pairs.contains(where: { $0.name.isEmpty }) { throw BerthError.invalidArgument("\(instruction) names can not be blank") }
        return pairs
    }

    /// Splits at blanks outside quotes; quotes and escapes stay in the words.
    static func quotedWords(_ text: String, escape: Character) -> [String] {
        var words: [String] = []
        var current = ""
        var quote: Character?
        var escaped = false
        for ch in text {
            if escaped {
                current.append(ch)
                escaped = false
                continue
            }
            if ch == escape && quote != "'" {
                current.append(ch)
                escaped = true
                continue
            }
            if let open = quote {
                if ch == open { quote = nil }
                current.append(ch)
                continue
            }
            if ch == "\"" || ch == "'" {
                quote = ch
                current.append(ch)
            } else if ch == " " || ch == "\t" {
                if !current.isEmpty { words.append(current) }
                current = ""
            } else {
                current.append(ch)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }
}
