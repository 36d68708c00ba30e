import BerthOCI
import FoundationEssentials

/// One message of the pull's JSON stream, as dockerd's progress output writes it:
/// `{"status":"Pulling fs layer","progressDetail":{},"id":"c310043e0421"}`,
/// `{"status":"Downloading","progressDetail":{"current":…,"total":…},"progress":"[=>  ]  …","id":…}`,
/// `{"status":"Digest: sha256:…"}`, or an error `{"errorDetail":{"message":…},"error":…}`.
public struct PullMessage: Encodable, Sendable, Equatable {
    public struct Detail: Encodable, Sendable, Equatable {
        var current: Int64?
        var total: Int64?
    }
    public struct ErrorDetail: Encodable, Sendable, Equatable {
        var message: String
    }
    public var status: String?
    public var progressDetail: Detail?
    public var progress: String?
    public var id: String?
    public var errorDetail: ErrorDetail?
    public var error: String?
    /// Raw JSON for `aux` (a push's {Tag, Digest, Size}); not encoded by Codable.
    public var aux: String?

    enum CodingKeys: String, CodingKey { case status, progressDetail, progress, id, errorDetail, error }

    /// A line with no id ("Digest: …", "Status: …").
    static func line(_ status: String) -> PullMessage { PullMessage(status: status) }

    /// "Pulling from library/busybox" with the tag (or digest reference) as id: no progressDetail.
    static func header(_ status: String, id: String) -> PullMessage { PullMessage(status: status, id: id) }

    /// A layer's step ("Pulling fs layer", "Download complete"…): an empty progressDetail.
    static func layer(_ status: String, id: String) -> PullMessage {
        PullMessage(status: status, progressDetail: Detail(), id: id)
    }

    /// "Downloading" or "Extracting" with a bar.
    static func progress(_ status: String, id: String, current: Int64, total: Int64) -> PullMessage {
        PullMessage(status: status, progressDetail: Detail(current: current, total: total),
                    progress: ProgressBar.text(current: current, total: total), id: id)
    }

    public static func failure(_ message: String) -> PullMessage {
        PullMessage(errorDetail: ErrorDetail(message: message), error: message)
    }

    /// One JSON line, keys in dockerd's order.
    public var json: String {
        func quoted(_ text: String) -> String { text.goJSONQuoted }  // Go's json.Marshal, HTML escaped
        var fields: [String] = []
        if let status { fields.append("\"status\":" + quoted(status)) }
        if let progressDetail {
            var detail: [String] = []
            if let current = progressDetail.current { detail.append("\"current\":\(current)") }
            if let total = progressDetail.total { detail.append("\"total\":\(total)") }
            fields.append("\"progressDetail\":{" + detail.joined(separator: ",") + "}")
        }
        if let progress { fields.append("\"progress\":" + quoted(progress)) }
        if let id { fields.append("\"id\":" + quoted(id)) }
        if let errorDetail { fields.append("\"errorDetail\":{\"message\":" + quoted(errorDetail.message) + "}") }
        if let error { fields.append("\"error\":" + quoted(error)) }
        if let aux { fields.append("\"aux\":" + aux) }
        return "{" + fields.joined(separator: ",") + "}"
    }
}

/// dockerd's progress bar: 50 columns, `=` done and `>` at the head, then the sizes (decimal
/// units, as Go's units.HumanSize), the current size right-aligned in eight columns.
enum ProgressBar {
    static func text(current: Int64, total: Int64) -> String {
        let width = 50
        var done = total > 0 ? Int(Double(width) * Double(current) / Double(total)) : 0
        done = min(max(done, 0), width)
        let bar = String(repeating: "=", count: done) + ">" + String(repeating: " ", count: width - done)
        let current = humanSize(current)
        return "[" + bar + "] " + String(repeating: " ", count: max(0, 8 - current.count)) + current + "/" + humanSize(total)
    }

    static func humanSize(_ bytes: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return significant(value) + units[unit]
    }

    /// Go's %.4g: four significant digits, no trailing zeros.
    static func significant(_ value: Double) -> String {
        if value == 0 { return "0" }
        let digitsBefore = value >= 1 ? Int((value).rounded(.down)).description.count : 1
        let decimals = max(0, 4 - digitsBefore)
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        var text = String(Int64(rounded.rounded(.down)))
        if decimals > 0 {
            let fraction = Int64(((rounded - rounded.rounded(.down)) * scale).rounded())
            var fractionText = String(fraction)
            fractionText = String(repeating: "0", count: max(0, decimals - fractionText.count)) + fractionText
            while fractionText.hasSuffix("0") { fractionText.removeLast() }
            if !fractionText.isEmpty { text += "." + fractionText }
        }
        return text
    }
}
