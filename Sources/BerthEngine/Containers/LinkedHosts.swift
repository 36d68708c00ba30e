import FoundationEssentials
import Glibc

/// When a linked container starts again with another address, dockerd rewrites the address
/// on the /etc/hosts lines of the running containers that link to it: each line whose names
/// begin with the link's alias (after a tab, followed by a space or a dot) gets the new one.
enum LinkedHosts {
    /// `text` with the address of each alias line replaced.
    static func replacing(in text: String, alias: String, address: String) -> String {
        let marker = "\t" + alias
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (number, line) in lines.enumerated() {
            guard let found = aliasRange(in: line, marker: marker, isLast: number == lines.count - 1) else { continue }
            var start = found.lowerBound
            while start > line.startIndex, !line[line.index(before: start)].isWhitespace { start = line.index(before: start) }
            lines[number] = String(line[..<start]) + address + String(line[found.lowerBound...])
        }
        return lines.joined(separator: "\n")
    }

    /// Where the alias's name begins on a line: after a tab, followed by a space or a dot. The
    /// file's own line ends count as the space after the name; the last line without one does not.
    private static func aliasRange(in line: String, marker: String, isLast: Bool) -> Range<String.Index>? {
        line.ranges(of: marker).first { found in
            found.upperBound == line.endIndex ? !isLast : (line[found.upperBound].isWhitespace || line[found.upperBound] == ".")
        }
    }

    /// `text` without the alias's lines (a link removed with `docker rm --link`).
    static func removing(from text: String, alias: String) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let kept = lines.enumerated().filter { number, line in
            aliasRange(in: line, marker: "\t" + alias, isLast: number == lines.count - 1) == nil
        }
        return kept.map(\.element).joined(separator: "\n")
    }

    /// Rewrites the running container's /etc/hosts (see BindMountedFile).
    static func update(path: String, alias: String, address: String) {
        guard let data = FileManager.default.contents(atPath: path) else { return }
        let text = String(decoding: data, as: UTF8.self)
        let updated = replacing(in: text, alias: alias, address: address)
        guard updated != text else { return }
        BindMountedFile.rewrite(path, with: updated)
    }
}

extension ContainerService {
    /// After a container's network is set up: the /etc/hosts of the running containers that
    /// link to it get its address on the default bridge (dockerd's "parent" update).
    func refreshLinkingHosts(of id: String) async {
        guard let network else { return }
        let parents = entries.values.filter { $0.record.ID != id && $0.record.State.Running && !($0.hostConfig.Links ?? []).isEmpty }
        guard !parents.isEmpty, let address = await network.defaultBridgeAddress(id) else { return }
        for parent in parents {
            for link in parent.hostConfig.Links ?? [] where (try? resolve(Self.linkTarget(link))) == id {
                LinkedHosts.update(path: parent.record.HostsPath, alias: Self.linkAlias(link), address: address)
            }
        }
    }
}
