import BerthEngine
import BerthOCI
import Foundation
import NIOHTTP1
import Testing
@testable import BerthAPI

/// What dockerd answers to the odd requests SDKs and scripts send, for the parts that are
/// pure parsing: JSON bodies, Content-Type, query values, filters and paths.
struct RequestParsingParityTests {
    func failure<T: Decodable>(_ type: T.Type, _ body: String, as goType: GoJSONTypeError = .createRequest) -> String? {
        do {
            _ = try JSONRequestBody.decode(type, Array(body.utf8), as: goType)
            return nil
        } catch let error as BerthError {
            #expect(error.code == .invalidArgument)
            return error.message
        } catch {
            return "\(error)"
        }
    }

    func createFailure(_ body: String) -> String? { failure(ContainerCreateRequest.self, body) }

    @Test func bodiesThatAreNoJSONFailInGoWords() {
        #expect(createFailure("") == "invalid JSON: got EOF while reading request body")
        #expect(createFailure(" \n ") == "invalid JSON: got EOF while reading request body")
        #expect(createFailure("{") == "invalid JSON: unexpected EOF")
        #expect(createFailure(#"{"Image":"busybox" "Cmd":1}"#) == #"invalid JSON: invalid character '"' after object key:value pair"#)
        #expect(createFailure(#"{"Image":busybox}"#) == "invalid JSON: invalid character 'b' looking for beginning of value")
        #expect(createFailure("{Image:1}") == "invalid JSON: invalid character 'I' looking for beginning of object key string")
        #expect(createFailure(#"{"Image" 1}"#) == "invalid JSON: invalid character '1' after object key")
        #expect(createFailure(#"{"Image":"a\x"}"#) == "invalid JSON: invalid character 'x' in string escape code")
        #expect(createFailure(#"{"Tty":tru}"#) == "invalid JSON: invalid character '}' in literal true (expecting 'e')")
        #expect(createFailure(#"{"StopTimeout":1.}"#) == "invalid JSON: invalid character '}' after decimal point in numeric literal")
        #expect(createFailure(#"{"Cmd":["a",]}"#) == "invalid JSON: invalid character ']' looking for beginning of value")
        #expect(createFailure("{\"Image\":\"a\u{01}\"}") == #"invalid JSON: invalid character '\x01' in string literal"#)
        #expect(createFailure(#"{"Cmd":["a" "b"]}"#) == #"invalid JSON: invalid character '"' after array element"#)
        #expect(createFailure("\u{FEFF}{}") == "invalid JSON: invalid character 'ï' looking for beginning of value")
    }

    @Test func contentAfterTheValueIsRefusedButAClosingBracketIsNot() {
        #expect(createFailure(#"{"Image":"busybox"} x"#) == "unexpected content after JSON")
        #expect(createFailure(#"{"Image":"busybox"}{}"#) == "unexpected content after JSON")
        // Go's Decoder.More does not count a stray closing bracket as more content.
        #expect(createFailure(#"{"Image":"busybox"}}"#) == nil)
        #expect(createFailure("{\"Image\":\"busybox\"}\n") == nil)
    }

    @Test func nullIsNoValue() throws {
        #expect(try JSONRequestBody.decode(ContainerCreateRequest.self, Array("null".utf8), as: .createRequest) == nil)
        #expect(try JSONRequestBody.decode(ContainerCreateRequest.self, Array(#"{"Image":"a"}"#.utf8), as: .createRequest)?.config.Image == "a")
    }

