import BerthOCI
import CCrypto
import FoundationEssentials
import NIOHTTP1

/// The server's half of the RFC 6455 opening handshake, checked as dockerd's websocket
/// library checks it: the first value of each header counts, any Origin is welcome, and a
/// request it refuses gets a bare 400 with the reason as its body, then the connection closes.
enum WebSocketHandshake {
    enum Answer: Equatable {
        /// The 101 head, after which the connection carries frames.
        case accept(head: String)
        /// The whole answer; nothing follows it.
        case reject(response: String)
    }

    /// RFC 6455 section 1.3: the key's answer is the SHA-1 of the key and this GUID.
    static let acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    static func answer(_ headers: HTTPHeaders) -> Answer {
        let upgrade = headers.first(name: "Upgrade") ?? ""
        let connection = headers.first(name: "Connection") ?? ""
        guard upgrade.lowercased() == "websocket", connection.lowercased().contains("upgrade") else {
            return refusal("not websocket protocol")
        }
        guard let key = headers.first(name: "Sec-WebSocket-Key"), !key.isEmpty else {
            return refusal("mismatch challenge/response")
        }
        guard headers.first(name: "Sec-WebSocket-Version") == "13" else {
            return .reject(response: "HTTP/1.1 400 Bad Request\r\nSec-WebSocket-Version: 13\r\n\r\nmissing or bad WebSocket Version")
        }
        // Offered subprotocols are accepted only one at a time: with no handshake hook to pick
        // one of several, dockerd refuses those with an empty 400.
        var protocols: [String] = []
        if let offered = headers.first(name: "Sec-WebSocket-Protocol"), !offered.trimmed().isEmpty {
            protocols = offered.trimmed().split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmed() }
        }
        if protocols.count > 1 { return refusal("") }
        var head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        head += "Sec-WebSocket-Accept: \(acceptValue(key))\r\n"
        if let chosen = protocols.first { head += "Sec-WebSocket-Protocol: \(chosen)\r\n" }
        return .accept(head: head + "\r\n")
    }

    /// base64(SHA-1(key + GUID)), RFC 6455 section 4.2.2.
    static func acceptValue(_ key: String) -> String {
        var context = sha1_ctx()
        nettle_sha1_init(&context)
        let text = Array((key + acceptGUID).utf8)
        text.withUnsafeBufferPointer { nettle_sha1_update(&context, $0.count, $0.baseAddress) }
        var digest = [UInt8](repeating: 0, count: Int(SHA1_DIGEST_SIZE))
        nettle_sha1_digest(&context, digest.count, &digest)
        return Data(digest).base64EncodedString()
    }

    private static func refusal(_ reason: String) -> Answer {
        .reject(response: "HTTP/1.1 400 Bad Request\r\n\r\n" + reason)
    }
}
