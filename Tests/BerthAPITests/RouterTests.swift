import BerthOCI
import Foundation
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
    }

    @Test func everyErrorCodeHasItsStatus() {
        let expected: [(BerthError.Code, HTTPResponseStatus)] = [
            (.notFound, .notFound), (.conflict, .conflict), (.invalidArgument, .badRequest),
            (.unavailable, .serviceUnavailable), (.notImplemented, .notImplemented), (.forbidden, .forbidden),
            (.internalError, .internalServerError),
        ]
        for (code, status) in expected {
            let response = APIResponse.error(BerthError(code, "m"))
            #expect(response.status == status, "\(code)")
            #expect(String(decoding: response.body, as: UTF8.self) == "{\"message\":\"m\"}\n")
        }
        struct Other: Error {}
        #expect(APIResponse.error(Other()).status == .internalServerError)
    }

    @Test func imageNamesWithSlashesRouteBySuffix() async {
        var router = Router()
        router.addNamed(.GET, prefix: "/images/", suffix: "/json") { _, parameters in .json(["name": parameters["name"]!]) }
        router.add(.GET, "/images/json") { _, _ in .json(["list": "all"]) }
        let named = await router.handle(request(.GET, "/v1.50/images/localhost:5000/library/busybox:latest/json"))
        #expect(String(decoding: named.body, as: UTF8.self) == "{\"name\":\"localhost:5000/library/busybox:latest\"}\n")
        let list = await router.handle(request(.GET, "/images/json"))
        #expect(String(decoding: list.body, as: UTF8.self) == "{\"list\":\"all\"}\n")
        // HEAD is not answered by a GET route: dockerd's router says "page not found".
        #expect(await router.handle(request(.HEAD, "/images/busybox/json")).status == .notFound)
    }

    @Test func jsonMessageStreamsAreOneObjectPerLine() async throws {
        let response = APIResponse.jsonLines([["stream": "Loaded image: busybox:latest\n"], ["stream": "Loaded image: a:1\n"]])
        #expect(response.headers["Content-Type"] == ["application/json"])
        let collected = Collected()
        try await response.stream!.produce(ResponseWriter { buffer in collected.append(Array(buffer.readableBytesView)) })
        #expect(String(decoding: collected.bytes, as: UTF8.self)
            == "{\"stream\":\"Loaded image: busybox:latest\\n\"}\r\n{\"stream\":\"Loaded image: a:1\\n\"}\r\n")
    }
}

/// Bytes a test writer received.
final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var received: [UInt8] = []
    func append(_ bytes: [UInt8]) { lock.withLock { received += bytes } }
    var bytes: [UInt8] { lock.withLock { received } }
}
