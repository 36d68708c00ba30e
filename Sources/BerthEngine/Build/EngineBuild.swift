import BerthOCI
import BerthStore
import FoundationEssentials

/// A build whose context is unpacked and whose Dockerfile is read and checked: what can
/// still fail before the first byte of the answer has failed already (an HTTP error).
public final class PreparedBuild: Sendable {
    let request: BuildRequest
    let dockerfile: Dockerfile
    let context: BuildContext

    init(request: BuildRequest, dockerfile: Dockerfile, context: BuildContext) {
        self.request = request
        self.dockerfile = dockerfile
        self.context = context
    }

    /// Removes the unpacked context (a build that will not run).
    public func discard() { context.remove() }
}

extension Engine {
    /// `POST /build` before its stream: unpacks the context, reads and parses the Dockerfile,
    /// checks the tags and the target, with dockerd's errors.
    public func prepareBuild(_ request: BuildRequest) async throws -> PreparedBuild {
        for tag in request.tags {
            guard let reference = try? ImageReference.parse(tag), reference.digest == nil else {
                throw BerthError.invalidArgument("invalid reference format")
            }
        }
        let dataRoot = system.dataRoot
        return try await blocking {
            let workDirectory = BuildWorkDirectories.shared.begin(dataRoot: dataRoot)
            let context: BuildContext
            do {
                context = try BuildContext(tarFile: request.contextFile, workDirectory: workDirectory)
            } catch {
                BuildWorkDirectories.shared.end(workDirectory)
                throw error
            }
            do {
                let text = try context.readDockerfile(request.dockerfile)
                let dockerfile = try Dockerfile.parse(text)
                _ = try ImageBuilder.stagesToBuild(dockerfile, target: request.target, labels: request.labels)
                context.applyDockerIgnore()
                return PreparedBuild(request: request, dockerfile: dockerfile, context: context)
            } catch {
                context.remove()
                throw error
            }
        }
    }

    /// Runs a prepared build, sending its messages; returns the image ID. A failure is a
    /// `BuildFailure` (or the engine error that caused it). The context is removed at the end.
    public func runBuild(_ build: PreparedBuild, send: @escaping @Sendable (BuildMessage) async throws -> Void) async throws -> String {
        defer { build.context.remove() }
        let builder = ImageBuilder(engine: self, request: build.request, dockerfile: build.dockerfile, context: build.context, send: send)
        do {
            return try await builder.run()
        } catch {
            if build.request.quiet { await builder.releaseHeldOutput() }
            throw error
        }
    }
}