    @Test func valuesOfTheWrongTypeFailAsGoSaysIt() {
        let prefix = "invalid JSON: json: cannot unmarshal "
        #expect(createFailure("[]") == prefix + "array into Go value of type container.CreateRequest")
        #expect(createFailure("12") == prefix + "number into Go value of type container.CreateRequest")
        #expect(createFailure(#"{"Env":{"A":"B"}}"#) == prefix + "object into Go struct field CreateRequest.Env of type []string")
        #expect(createFailure(#"{"Cmd":5}"#) == prefix + "number into Go struct field CreateRequest.Cmd of type string")
        #expect(createFailure(#"{"Labels":{"a":1}}"#) == prefix + "number into Go struct field CreateRequest.Labels of type string")
        #expect(createFailure(#"{"Tty":"yes"}"#) == prefix + "string into Go struct field CreateRequest.Tty of type bool")
        #expect(createFailure(#"{"ExposedPorts":["80/tcp"]}"#) == prefix + "array into Go struct field CreateRequest.ExposedPorts of type nat.PortSet")
        #expect(createFailure(#"{"HostConfig":[]}"#) == prefix + "array into Go struct field CreateRequest.HostConfig of type container.HostConfig")
        #expect(createFailure(#"{"HostConfig":{"Memory":"1g"}}"#) == prefix + "string into Go struct field HostConfig.HostConfig.Memory of type int64")
        #expect(createFailure(#"{"HostConfig":{"Memory":1.5}}"#) == prefix + "number 1.5 into Go struct field HostConfig.HostConfig.Memory of type int64")
        #expect(createFailure(#"{"HostConfig":{"Binds":"x"}}"#) == prefix + "string into Go struct field HostConfig.HostConfig.Binds of type []string")
        #expect(createFailure(#"{"Healthcheck":{"Interval":"1s"}}"#) == prefix + "string into Go struct field HealthConfig.Healthcheck.Interval of type time.Duration")
        #expect(createFailure(#"{"HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":80}]}}}"#)
            == prefix + "number into Go struct field PortBinding.HostConfig.PortBindings.HostPort of type string")
        #expect(createFailure(#"{"NetworkingConfig":{"EndpointsConfig":{"bridge":{"Aliases":"x"}}}}"#)
            == prefix + "string into Go struct field EndpointSettings.NetworkingConfig.EndpointsConfig.Aliases of type []string")
        #expect(createFailure(#"{"HostConfig":{"BlkioWeight":70000}}"#) == prefix + "number 70000 into Go struct field HostConfig.HostConfig.BlkioWeight of type uint16")
        #expect(failure(ExecCreateRequest.self, #"{"Cmd":"true"}"#, as: .execOptions) == prefix + "string into Go struct field ExecOptions.Cmd of type []string")
    }

    @Test func networkAndVolumeBodiesNameGoTypes() {
        struct IPAMBody: Decodable {
            struct IPAM: Decodable { struct Config: Decodable { var Subnet: String? }; var Config: [Config]? }
            var Name: String?
            var IPAM: IPAM?
        }
        let prefix = "invalid JSON: json: cannot unmarshal "
        #expect(failure(IPAMBody.self, #"{"IPAM":{"Config":[{"Subnet":5}]}}"#, as: GoJSONTypeError(rootType: "network.CreateRequest"))
            == prefix + "number into Go struct field IPAMConfig.IPAM.Config.Subnet of type string")
        struct LogBody: Decodable {
            struct LogConfig: Decodable { var Config: [String: String]? }
            var LogConfig: LogConfig?
        }
        #expect(failure(LogBody.self, #"{"LogConfig":{"Config":{"max-size":1}}}"#, as: GoJSONTypeError(rootType: "container.HostConfig"))
            == prefix + "number into Go struct field LogConfig.LogConfig.Config of type string")
    }

    @Test func aMissingKeyGetsGoZeroValue() {
        func added(_ body: String) -> String {
            String(decoding: JSONRequestBody.addingMissingKey("Name", zeroValue: "\"\"", to: Array(body.utf8)), as: UTF8.self)
        }
        #expect(added("{}") == #"{"Name":""}"#)
        #expect(added(#" {"Driver":"bridge"}"#) == #" {"Name":"","Driver":"bridge"}"#)
        #expect(added(#"{"Name":"x"}"#) == #"{"Name":"x"}"#)
        #expect(added("") == "")
        #expect(added("[]") == "[]")
    }

    @Test func keysMatchFieldsIgnoringCaseButMapKeysStay() throws {
        let body = #"{"image":"busybox","CMD":["true"],"labels":{"image":"x"},"hostconfig":{"memory":5,"portbindings":{"80/tcp":[{"hostport":"8080"}]},"logconfig":{"type":"json-file","config":{"max-size":"1m"}}}}"#
        let request = try #require(try JSONRequestBody.decode(ContainerCreateRequest.self, Array(body.utf8), as: .createRequest))
        #expect(request.config.Image == "busybox" && request.config.Cmd == ["true"])
        #expect(request.config.Labels == ["image": "x"])
        #expect(request.hostConfig.Memory == 5)
        #expect(request.hostConfig.PortBindings?["80/tcp"]??.first?.HostPort == "8080")
        #expect(request.hostConfig.LogConfig?.Config?["max-size"] == "1m")
        // The exact spelling wins over another case.
        let both = try JSONRequestBody.decode(ContainerCreateRequest.self, Array(#"{"image":"a","Image":"b"}"#.utf8), as: .createRequest)
        #expect(both?.config.Image == "b")
        #expect(GoJSONKeyFolding.folded(Array(#"{"Image":"a","Labels":{"cmd":"x"}}"#.utf8)) == nil)
        // Bodies spelled as the API spells them are not parsed for folding at all; a value
        // that looks like a field, or a colon inside a string, is no key.
        #expect(!GoJSONKeyFolding.mayNeedFolding(Array(#"{"Image":"image","Cmd":["cmd:", "x"],"Env":["A=\"b\":"]}"#.utf8)))
        #expect(GoJSONKeyFolding.mayNeedFolding(Array(#"{"Image":"a","HostConfig":{"memory": 5}}"#.utf8)))
        #expect(GoJSONKeyFolding.mayNeedFolding(Array(#"{"\u0049mage":"a"}"#.utf8)))
        #expect(try GoJSONKeyFolding.folded(Array(#"{"\u0069mage":"a"}"#.utf8)).map { try AnyJSON.parse(Data($0)) as? [String: String] } == ["Image": "a"])
    }

    @Test func contentTypeIsCheckedAsDockerdDoes() throws {
        func check(_ contentType: String?, body: String = "{}") -> String? {
            var headers = HTTPHeaders()
            if let contentType { headers.add(name: "Content-Type", value: contentType) }
            let request = APIRequest(method: .POST, path: "/containers/create", apiVersion: nil, query: [:], headers: headers, body: Array(body.utf8))
            do {
                try JSONRequestBody.checkContentType(request)
                return nil
            } catch let error as BerthError {
                return error.message
            } catch {
                return "\(error)"
            }
        }
        #expect(check("application/json") == nil)
        #expect(check("application/json; charset=utf-8") == nil)
        #expect(check("Application/JSON;") == nil)
        #expect(check(nil, body: "") == nil)
        #expect(check(nil) == "malformed Content-Type header (): mime: no media type")
        #expect(check("text/plain") == "unsupported Content-Type header (text/plain): must be 'application/json'")
        #expect(check("application") == "malformed Content-Type header (application): mime: expected slash after first token")
        #expect(check("application/json; x") == "malformed Content-Type header (application/json; x): mime: invalid media parameter")
    }

    func request(_ query: String) -> APIRequest {
        let (version, path, parsed) = HTTPHandler.parse("/v1.41/containers/x/resize?" + query)
        return APIRequest(method: .POST, path: path, apiVersion: version, query: parsed, headers: [:], body: [])
    }

    @Test func queryBooleansAndNumbersReadAsGoReadsThem() throws {
        for falseValue in ["", "0", "no", "NO", "false", "False", "none", "%20false%20"] {
            #expect(request("all=" + falseValue).flag("all") == false, "\(falseValue)")
        }
        for trueValue in ["1", "true", "yes", "x", "-1"] { #expect(request("all=" + trueValue).flag("all"), "\(trueValue)") }
        // Go's url.Values.Get takes the first of repeated keys.
        #expect(request("all=1&all=0").flag("all"))
        #expect(request("all=0&all=1").flag("all") == false)
        #expect(request("stream=").flag("stream", default: true) == false)
        #expect(request("").flag("stream", default: true))

        #expect(try request("t=5").atoi("t") == 5)
        #expect(try request("t=").atoi("t") == nil)
        #expect(throws: BerthError.internalError(#"strconv.Atoi: parsing "x": invalid syntax"#)) { try request("t=x").atoi("t") }
        #expect(throws: BerthError.internalError(#"strconv.Atoi: parsing "99999999999999999999": value out of range"#)) {
            try request("t=99999999999999999999").atoi("t")
        }
        #expect(try request("h=10&w=20").resizeDimension("w", word: "width") == 20)
        #expect(try request("h=70000").resizeDimension("h", word: "height") == 4464)
        #expect(throws: BerthError.invalidArgument(#"invalid resize height "": invalid syntax"#)) { try request("").resizeDimension("h", word: "height") }
        #expect(throws: BerthError.invalidArgument(#"invalid resize height "-1": value out of range"#)) { try request("h=-1").resizeDimension("h", word: "height") }
        #expect(throws: BerthError.invalidArgument(#"invalid resize height "+1": invalid syntax"#)) { try request("h=%2B1").resizeDimension("h", word: "height") }
        #expect(throws: BerthError.invalidArgument(#"invalid resize width "4294967296": value out of range"#)) {
            try request("w=4294967296").resizeDimension("w", word: "width")
        }
    }

    @Test func stopSignalIsIgnoredBeforeAPI142() {
        let (_, path, query) = HTTPHandler.parse("/containers/x/stop?signal=BOGUS")
        #expect(APIRequest(method: .POST, path: path, apiVersion: "1.41", query: query, headers: [:], body: []).stopSignal == nil)
        #expect(APIRequest(method: .POST, path: path, apiVersion: "1.42", query: query, headers: [:], body: []).stopSignal == "BOGUS")
        #expect(APIRequest(method: .POST, path: path, apiVersion: nil, query: query, headers: [:], body: []).stopSignal == "BOGUS")
    }

    @Test func filtersHaveGoTwoForms() throws {
        #expect(try ImageRoutes.parseFilters("null") == [:])
        #expect(try ImageRoutes.parseFilters(#"{"status":["running"]}"#) == ["status": ["running"]])
        // In the map form every key counts, whatever its bool.
        #expect(try ImageRoutes.parseFilters(#"{"status":{"running":false}}"#) == ["status": ["running"]])
        #expect(try ImageRoutes.parseFilters(#"{"status":null}"#) == ["status": []])
        for bad in ["{", "[]", #""x""#, #"{"status":"running"}"#, #"{"status":[1]}"#, #"{"a":["x"],"b":{"y":true}}"#] {
            #expect(throws: BerthError.invalidArgument("invalid filter"), "\(bad)") { try ImageRoutes.parseFilters(bad) }
        }
    }

    @Test func pathsAreCleanedAsGorillaCleansThem() {
        #expect(PathCleaning.redirect(for: "/v1.41/containers/json?all=1") == nil)
        #expect(PathCleaning.redirect(for: "/v1.41/containers/json/") == nil)
        #expect(PathCleaning.redirect(for: "/images/library%2Fbusybox/json") == nil)
        #expect(PathCleaning.redirect(for: "//containers/json?all=1&x=%20") == "/containers/json?all=1&x=%20")
        #expect(PathCleaning.redirect(for: "/v1.41/containers//json") == "/v1.41/containers/json")
        #expect(PathCleaning.redirect(for: "/containers/%2Fweb/json") == "/containers/web/json")
        #expect(PathCleaning.redirect(for: "/containers/a/../b%20c/./json/") == "/containers/b%20c/json/")
    }

    @Test func versionsAreAnyDigitsAndDots() {
        #expect(Router.splitVersion("/v1/containers/json").version == "1")
        #expect(Router.splitVersion("/v1.41.0/containers/json").version == "1.41.0")
        #expect(Router.splitVersion("/vx/containers/json").version == nil)
        #expect(Router.splitVersion("/v/containers/json").version == nil)
    }

    @Test func queriesGoCannotParseAreNamed() {
        #expect(GoQueryCheck.error("/containers/json?all=1&size=0") == nil)
        #expect(GoQueryCheck.error("/containers/json") == nil)
        #expect(GoQueryCheck.error("/containers/json?all=%zz") == #"invalid URL escape "%zz""#)
        #expect(GoQueryCheck.error("/containers/json?a%2=1") == #"invalid URL escape "%2=""# || GoQueryCheck.error("/containers/json?a%2=1") == #"invalid URL escape "%2""#)
        #expect(GoQueryCheck.error("/containers/json?all=%4") == #"invalid URL escape "%4""#)
        #expect(GoQueryCheck.error("/containers/json?all=%zz&size=1;x=2") == "invalid semicolon separator in query")
    }

    @Test func headFindsOnlyItsOwnRoutes() async {
        var router = Router()
        router.add(.GET, "/containers/json") { _, _ in .json([String]()) }
        router.add(.HEAD, "/_ping") { _, _ in APIResponse() }
        let head = APIRequest(method: .HEAD, path: "/containers/json", apiVersion: nil, query: [:], headers: [:], body: [])
        #expect(await router.handle(head).status == .notFound)
        let ping = APIRequest(method: .HEAD, path: "/_ping", apiVersion: nil, query: [:], headers: [:], body: [])
        #expect(await router.handle(ping).status == .ok)
        var bad = APIRequest(method: .GET, path: "/containers/json", apiVersion: nil, query: [:], headers: [:], body: [])
        bad.queryError = #"invalid URL escape "%zz""#
        let refused = await router.handle(bad)
        #expect(refused.status == .badRequest && String(decoding: refused.body, as: UTF8.self) == #"{"message":"invalid URL escape \"%zz\""}"# + "\n")
    }

    @Test func goQuotesLikeStrconv() {
        #expect(GoStrconv.quote("a\"b\\c\n\u{1b}é") == #""a\"b\\c\n\x1bé""#)
    }
}
