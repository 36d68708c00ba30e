import BerthEngine
import BerthOCI
import BerthStore
import NIOHTTP1

/// The registry endpoints besides pull: `docker login` (POST /auth), `docker push`
/// (POST /images/{name}/push), `docker search` (GET /images/search) and a remote image's
/// descriptor and platforms (GET /distribution/{name}/json).
enum RegistryRoutes {
    static func register(_ router: inout Router, engine: Engine) {
        router.add(.POST, "/auth") { request, _ in
            let body = try JSONRequestBody.read(RegistryLoginRequest.self, from: request,
                                                as: GoJSONTypeError(rootType: "registry.AuthConfig")) ?? RegistryLoginRequest()
            let token = try await engine.blocking { try engine.login(body) }
            // IdentityToken is left out when empty, as Go's omitempty does.
            struct Answer: Encodable {
                var IdentityToken: String?
                var Status: String
            }
            return .json(Answer(IdentityToken: token.isEmpty ? nil : token, Status: "Login Succeeded"))
        }
        router.add(.GET, "/images/search") { request, _ in
            var limit = 0
            if let text = request.queryValue("limit"), !text.isEmpty {
                guard let value = Int(text) else {
                    throw BerthError.invalidArgument("invalid limit specified: strconv.Atoi: parsing \"\(text)\": invalid syntax")
                }
                limit = value
            }
            let filters = try ImageRoutes.parseFilters(request.queryValue("filters"))
            let term = request.queryValue("term") ?? ""
            let size = limit
            return .json(try await engine.blocking { try engine.search(term: term, limit: size, filters: filters) })
        }
        router.addNamed(.GET, prefix: "/distribution/", suffix: "/json") { request, parameters in
            let name = parameters["name"]!
            let auth = request.headers.first(name: "X-Registry-Auth")
            return .json(try await engine.blocking { try engine.distributionInspect(name, registryAuth: auth) })
        }
        router.addNamed(.POST, prefix: "/images/", suffix: "/push") { request, parameters in
            let name = parameters["name"]!
            let cancellation = TransferCancellation()
            let (messages, work) = engine.pushMessages(name, tag: request.queryValue("tag"),
                                                       registryAuth: request.headers.first(name: "X-Registry-Auth"),
                                                       cancellation: cancellation)
            return try await ImagePullRoute.stream(messages, work: work, cancellation: cancellation)
        }
    }
}
