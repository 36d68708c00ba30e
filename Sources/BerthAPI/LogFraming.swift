import NIOHTTP1

/// How `docker logs` and an attach's log replay frame the records of a multiplexed stream.
/// dockerd sends one stdcopy frame per record, and a client may take a frame for a line:
/// docker-py's `logs(stream=True)` yields one item per frame. The docker CLI writes the bytes
/// out unchanged however they are framed, and demultiplexes a big log several times faster
/// when records of one stream in a row share a frame; it gets them so.
enum LogFraming {
    static func joinsFrames(_ headers: HTTPHeaders) -> Bool {
        headers["User-Agent"].contains { $0.hasPrefix("Docker-Client/") }
    }
}
