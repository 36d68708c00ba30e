import BerthOCI
import BerthStore
import Foundation
import Glibc
import Testing
@testable import BerthEngine

/// The pure parts of mount options: volume subpaths, `--volumes-from` modes, recursive
/// read-only binds, duplicate targets and the working directory looked up through layers.
struct MountOptionsLogicTests {
    @Test func subpathMustStayInsideTheVolumeLexically() {
        for local in ["a", "a/b", "./a", "a/../b", "a/..", "."] { #expect(VolumeSubpath.isLocal(local), "\(local)") }
        for escaping in ["", "/a", "..", "../a", "a/../../b", "./../a"] { #expect(!VolumeSubpath.isLocal(escaping), "\(escaping)") }
    }

    @Test func subpathValidationTexts() {
        func mount(_ source: String, _ subpath: String) -> ContainerMount {
            var mount = ContainerMount(Type: "volume", Source: source, Target: "/d")
            mount.VolumeOptions = .init()
            mount.VolumeOptions?.Subpath = subpath
            return mount
        }
        #expect(throws: BerthError.invalidArgument("invalid mount config for type \"volume\": subpath must be a relative path within the volume")) {
            try MountValidation.validate(mount("v", "/abs"), exists: { _ in true })
        }
        #expect(throws: BerthError.invalidArgument("invalid mount config for type \"volume\": must not set Subpath when using anonymous volumes")) {
            try MountValidation.validate(mount("", "sub"), exists: { _ in true })
        }
        #expect(throws: Never.self) { try MountValidation.validate(mount("v", "sub/dir"), exists: { _ in true }) }
    }

