import BerthOCI
import FoundationEssentials
import Glibc

/// The `tag` log option: a Go template over the container's logging info, as dockerd reads
/// it (by default `{{.ID}}`, the short ID). The journald driver writes the result as
/// CONTAINER_TAG and SYSLOG_IDENTIFIER.
///
/// Templates here are text with `{{.Field}}` actions (spaces allowed inside the braces) of the
/// fields and methods dockerd's `logger.Info` offers for strings: ID, FullID, Name, Command,
/// ImageID, ImageFullID, ImageName, Hostname, DaemonName, ContainerID, ContainerName,
/// ContainerEntrypoint, ContainerImageID, ContainerImageName, LogPath. Pipelines and functions
/// are refused with an error rather than rendered wrong.
struct LogTag {
    var containerID: String
    /// With its leading slash, as dockerd keeps it.
    var containerName: String
    var entrypoint: String
    var args: [String]
    /// "sha256:…"
    var imageID: String
    var imageName: String
    var logPath: String

    static let defaultTemplate = "{{.ID}}"

    /// The tag for `template` (empty: the default), or dockerd's template error.
    func render(_ template: String?) throws(BerthError) -> String {
        let template = template.flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultTemplate
        var out = ""
        var rest = template[...]
        var line = 1
        var lineStart = template.startIndex
        while let open = rest.firstRange(of: "{{") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstRange(of: "}}") else {
                throw BerthError.invalidArgument("template: log-tag:\(line): unclosed action")
            }
            for index in template[lineStart..<open.lowerBound].indices where template[index] == "\n" {
                line += 1
                lineStart = template.index(after: index)
            }
            let action = rest[open.upperBound..<close.lowerBound].trimmed(newlines: false)
            let column = template.distance(from: lineStart, to: open.upperBound)
                + (rest[open.upperBound..<close.lowerBound].prefix { $0 == " " }.count)
            guard action.hasPrefix("."), action.count > 1,
                  action.dropFirst().allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw BerthError.invalidArgument("template: log-tag:\(line): unsupported action {{\(action)}}: only {{.Field}} is supported")
            }
            let field = String(action.dropFirst())
            guard let value = value(of: field) else {
                throw BerthError.invalidArgument(
                    "template: log-tag:\(line):\(column): executing \"log-tag\" at <.\(field)>: can't evaluate field \(field) in type *logger.Info")
            }
            out += value
            rest = rest[close.upperBound...]
        }
        return out + rest
    }

    private func value(of field: String) -> String? {
        switch field {
        case "ID": return String(containerID.prefix(12))
        case "FullID", "ContainerID": return containerID
        case "Name": return containerName.hasPrefix("/") ? String(containerName.dropFirst()) : containerName
        case "ContainerName": return containerName
        case "Command": return ([entrypoint] + args).joined(separator: " ")
        case "ContainerEntrypoint": return entrypoint
        case "ImageID": return String((imageID.split(separator: ":", maxSplits: 1).last ?? "").prefix(12))
        case "ImageFullID", "ContainerImageID": return imageID
        case "ImageName", "ContainerImageName": return imageName
        case "Hostname":
            var name = [UInt8](repeating: 0, count: 256)
            guard gethostname(&name, name.count - 1) == 0 else { return "" }
            return String(decoding: name.prefix { $0 != 0 }, as: UTF8.self)
        case "DaemonName": return "docker"
        case "LogPath": return logPath
        default: return nil
        }
    }
}

extension LogTag {
    init(record: ContainerRecord) {
        self.init(containerID: record.ID, containerName: record.Name, entrypoint: record.Path, args: record.Args,
                  imageID: record.Image, imageName: record.Config.Image ?? "", logPath: record.LogPath)
    }
}
