import BerthOCI
import BerthStore
import FoundationEssentials

/// Runs a parsed Dockerfile as dockerd's classic builder does: each step from the previous
/// image, a container for each step that needs one, a new image committed per step (with a
/// layer only when files changed), the build cache consulted before each step, and the
/// progress text of `docker build`.
final class ImageBuilder: @unchecked Sendable {
    let engine: Engine
    let request: BuildRequest
    let dockerfile: Dockerfile
    let context: BuildContext
    private let send: @Sendable (BuildMessage) async throws -> Void
    /// In quiet mode the progress is held back, and sent only if the build fails.
    private var held: [BuildMessage] = []
    private var step = 0
    private var totalSteps = 0
    /// Meta ARGs (before the first FROM): name → value.
    private var metaArgs: [String: String?] = [:]
    /// Build arguments some ARG declared.
    private var consumedArgs = Set<String>()
    /// The image each finished stage ended with, by name (FROM and COPY --from) and by
    /// index (COPY --from only).
    var stageImages: [String: (id: String?, hasLayers: Bool)] = [:]
    var stageImagesByIndex: [(id: String?, hasLayers: Bool)] = []
    var containers: ContainerService { engine.containers }
    var images: ImageStore { engine.images }

    /// With --cache-from: the images a cached step may be (those named and their ancestors;
    /// names that are not here are skipped, as dockerd skips them).
    private lazy var cacheSources: Set<String>? = request.cacheFrom.isEmpty
        ? nil : Set(request.cacheFrom.flatMap { images.lineage($0) })