    @Test func subpathResolvesInsideTheVolumeOnly() throws {
        let base = NSTemporaryDirectory() + "subpath-\(getpid())-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createDirectory(atPath: base + "/data/sub", withIntermediateDirectories: true)
        symlink("sub", base + "/data/inside")
        symlink("/etc", base + "/data/outside")
        symlink("../..", base + "/data/up")
        #expect(try VolumeSubpath.resolve(base: base + "/data", subpath: "inside") == base + "/data/sub")
        #expect(try VolumeSubpath.resolve(base: base + "/data", subpath: "sub/.") == base + "/data/sub")
        #expect(throws: BerthError.invalidArgument("path concatenation escapes the base directory, base: \(base)/data, subpath: outside")) {
            try VolumeSubpath.resolve(base: base + "/data", subpath: "outside")
        }
        #expect(throws: BerthError.invalidArgument("path concatenation escapes the base directory, base: \(base)/data, subpath: up")) {
            try VolumeSubpath.resolve(base: base + "/data", subpath: "up")
        }
        let missing = "\(base)/data/missing"
        #expect(throws: BerthError.notFound("cannot access path \(missing)/x: lstat \(missing): no such file or directory")) {
            try VolumeSubpath.resolve(base: base + "/data", subpath: "missing/x")
        }
    }

    @Test func volumesFromModes() throws {
        #expect(try VolumesFromSpec.parse("c") == VolumesFromSpec(container: "c", mode: "rw"))
        #expect(try VolumesFromSpec.parse("c:") == VolumesFromSpec(container: "c", mode: "rw"))
        #expect(try VolumesFromSpec.parse("c:ro,Z").readOnly)
        #expect(try !VolumesFromSpec.parse("c:rw,z").readOnly)
        #expect(throws: BerthError.invalidArgument("volumes-from specification cannot be an empty string")) { try VolumesFromSpec.parse("") }
        for bad in ["bogus", "rslave", "nocopy", "ro,rw"] {
            #expect(throws: BerthError.invalidArgument("invalid mode: \(bad)")) { try VolumesFromSpec.parse("c:" + bad) }
        }
    }

    @Test func recursiveReadOnlyChoicesAndConflicts() throws {
        #expect(try RecursiveReadOnly.option(nonRecursive: true, forceRecursive: false) == "ro")
        #expect(try RecursiveReadOnly.option(nonRecursive: false, forceRecursive: false) == (RecursiveReadOnly.isSupported ? "rro" : "ro"))
        func bind(readOnly: Bool, nonRecursive: Bool? = nil, force: Bool? = nil) -> ContainerMount {
            var mount = ContainerMount(Type: "bind", Source: "/s", Target: "/t", ReadOnly: readOnly)
            mount.BindOptions = .init()
            mount.BindOptions?.ReadOnlyNonRecursive = nonRecursive
            mount.BindOptions?.ReadOnlyForceRecursive = force
            return mount
        }
        #expect(throws: BerthError.internalError("mount options conflict: !ReadOnly && BindOptions.ReadOnlyNonRecursive")) {
            try RecursiveReadOnly.checkOptions(bind(readOnly: false, nonRecursive: true))
        }
        #expect(throws: BerthError.internalError("mount options conflict: !ReadOnly && BindOptions.ReadOnlyForceRecursive")) {
            try RecursiveReadOnly.checkOptions(bind(readOnly: false, force: true))
        }
        #expect(throws: BerthError.internalError("mount options conflict: ReadOnlyNonRecursive && BindOptions.ReadOnlyForceRecursive")) {
            try RecursiveReadOnly.checkOptions(bind(readOnly: true, nonRecursive: true, force: true))
        }
        #expect(throws: Never.self) { try RecursiveReadOnly.checkOptions(bind(readOnly: true, force: true)) }
    }

    @Test func duplicateTargetsAsDockerdChecksThemAtCreate() {
        var host = HostConfig()
        host.Binds = ["/a:/c", "/b:/c/"]
        #expect(throws: BerthError.invalidArgument("Duplicate mount point: /c")) { try ContainerMounts.checkDuplicateTargets(host) }
        host.Binds = ["/a:/c"]
        host.Tmpfs = ["/c": ""]
        #expect(throws: BerthError.invalidArgument("Duplicate mount point: /c")) { try ContainerMounts.checkDuplicateTargets(host) }
        host.Binds = nil
        host.Mounts = [ContainerMount(Type: "bind", Source: "/a", Target: "/c")]
        #expect(throws: Never.self) { try ContainerMounts.checkDuplicateTargets(host) }  // a --tmpfs may share a --mount's
        host.Mounts?.append(ContainerMount(Type: "volume", Source: "v", Target: "/c/"))
        #expect(throws: BerthError.invalidArgument("Duplicate mount point: /c/")) { try ContainerMounts.checkDuplicateTargets(host) }
    }

    @Test func workingDirectoryThroughTheLayers() throws {
        let base = NSTemporaryDirectory() + "layers-\(getpid())-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: base) }
        let fm = FileManager.default
        for dir in ["upper", "top/etc", "top/gone", "bottom/usr/lib", "bottom/etc", "bottom/gone/x"] {
            try fm.createDirectory(atPath: base + "/" + dir, withIntermediateDirectories: true)
        }
        fm.createFile(atPath: base + "/bottom/etc/passwd", contents: Data())
        symlink("usr/lib", base + "/top/lib")
        mknod(base + "/top/usr", S_IFCHR, 0)  // a whiteout: /usr deleted in the top layer
        let stack = LayerStackPath(layers: [base + "/upper", base + "/top", base + "/bottom"])
        #expect(stack.resolve("/etc/passwd") == .existing(components: ["etc", "passwd"], isDirectory: false))
        #expect(stack.resolve("/etc") == .existing(components: ["etc"], isDirectory: true))
        #expect(stack.resolve("/etc/passwd/x") == .notDirectory(at: ["etc", "passwd", "x"]))
        #expect(stack.resolve("/usr/lib") == .missing(existing: [], missing: ["usr", "lib"]))
        #expect(stack.resolve("/lib/x") == .missing(existing: [], missing: ["usr", "lib", "x"]))
        #expect(stack.resolve("/gone/x") == .existing(components: ["gone", "x"], isDirectory: true))
        #expect(stack.resolve("/etc/new/dir") == .missing(existing: ["etc"], missing: ["new", "dir"]))
        try stack.makeDirectories(existing: ["etc"], missing: ["new", "dir"])
        var isDirectory: ObjCBool = false
        #expect(fm.fileExists(atPath: base + "/upper/etc/new/dir", isDirectory: &isDirectory) && isDirectory.boolValue)
    }
}
