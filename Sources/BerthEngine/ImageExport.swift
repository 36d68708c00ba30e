import BerthOCI
import BerthStore
import FoundationEssentials
import Glibc

extension Engine {
    /// `docker save`: starts writing the images as one archive; read it with `TarStream.read(into:)`.
    public func exportImages(_ names: [String]) throws -> TarStream {
        guard !names.isEmpty else { throw BerthError.invalidArgument("no image names given") }
        return try TarStream(write: { output in
            try self.images.save(names, to: output)
            self.emitSaved(names)
        })
    }
}
