import BerthOCI
import BerthStore
import FoundationEssentials
import Glibc

/// RUN and WORKDIR: steps whose container changes files.
extension ImageBuilder {
    /// RUN: the command in a container from the current image, its output streamed (stderr
    /// in red, as dockerd marks it), its changes committed. The build arguments in effect are
    /// in the container's environment and, as "|N K=V ...", in the cache key and history.
    func runCommand(_ command: CommandForm, state: inout BuildStageState) async throws {
        if command.mount != nil {
            throw BuildFailure("the --mount option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled")
        }
        let cmd = command.prependShell ? state.shell + command.arguments : command.arguments
        let arguments = state.argumentEnvironment
        let saved = arguments.isEmpty ? cmd : ["|\(arguments.count)"] + arguments + cmd
        var probe = probeConfig(state, cmd: saved)
        probe.Entrypoint = nil
        if try await useCache(probe, state: &state) { return }
        guard state.hasLayers else {
            throw BuildFailure("The command '\(cmd.joined(separator: " "))' cannot run: the image has no files (FROM scratch)")
        }
        var config = probeConfig(state, cmd: cmd)
        config.Env = (state.config.Env ?? []) + arguments + proxyArguments()
        config.Entrypoint = [""]
        config.Healthcheck = HealthConfig(Test: ["NONE"])
        let id = try await createContainer(config)
        let exitCode: Int32
        do {
            try await say(" ---> Running in \(id.prefix(12))\n")
            exitCode = try await runAndStream(id)
        } catch {
            // The client left (the build's task is cancelled; a start cut short by it fails with
            // a BerthError): the container goes. Otherwise a step that could not start keeps its
            // container, as a failed one does (dockerd's --rm), unless --force-rm.
            if Task.isCancelled || !(error is BerthError) {
                await discard(id)
            } else if request.forceRemove {
                try? await removeIntermediate(id)
            }
            throw error
        }
        guard exitCode == 0 else {
            if request.forceRemove { try await removeIntermediate(id) }
            throw BuildFailure("The command '\(cmd.joined(separator: " "))' returned a non-zero code: \(exitCode)", code: Int(exitCode))
        }
        try await commitAndRemove(id, probe: probe, state: &state)
    }

    /// The proxy arguments given with --build-arg reach RUN without being declared (and are
    /// kept out of the image's history).
    func proxyArguments() -> [String] {
        request.buildArgs.compactMap { name, value in
            guard Self.proxyArgs.contains(name), let value else { return nil }
            return "\(name)=\(value)"
        }.sorted()
    }

    /// Starts the container, sends its output as it comes, returns its exit code.
    func runAndStream(_ id: String) async throws -> Int32 {
        // dockerd attaches to the step's output; Berth reads it from the log, and says the same.
        await containers.emit("attach", container: id)
        _ = try await containers.start(id)
        let source = try await containers.logSource(id)
        // A step's container logs to json-file (ImageBuilder sets it), so it has a file.
        guard let file = source.file else { throw BerthError.internalError("the step's container \(id) has no log file") }
        let log = JSONFileLog(path: file)
        var options = LogReadOptions()
        options.follow = true
        var pending: [UInt8] = []
        let containers = self.containers
        // A client that goes away (Ctrl-C) ends the step: its process is killed, as dockerd does.
        try await withTaskCancellationHandler {
            try await follow(log, options: options, id: id, pending: &pending)
        } onCancel: {
            Task { try? await containers.kill(id, signal: "KILL") }
        }
        let result = await containers.wait(id: id, condition: .notRunning)
        return result?.statusCode ?? -1
    }

    private func follow(_ log: JSONFileLog, options: LogReadOptions, id: String, pending: inout [UInt8]) async throws {
        let containers = self.containers
        try await log.readFormatted(options: options, tty: false, stop: { await containers.waitUntilStopped(id) }) { bytes in
            pending += bytes
            // stdcopy frames: kind, three zero bytes, a big-endian length, the payload.
            while pending.count >= 8 {
                let length = Int(pending[4]) << 24 | Int(pending[5]) << 16 | Int(pending[6]) << 8 | Int(pending[7])
                guard pending.count >= 8 + length else { break }
                let text = String(decoding: pending[8..<(8 + length)], as: UTF8.self)
                let kind = pending[0]
                pending.removeFirst(8 + length)
                try await say(kind == 2 ? "\u{1B}[91m" + text + "\u{1B}[0m" : text)
            }
        }
    }

    /// Commits a container's changes as the next image of the stage.
    func commitContainer(_ id: String, probe: ContainerConfig, state: inout BuildStageState) async throws {
        let source = try await containers.commitSource(id)
        let included = try await engine.blocking {
            try OverlayChanges.layerPaths(upper: source.upper, lowers: source.lowers)
        }
        try await commit(state: &state, probe: probe, containerID: id, upper: (source.upper, included))
    }

    /// A step's container, after `work` in it: committed as the next image and then removed
    /// (--rm); it goes at once when the work or the commit fails.
    func commitAndRemove(_ id: String, probe: ContainerConfig, state: inout BuildStageState,
                         after work: () async throws -> Void = {}) async throws {
        do {
            try await work()
            try await commitContainer(id, probe: probe, state: &state)
        } catch {
            await discard(id)
            throw error
        }
        try await removeIntermediate(id)
    }

    /// WORKDIR: the directory made (owned by root) in a container and committed.
    func workdir(_ path: String, state: inout BuildStageState) async throws {
        let directory = ConfigInstructions.workingDirectory(path, from: state.config.WorkingDir ?? "")
        state.config.WorkingDir = directory
        let probe = probeConfig(state, cmd: state.shell + ["#(nop) WORKDIR \(directory)"])
        if try await useCache(probe, state: &state) { return }
        if !state.hasLayers {
            // No files yet (FROM scratch): the directory is made in an empty root, the layer's.
            let rootPath = context.workDirectory + "/root-" + UUID().uuidString
            defer { BuildContext.removeTree(rootPath) }
            guard mkdir(rootPath, 0o755) == 0 else { throw BuildFailure("cannot make a root for WORKDIR: \(String(cString: strerror(errno)))") }
            do {
                try ScopedRoot(path: rootPath).makePath(directory, directory: true)
            } catch {
                throw BuildFailure("failed to create the working directory \(directory): \(error)")
            }
            try await commit(state: &state, probe: probe, containerID: "", upper: directory == "/" ? nil : (rootPath, nil))
            return
        }
        let id = try await createContainer(probe)
        try await commitAndRemove(id, probe: probe, state: &state) {
            try await say(" ---> Running in \(id.prefix(12))\n")
            let view = try await containers.rootView(id, withMounts: false)
            defer { view.close() }
            do {
                try view.root.makePath(directory, directory: true)
            } catch {
                throw BuildFailure("failed to create the working directory \(directory): \(error)")
            }
        }
    }
}