    static let proxyArgs: Set<String> = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
                                         "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"]

    init(engine: Engine, request: BuildRequest, dockerfile: Dockerfile, context: BuildContext,
         send: @escaping @Sendable (BuildMessage) async throws -> Void) {
        self.engine = engine
        self.request = request
        self.dockerfile = dockerfile
        self.context = context
        self.send = send
    }

    // MARK: - output

    func say(_ text: String) async throws {
        try await emit(.stream(text))
    }

    func emit(_ message: BuildMessage) async throws {
        if request.quiet { held.append(message) } else { try await send(message) }
    }

    /// Quiet builds show what they held back when they fail, as dockerd does.
    func releaseHeldOutput() async {
        let messages = held
        held = []
        for message in messages { try? await send(message) }
    }

    // MARK: - the build

    /// The stages up to the target, with the `--label` steps added to the last one.
    static func stagesToBuild(_ dockerfile: Dockerfile, target: String?, labels: [String: String]) throws -> [DockerfileStage] {
        var stages = dockerfile.stages
        if let target, !target.isEmpty {
            guard let index = stages.firstIndex(where: { $0.name == target.lowercased() }) else {
                throw BerthError.invalidArgument("failed to reach build target \(target) in Dockerfile")
            }
            stages = Array(stages[...index])
        }
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
            let text = "LABEL \(key)=\(value)"
            let line = DockerfileLine(instruction: "label", word: "LABEL", rest: "", original: text, lineNumber: 0)
            stages[stages.count - 1].steps.append(DockerfileStep(instruction: .label([.init(name: key, value: value, literal: true)]), line: line))
        }
        return stages
    }

    /// Runs the build; returns the final image ID.
    func run() async throws -> String {
        let stages = try Self.stagesToBuild(dockerfile, target: request.target, labels: request.labels)
        totalSteps = dockerfile.metaArgs.count + stages.reduce(0) { $0 + 1 + $1.steps.count }
        if !dockerfile.emptyContinuations.isEmpty {
            // dockerd's warning, in the red it gives to what a step writes to stderr.
            let lines = dockerfile.emptyContinuations.map { "[WARNING]: Empty continuation line found in:\n    \($0)\n" }.joined()
            try await say("\u{1B}[91m" + lines + "[WARNING]: Empty continuation lines will become errors in a future release.\n\u{1B}[0m")
        }
        for step in dockerfile.metaArgs {
            try await stepHeader(step)
            guard case .arg(let declarations) = step.instruction else { continue }
            let words = DockerfileWords(escape: dockerfile.escape, environment: metaArgs.compactMapValues { $0 })
            for declaration in declarations {
                let value = try declaration.defaultValue.map { try words.word($0) }
                let chosen: String? = overriddenArg(declaration.name) ?? value
                metaArgs[declaration.name] = .some(chosen)
            }
        }
        var last: BuildStageState?
        for stage in stages {
            if let name = stage.name, stageImages[name] != nil {
                throw BuildFailure("\(name) stage name already used")
            }
            var state = try await startStage(stage)
            try await sayImage(state)
            for step in stage.steps {
                try await stepHeader(step)
                try await dispatch(step, state: &state)
                try await sayImage(state)
            }
            stageImagesByIndex.append((state.imageID, state.hasLayers))
            if let name = stage.name { stageImages[name] = (state.imageID, state.hasLayers) }
            if let id = state.imageID { try await emit(.imageID(id)) }
            last = state
        }
        guard let finalID = last?.imageID else {
            throw BuildFailure("No image was generated. Is your Dockerfile empty?")
        }
        let unused = request.buildArgs.keys.filter { !consumedArgs.contains($0) && !Self.proxyArgs.contains($0) }.sorted()
        if !unused.isEmpty {
            try await say("[Warning] One or more build-args [\(unused.joined(separator: " "))] were not consumed\n")
        }
        let short = String(finalID.dropFirst(7).prefix(12))
        if request.quiet {
            held = []
            try await send(.stream(finalID + "\n"))
        } else {
            try await say("Successfully built \(short)\n")
        }
        for tag in request.tags {
            let reference = try ImageReference.parse(tag)
            try await engine.blocking { [images] in
                try images.tag(finalID, repository: reference.repository, tag: reference.tag ?? "latest")
            }
            engine.emitImage("tag", id: finalID, name: reference.familiar)
            if !request.quiet { try await say("Successfully tagged \(reference.familiar)\n") }
        }
        return finalID
    }

    /// The --build-arg value for a declared argument; one given without a value (nil) leaves
    /// the default, as with dockerd, but counts as used.
    private func overriddenArg(_ name: String) -> String? {
        guard let value = request.buildArgs[name] else { return nil }
        consumedArgs.insert(name)
        return value
    }

    private func stepHeader(_ step: DockerfileStep) async throws {
        self.step += 1
        try await say("Step \(self.step)/\(totalSteps) : \(step.line.original)")
        try await say("\n")
    }

    /// The image a step ended with; once per step, as dockerd says it (ONBUILD triggers
    /// belong to their FROM step).
    private func sayImage(_ state: BuildStageState) async throws {
        try await say(" ---> \(state.shortID)\n")
    }

    // MARK: - FROM

    private func startStage(_ stage: DockerfileStage) async throws -> BuildStageState {
        try await stepHeader(stage.from)
        let words = DockerfileWords(escape: dockerfile.escape, environment: metaArgs.compactMapValues { $0 })
        let name = try words.word(stage.image)
        guard !name.isEmpty else { throw BuildFailure("base name (\(stage.image)) should not be blank") }
        if let platform = stage.from.flagPlatform, !platform.isEmpty {
            _ = try words.word(platform)
        }
        let state: BuildStageState
        if let previous = stageImages[name.lowercased()] {
            state = try loadState(previous.id, hasLayers: previous.hasLayers)
        } else if name.lowercased() == "scratch" {
            state = BuildStageState(imageID: nil, stored: nil, hasLayers: false)
        } else {
            state = try loadState(try await resolveImage(name, forcePull: request.pull), hasLayers: nil)
        }
        return try await runTriggers(state)
    }

    /// The base image's ONBUILD triggers run first, as steps without a Step line; the new
    /// image does not inherit them.
    private func runTriggers(_ base: BuildStageState) async throws -> BuildStageState {
        var state = base
        guard let triggers = state.config.OnBuild, !triggers.isEmpty else { return state }
        try await say("# Executing \(triggers.count) build trigger\(triggers.count == 1 ? "" : "s")\n")
        state.config.OnBuild = nil
        for trigger in triggers {
            let line: DockerfileLine
            let instruction: DockerfileInstruction
            do {
                line = try DockerfileSyntax.parse(trigger).lines[0]
                instruction = try Dockerfile.parseInstruction(line, escape: dockerfile.escape)
            } catch let error as BerthError {
                throw BuildFailure(error.message)
            }
            try await dispatch(DockerfileStep(instruction: instruction, line: line), state: &state)
        }
        return state
    }

    /// A base image by name or ID: pulled, as dockerd's builder does, when it is not here
    /// (and with `--pull` always, `forcePull`), its progress in the build's output.
    func resolveImage(_ name: String, forcePull: Bool) async throws -> String {
        if !forcePull {
            do {
                return try images.configJSON(name).id
            } catch let error as BerthError where error.code == .notFound {
                // Pulled below.
            } catch let error as BerthError {
                throw BuildFailure(error.message)  // no image name at all ("invalid reference format")
            }
        }
        guard let reference = try? ImageReference.parse(name) else {
            // Not a name a registry has (an ID, say): it is here, or nowhere.
            do { return try images.configJSON(name).id } catch let error as BerthError { throw BuildFailure(error.message) }
        }
        let cancellation = TransferCancellation()
        let (messages, pulling) = engine.pullMessages(reference, platform: nil, registryAuth: nil, cancellation: cancellation)
        do {
            for await next in messages {
                switch next {
                case .success(let message): try await emit(.pull(message))
                case .failure(let error as BerthError): throw BuildFailure(error.message)
                case .failure(let error): throw error
                }
            }
        } catch {
            // A failed pull, or the build's client went away: the pull stops and removes what it wrote.
            cancellation.cancel()
            await pulling.value
            throw error
        }
        return try images.configJSON(reference.description).id
    }

    func loadState(_ id: String?, hasLayers: Bool?) throws -> BuildStageState {
        guard let id else { return BuildStageState(imageID: nil, stored: nil, hasLayers: false) }
        let (fullID, data) = try images.configJSON(id)
        let stored = try JSONDecoder().decode(BuildStageState.StoredImage.self, from: data)
        let layers = try hasLayers ?? images.hasLayers(fullID)
        return BuildStageState(imageID: fullID, stored: stored, hasLayers: layers)
    }

    // MARK: - the other instructions

    private func dispatch(_ step: DockerfileStep, state: inout BuildStageState) async throws {
        let words = state.words(escape: dockerfile.escape)
        switch step.instruction {
        case .from:
            break  // a new stage; handled by run()
        case .run(let command):
            try await runCommand(command, state: &state)
        case .arg(let declarations):
            var parts: [String] = []
            for declaration in declarations {
                let defaultValue = try declaration.defaultValue.map { try words.word($0) }
                var value = defaultValue
                if defaultValue == nil, let meta = metaArgs[declaration.name] { value = meta }
                if let override = overriddenArg(declaration.name) { value = override }
                state.declaredArgs.append((declaration.name, value))
                parts.append(declaration.name + (defaultValue.map { "=" + $0 } ?? ""))
            }
            try await commitMetadata("ARG " + parts.joined(separator: " "), state: &state)
        case .workdir(let path):
            try await workdir(try words.word(path), state: &state)
        case .maintainer(let name):
            state.author = name
            try await commitMetadata("MAINTAINER \(name)", state: &state)
        case .copy(let copy):
            try await copyFiles(copy, add: false, state: &state, words: words)
        case .add(let copy):
            try await copyFiles(copy, add: true, state: &state, words: words)
        case .healthcheck, .cmd, .entrypoint, .env, .label, .user, .expose, .volume, .stopSignal, .shell, .onbuild:
            if case .healthcheck = step.instruction, let previous = state.config.Healthcheck?.Test, !previous.isEmpty, previous[0] != "NONE" {
                try await say("Note: overriding previous HEALTHCHECK: [\(previous.joined(separator: " "))]\n")
            }
            let history = try ConfigInstructions.apply(step.instruction, words: words, shell: state.shell,
                                                       cmdSet: &state.cmdSet, to: &state.config)
            try await commitMetadata(history ?? "", state: &state)
        }
    }

    // MARK: - steps with a container

    /// The config a step's container and cache key use: the stage's config with `cmd`.
    func probeConfig(_ state: BuildStageState, cmd: [String]) -> ContainerConfig {
        var config = state.config
        config.Cmd = cmd
        config.Image = state.imageID
        return config
    }

    /// A metadata step: the cache, or a container made (never started) and committed
    /// without a layer.
    private func commitMetadata(_ comment: String, state: inout BuildStageState) async throws {
        let probe = probeConfig(state, cmd: state.shell + ["#(nop) ", comment])
        if try await useCache(probe, state: &state) { return }
        var containerID = ""
        if state.hasLayers {
            containerID = try await createContainer(probe)
        }
        do {
            if !containerID.isEmpty { try await say(" ---> Running in \(containerID.prefix(12))\n") }
            try await commit(state: &state, probe: probe, containerID: containerID, upper: nil)
        } catch {
            if !containerID.isEmpty { await discard(containerID) }
            throw error
        }
        if !containerID.isEmpty { try await removeIntermediate(containerID) }
    }

    /// Looks for an image made before from the same parent with the same step.
    func useCache(_ probe: ContainerConfig, state: inout BuildStageState) async throws -> Bool {
        guard !request.noCache else { return false }
        guard let hit = try BuildCache.lookup(images: images, parent: state.imageID, probe: probe, allowed: cacheSources) else { return false }
        let previous = state
        state = try loadState(hit, hasLayers: nil)
        state.hasLayers = state.hasLayers || previous.hasLayers
        state.declaredArgs = previous.declaredArgs
        state.cmdSet = previous.cmdSet
        try await say(" ---> Using cache\n")
        return true
    }

    func createContainer(_ config: ContainerConfig) async throws -> String {
        var hostConfig = request.hostConfig
        // The step's output is read back from its log.
        hostConfig.LogConfig = LogConfig(Type: "json-file", Config: [:])
        return try await containers.create(ContainerCreateRequest(config: config, hostConfig: hostConfig), name: nil).id
    }

    /// A step's container once its image is made: removed and said so with --rm (the default).
    func removeIntermediate(_ id: String) async throws {
        guard request.remove || request.forceRemove else { return }
        do {
            try await say("Removing intermediate container \(id.prefix(12))\n")
        } catch {
            await discard(id)
            throw error
        }
        await discard(id)
    }

    /// Removes a step's container (with the anonymous volumes of the image's VOLUMEs) silently.
    /// In a task of its own: when the client left, the build's task is cancelled, and a removal
    /// run in it gave up at its first wait (for a start still finishing), leaving the container.
    func discard(_ id: String) async {
        let containers = self.containers
        await Task { try? await containers.remove(id, force: true, removeVolumes: true) }.value
    }

    /// Commits the step's image: the stage config, the probe as container_config, a layer of
    /// `upper` when it holds changes. The state moves on to the new image.
    func commit(state: inout BuildStageState, probe: ContainerConfig, containerID: String,
                upper: (directory: String, including: Set<String>?)?) async throws {
        var imageConfig = state.config
        imageConfig.Image = state.imageID ?? ""
        var probeConfig = probe
        probeConfig.Hostname = containerID.isEmpty ? nil : String(containerID.prefix(12))
        let createdBy = (probe.Cmd ?? []).joined(separator: " ")
        let snapshot = state
        let images = self.images
        let (config, containerConfig) = (imageConfig, probeConfig)
        let imageID = try await engine.blocking {
            try images.buildStep(parent: snapshot.imageID, upperDirectory: upper?.directory, including: upper?.including) { diffID in
                let now = LogTimestamp.now().rfc3339(fixedFraction: false)
                let entry = ImageConfig.History(created: now, created_by: createdBy, comment: nil, author: nil,
                                                empty_layer: diffID == nil ? true : nil)
                let image = CommittedImage(architecture: snapshot.architecture ?? ImageStore.hostArchitectureName, author: snapshot.author,
                                           config: config, container: containerID, container_config: containerConfig, created: now,
                                           docker_version: SystemInfo.version, history: snapshot.history + [entry], os: snapshot.os,
                                           rootfs: .init(diff_ids: snapshot.diffIDs + (diffID.map { [$0] } ?? [])))
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                return try encoder.encode(image)
            }
        }
        engine.emitImage("create", id: imageID)
        let declared = state.declaredArgs
        let cmdSet = state.cmdSet
        let hadLayers = state.hasLayers
        state = try loadState(imageID, hasLayers: nil)
        state.hasLayers = state.hasLayers || hadLayers
        state.declaredArgs = declared
        state.cmdSet = cmdSet
    }
}

extension BuildStageState {
    var shortID: String { imageID.map { String($0.dropFirst(7).prefix(12)) } ?? "" }
}

extension DockerfileStep {
    var flagPlatform: String? {
        if case .from(_, _, let platform) = instruction { return platform }
        return nil
    }
}
