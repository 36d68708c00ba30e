import BerthOCI
import NIOHTTP1
import Testing
@testable import BerthAPI

struct RouterTests {
    func request(_ method: HTTPMethod, _ uri: String) -> APIRequest {
        let (version, path, query) = HTTPHandler.parse(uri)
        return APIRequest(method: method, path: path, apiVersion: version, query: query, headers: [:], body: [])
    }

    var router: Router {
        var router = Router()
        router.add(.GET, "/containers/{id}/json") { _, parameters in .json(["id": parameters["id"] ?? ""]) }
        router.add(.POST, "/fail") { _, _ in throw BerthError.notFound("No such container: x") }
        return router
    }

    @Test func versionPrefixAndQueryAreSplitOff() {
        let parsed = HTTPHandler.parse("/v1.45/images/json?all=1&filters=%7B%22a%22%3A1%7D&x=a+b")
        #expect(parsed.0 == "1.45")
        #expect(parsed.1 == "/images/json")
        #expect(parsed.2 == ["all": ["1"], "filters": ["{\"a\":1}"], "x": ["a b"]])
        #expect(HTTPHandler.parse("/_ping").0 == nil)
        #expect(HTTPHandler.parse("/version").1 == "/version")
    }

    @Test func routesMatchWithAndWithoutVersion() async {
        for uri in ["/containers/abc/json", "/v1.50/containers/abc/json", "/v1.40/containers/abc/json"] {
            let response = await router.handle(request(.GET, uri))
            #expect(response.status == .ok)
            #expect(String(decoding: response.body, as: UTF8.self) == "{\"id\":\"abc\"}\n")
        }
    }

    @Test func versionsOutsideTheRangeAreRefused() async {
        let old = await router.handle(request(.GET, "/v1.24/containers/abc/json"))
        #expect(old.status == .badRequest)
        #expect(String(decoding: old.body, as: UTF8.self).contains("client version 1.24 is too old. Minimum supported API version is 1.40"))
        let new = await router.handle(request(.GET, "/v1.60/containers/abc/json"))
        #expect(String(decoding: new.body, as: UTF8.self).contains("client version 1.60 is too new. Maximum supported API version is 1.50"))
    }

    @Test func unknownPathsAndMethodsAre404AndErrorsAreMapped() async {
        #expect(await router.handle(request(.GET, "/nothing")).status == .notFound)
        #expect(await router.handle(request(.DELETE, "/containers/abc/json")).status == .notFound)
        let failed = await router.handle(request(.POST, "/fail"))
        #expect(failed.status == .notFound)
        #expect(String(decoding: failed.body, as: UTF8.self) == "{\"message\":\"No such container: x\"}\n")
        #expect(APIResponse.error(BerthError.conflict("c")).status == .conflict)
        #expect(APIResponse.error(BerthError.invalidArgument("c")).status == .badRequest)
        #expect(APIResponse.error(BerthError.notImplemented("c")).status == .notImplemented)
    }
}
