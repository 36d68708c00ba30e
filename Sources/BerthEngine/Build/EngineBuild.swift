import BerthOCI
import BerthStore
import FoundationEssentials
import Glibc

/// A build whose context is unpacked and whose Dockerfile is read and checked: what can
/// still fail before the first byte of the answer has failed already (an HTTP error).
public final class PreparedBuild: Sendable {
    let request: BuildRequest
    let dockerfile: Dockerfile?
    let context: BuildContext
    /// What the answer starts with: the progress of a remote context's download.
    let preamble: [BuildMessage]
    /// A failure after that download: sent in the stream after the preamble, as dockerd does
    /// once it has said something.
    let failure: (any Error)?

    init(request: BuildRequest, dockerfile: Dockerfile?, context: BuildContext, preamble: [BuildMessage] = [], failure: (any Error)? = nil) {
        self.request = request
        self.dockerfile = dockerfile
        self.context = context
        self.preamble = preamble
        self.failure = failure
    }

    /// Removes the unpacked context (a build that will not run).
    public func discard() { context.remove() }
}

extension Engine {
    /// `POST /build` before its stream: fetches a remote context, unpacks the context, reads
    /// and parses the Dockerfile, checks the tags and the target, with dockerd's errors.
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
            var preamble: [BuildMessage] = []
            var dockerfileText: String?
            do {
                if let remote = request.remote {
                    guard BuildContext.makeWorkDirectory(workDirectory) else {
                        throw BerthError.internalError("cannot make the build directory \(workDirectory): \(String(cString: strerror(errno)))")
                    }
                    let fetched = try RemoteBuildContext.fetch(remote, workDirectory: workDirectory, cancellation: request.cancellation)
                    if let progress = fetched.progress(remote) { preamble.append(.pull(progress)) }
                    switch fetched {
                    case .archive(let path, _):
                        do {
                            context = try BuildContext(tarFile: path, workDirectory: workDirectory)
                        } catch {
                            // Said in the stream, after the download's progress (the failed
                            // context removed its directory: an empty one stands in).
                            let empty = BuildWorkDirectories.shared.begin(dataRoot: dataRoot)
                            return try PreparedBuild(request: request, dockerfile: nil, context: BuildContext(tarFile: nil, workDirectory: empty),
                                                     preamble: preamble, failure: error)
                        }
                        unlink(path)
                    case .dockerfile(let text, _):
                        context = try BuildContext(tarFile: nil, workDirectory: workDirectory)
                        dockerfileText = text
                    case .directory(let path):
                        context = try BuildContext(directory: path, workDirectory: workDirectory)
                        BuildContext.removeTree(workDirectory + "/git")
                    }
                } else {
                    context = try BuildContext(tarFile: request.contextFile, workDirectory: workDirectory)
                }
            } catch {
                BuildContext.removeTree(workDirectory)
                BuildWorkDirectories.shared.end(workDirectory)
                throw error
            }
            do {
                let text = try dockerfileText ?? context.readDockerfile(request.dockerfile)
                let dockerfile = try Dockerfile.parse(text)
                _ = try ImageBuilder.stagesToBuild(dockerfile, target: request.target, labels: request.labels)
                context.applyDockerIgnore()
                return PreparedBuild(request: request, dockerfile: dockerfile, context: context, preamble: preamble)
            } catch {
                if !preamble.isEmpty {
                    return PreparedBuild(request: request, dockerfile: nil, context: context, preamble: preamble, failure: error)
                }
                context.remove()
                throw error
            }
        }
    }

    /// Runs a prepared build, sending its messages; returns the image ID. A failure is a
    /// `BuildFailure` (or the engine error that caused it). The context is removed at the end.
    public func runBuild(_ build: PreparedBuild, send: @escaping @Sendable (BuildMessage) async throws -> Void) async throws -> String {
        defer { build.context.remove() }
        guard let dockerfile = build.dockerfile else {
            // A remote context that failed after its download: its progress, then the error.
            for message in build.preamble { try await send(message) }
            throw build.failure ?? BuildFailure("the build context could not be read")
        }
        let builder = ImageBuilder(engine: self, request: build.request, dockerfile: dockerfile, context: build.context, send: send)
        do {
            for message in build.preamble { try await builder.emit(message) }
            return try await builder.run()
        } catch {
            if build.request.quiet { await builder.releaseHeldOutput() }
            throw error
        }
    }
}
