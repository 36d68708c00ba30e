import BerthEngine
import BerthOCI
import BerthStore
import NIOCore
import NIOHTTP1

/// POST /images/create?fromImage=…&tag=…&platform=…: a pull, its progress as dockerd's JSON
/// message stream. Until the pull's first message ("Pulling from") an error is the HTTP
/// answer (404 for an unknown repository or tag, as dockerd answers); after it, an
/// `errorDetail` message in the stream.
enum ImagePullRoute {
    static func respond(_ request: APIRequest, engine: Engine, fromImage: String) async throws -> APIResponse {
        // Without a tag or digest (`docker pull --all-tags`), every tag of the repository.
        let (reference, _) = try Engine.pullReference(fromImage: fromImage, tag: request.queryValue("tag"))
        let platform = request.queryValue("platform")
        let auth = request.headers.first(name: "X-Registry-Auth")
        let cancellation = TransferCancellation()
        let (messages, work) = engine.pullMessages(reference, platform: platform, registryAuth: auth, cancellation: cancellation)
        return try await stream(messages, work: work, cancellation: cancellation)
    }

    /// A pull's or push's messages as the response: an error before the first message is
    /// the HTTP answer, later ones an `errorDetail` message; a client that leaves stops it.
    static func stream(_ messages: AsyncStream<Result<PullMessage, Error>>, work: Task<Void, Never>,
                       cancellation: TransferCancellation) async throws -> APIResponse {
        let pending = PendingMessages(messages.makeAsyncIterator())
        guard let first = await pending.next() else { return .jsonLines([PullMessage]()) }
        let firstMessage = try first.get()
        let line: @Sendable (PullMessage) -> [UInt8] = { Array(($0.json + "\r\n").utf8) }
        let stream = ResponseStream { writer in
            // The client went away (the stream's task is cancelled, or a write fails): the pull
            // stops and removes what it wrote.
            try await withTaskCancellationHandler {
                do {
                    try await writer.write(line(firstMessage))
                    while let next = await pending.next() {
                        switch next {
                        case .success(let message):
                            try await writer.write(line(message))
                        case .failure(let error):
                            try await writer.write(line(.failure((error as? BerthError)?.message ?? "\(error)")))
                        }
                    }
                } catch {
                    cancellation.cancel()
                    _ = await work.result
                    throw error
                }
                _ = await work.result
            } onCancel: {
                cancellation.cancel()
            }
        }
        return APIResponse(headers: ["Content-Type": "application/json"], stream: stream)
    }
}

/// The pull's messages after the first, read by the response stream: one reader at a time
/// (the route, then the stream), so the iterator is handed over rather than shared.
private final class PendingMessages: @unchecked Sendable {
    private var iterator: AsyncStream<Result<PullMessage, Error>>.AsyncIterator

    init(_ iterator: AsyncStream<Result<PullMessage, Error>>.AsyncIterator) { self.iterator = iterator }

    func next() async -> Result<PullMessage, Error>? { await iterator.next() }
}
