import FoundationEssentials
import Glibc

/// `docker ps` is the request clients poll most, so its answer is written by hand rather
/// than through JSONEncoder (a tenth of the cost): the same fields, in the same shapes.
struct JSONBuffer {
    var bytes: [UInt8] = []

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// With Go's escapes, as the rest of the API writes strings.
    mutating func string(_ text: String) {
        JSONNode.writeString(text, to: &bytes)
    }

    mutating func number<T: BinaryInteger>(_ value: T) {
        bytes.append(contentsOf: String(value).utf8)
    }

    mutating func stringArray(_ values: [String]) {
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            string(value)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    mutating func stringMap(_ values: [String: String]) {
        bytes.append(UInt8(ascii: "{"))
        for (index, key) in values.keys.sorted().enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            string(key)
            bytes.append(UInt8(ascii: ":"))
            string(values[key]!)
        }
        bytes.append(UInt8(ascii: "}"))
    }
}

extension ContainerSummary {
    /// The list as `GET /containers/json` answers it, with a trailing newline.
    static func json(_ list: [ContainerSummary]) -> [UInt8] {
        var out = JSONBuffer(capacity: 700 * list.count + 2)
        out.raw("[")
        for (index, summary) in list.enumerated() {
            if index > 0 { out.raw(",") }
            summary.write(to: &out)
        }
        out.raw("]\n")
        return out.bytes
    }

    func write(to out: inout JSONBuffer) {
        out.raw("{\"Id\":"); out.string(Id)
        out.raw(",\"Names\":"); out.stringArray(Names)
        out.raw(",\"Image\":"); out.string(Image)
        out.raw(",\"ImageID\":"); out.string(ImageID)
        out.raw(",\"Command\":"); out.string(Command)
        out.raw(",\"Created\":"); out.number(Created)
        out.raw(",\"Ports\":[")
        for (index, port) in Ports.enumerated() {
            out.raw(index == 0 ? "{" : ",{")
            if let ip = port.IP { out.raw("\"IP\":"); out.string(ip); out.raw(",") }
            out.raw("\"PrivatePort\":"); out.number(port.PrivatePort)
            if let published = port.PublicPort { out.raw(",\"PublicPort\":"); out.number(published) }
            out.raw(",\"Type\":"); out.string(port.Type)
            out.raw("}")
        }
        out.raw("]")
        // Go's omitempty: dockerd leaves out a zero size.
        if let SizeRw, SizeRw != 0 { out.raw(",\"SizeRw\":"); out.number(SizeRw) }
        if let SizeRootFs, SizeRootFs != 0 { out.raw(",\"SizeRootFs\":"); out.number(SizeRootFs) }
        out.raw(",\"Labels\":"); out.stringMap(Labels)
        out.raw(",\"State\":"); out.string(State)
        out.raw(",\"Status\":"); out.string(Status)
        out.raw(",\"HostConfig\":{\"NetworkMode\":"); out.string(HostConfig.NetworkMode)
        out.raw("},\"NetworkSettings\":{\"Networks\":")
        // Nested: through the API's encoder, in dockerd's key order (none needed when empty).
        if NetworkSettings.Networks.isEmpty {
            out.raw("{}")
        } else {
            out.bytes += (try? DeclarationOrderJSON.encode(NetworkSettings.Networks)) ?? Array("{}".utf8)
        }
        out.raw("},\"Mounts\":")
        if Mounts.isEmpty {
            out.raw("[]")
        } else {
            out.bytes += (try? DeclarationOrderJSON.encode(Mounts)) ?? Array("[]".utf8)
        }
        out.raw("}")
    }
}
