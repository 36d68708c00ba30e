import NIOHTTP1
import Testing
@testable import BerthAPI

/// The websocket attach's opening handshake, checked as dockerd's websocket library checks it.
struct WebSocketHandshakeTests {
    func headers(_ pairs: [(String, String)]) -> HTTPHeaders { HTTPHeaders(pairs) }

    let upgrade = [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                   ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")]

    @Test func theKeysAnswerIsRFC6455s() {
        #expect(WebSocketHandshake.acceptValue("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(WebSocketHandshake.answer(headers(upgrade)) == .accept(head:
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"))
    }

    @Test func headerWordsAreReadWithoutCaseAndConnectionMayListMore() {
        let loose = [("upgrade", "WebSocket"), ("connection", "keep-alive, Upgrade"),
                     ("sec-websocket-key", "abc"), ("sec-websocket-version", "13")]
        guard case .accept = WebSocketHandshake.answer(headers(loose)) else {
            Issue.record("refused \(loose)")
            return
        }
    }

    @Test func oneSubprotocolIsTakenSeveralAreRefused() {
        let one = WebSocketHandshake.answer(headers(upgrade + [("Sec-WebSocket-Protocol", " tty ")]))
        guard case .accept(let head) = one else {
            Issue.record("refused one subprotocol")
            return
        }
        #expect(head.hasSuffix("\r\nSec-WebSocket-Protocol: tty\r\n\r\n"))
        #expect(WebSocketHandshake.answer(headers(upgrade + [("Sec-WebSocket-Protocol", "a, b")]))
            == .reject(response: "HTTP/1.1 400 Bad Request\r\n\r\n"))
        #expect(WebSocketHandshake.answer(headers(upgrade + [("Sec-WebSocket-Protocol", "a,")]))
            == .reject(response: "HTTP/1.1 400 Bad Request\r\n\r\n"))
    }

    @Test func refusalsInDockerdsWords() {
        #expect(WebSocketHandshake.answer(headers([])) == .reject(response: "HTTP/1.1 400 Bad Request\r\n\r\nnot websocket protocol"))
        #expect(WebSocketHandshake.answer(headers([("Upgrade", "tcp"), ("Connection", "Upgrade")]))
            == .reject(response: "HTTP/1.1 400 Bad Request\r\n\r\nnot websocket protocol"))
        #expect(WebSocketHandshake.answer(headers([("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Version", "13")]))
            == .reject(response: "HTTP/1.1 400 Bad Request\r\n\r\nmismatch challenge/response"))
        let badVersion = "HTTP/1.1 400 Bad Request\r\nSec-WebSocket-Version: 13\r\n\r\nmissing or bad WebSocket Version"
        #expect(WebSocketHandshake.answer(headers(Array(upgrade.dropLast()))) == .reject(response: badVersion))
        #expect(WebSocketHandshake.answer(headers(Array(upgrade.dropLast()) + [("Sec-WebSocket-Version", "8")])) == .reject(response: badVersion))
    }
}
