import BerthOCI
import Foundation
import Testing
@testable import BerthEngine

/// Volume names, filters and the volumes a create request asks for.
struct VolumeLogicTests {
    @Test func namesAsTheLocalDriverChecksThem() throws {
        for good in ["ab", "a1", "my_vol.1-x", "0abc", String(repeating: "f", count: 64)] {
            try VolumeName.validate(good)
        }
        #expect(throws: BerthError.invalidArgument("volume name is too short, names should be at least two alphanumeric characters")) {
            try VolumeName.validate("a")
        }
        for bad in ["a/b", "_ab", ".ab", "-ab", "a b", "ab:", "é1"] {
            #expect(throws: BerthError.invalidArgument("\"\(bad)\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path")) {
                try VolumeName.validate(bad)
            }
        }
    }

    @Test func listFilters() throws {
        let record = VolumeRecord(Name: "data-1", Labels: ["env": "prod", "tier": ""], CreatedAt: "")
        func passes(_ filters: [String: [String]], inUse: Bool = false) throws -> Bool {
            try VolumeFilters.forList(filters).matches(record, inUse: inUse)
        }
        #expect(try passes([:]))
        #expect(try passes(["name": ["ata"]]))
        #expect(try !passes(["name": ["x"]]))
        #expect(try passes(["name": ["x", "data"]]))
        #expect(try passes(["driver": ["local"]]))
        #expect(try !passes(["driver": ["loc"]]))
        #expect(try passes(["label": ["env", "env=prod", "tier="]]))
        #expect(try !passes(["label": ["env=dev"]]))
        #expect(try !passes(["label": ["env", "other"]]))
        #expect(try passes(["dangling": ["true"]]))
        #expect(try !passes(["dangling": ["1"]], inUse: true))
        #expect(try passes(["dangling": ["false"]], inUse: true))
        #expect(throws: BerthError.invalidArgument("invalid filter 'dangling=[maybe]'")) { try passes(["dangling": ["maybe"]]) }
        #expect(throws: BerthError.invalidArgument("invalid filter 'dangling=[TRUE]'")) { try passes(["dangling": ["TRUE"]]) }
        #expect(throws: BerthError.invalidArgument("invalid filter 'dangling=[true 0]'")) { try passes(["dangling": ["true", "0"]]) }
        #expect(throws: BerthError.invalidArgument("invalid filter 'until'")) { try passes(["until": ["1h"]]) }
        // A name filter is the name or a regular expression found in it, as dockerd's.
        #expect(try passes(["name": ["^data-1$"]]))
        #expect(try passes(["name": ["a-[0-9]"]]))
        #expect(try !passes(["name": ["^ata"]]))
        #expect(try !passes(["name": ["(unclosed"]]))
    }

    @Test func pruneFilters() throws {
        let filters = try VolumeFilters.forPrune(["label!": ["keep"], "all": ["true"]])
        #expect(filters.all)
        #expect(!filters.matches(VolumeRecord(Name: "k", Labels: ["keep": "1"], CreatedAt: ""), inUse: false))
        #expect(filters.matches(VolumeRecord(Name: "k", Labels: nil, CreatedAt: ""), inUse: false))
        #expect(try !VolumeFilters.forPrune([:]).all)
        #expect(throws: BerthError.invalidArgument("invalid filter 'dangling'")) { try VolumeFilters.forPrune(["dangling": ["true"]]) }
        #expect(try VolumeFilters.forPrune(["all": ["T"]]).all)
        #expect(throws: BerthError.invalidArgument(#"invalid filter 'all': strconv.ParseBool: parsing "maybe": invalid syntax"#)) {
            try VolumeFilters.forPrune(["all": ["maybe"], "bogus": ["1"]])
        }
        #expect(throws: BerthError.invalidArgument("invalid filter 'all=[0 1]': only one value is expected")) {
            try VolumeFilters.forPrune(["all": ["1", "0"]])
        }
    }

    @Test func plannedVolumesFromBindsMountsAndImage() throws {
        var host = HostConfig()
        host.Binds = ["named:/data", "/host:/bound", "ro3:/f:ro,nocopy", "/anon2"]
        var volumeMount = ContainerMount(Type: "volume", Source: "mnt", Target: "/d/", ReadOnly: true)
        volumeMount.VolumeOptions = .init()
        volumeMount.VolumeOptions?.NoCopy = true
        volumeMount.VolumeOptions?.Labels = ["l": "v"]
        host.Mounts = [volumeMount, ContainerMount(Type: "volume", Target: "/e")]
        host.Tmpfs = ["/tmp": ""]
        let planned = try PlannedVolume.plan(hostConfig: host, configVolumes: ["/bound": .init(), "/tmp": .init(), "/image": .init(),
                                                                               "/data": .init()])
        #expect(planned.map(\.mount) == [
            VolumeMountPoint(Name: "named", Destination: "/data", RW: true, Mode: "z", CopyData: true, Anonymous: false),
            VolumeMountPoint(Name: "ro3", Destination: "/f", RW: false, Mode: "ro,nocopy", CopyData: false, Anonymous: false),
            VolumeMountPoint(Name: "", Destination: "/anon2", RW: true, Mode: "", CopyData: true, Anonymous: true),
            VolumeMountPoint(Name: "mnt", Destination: "/d", RW: false, Mode: "z", CopyData: false, Anonymous: false),
            VolumeMountPoint(Name: "", Destination: "/e", RW: true, Mode: "z", CopyData: true, Anonymous: true),
            VolumeMountPoint(Name: "", Destination: "/image", RW: true, Mode: "", CopyData: true, Anonymous: true),
        ])
        #expect(planned[3].labels == ["l": "v"])
        // A relative image or request entry is kept as written and mounted from the root.
        let relative = try PlannedVolume.plan(hostConfig: HostConfig(), configVolumes: ["rel": .init()])
        #expect(relative.map(\.mount.Destination) == ["rel"] && relative[0].mount.target == "/rel")
    }

    /// `--volume-driver` names the driver of -v volumes and the image's, not of binds.
    @Test func theDefaultVolumeDriverMustBeOneBerthHas() throws {
        let missing = BerthError.notFound("error looking up volume plugin bad: plugin \"bad\" not found")
        var host = HostConfig()
        host.VolumeDriver = "bad"
        host.Binds = ["named:/data"]
        #expect(throws: missing) { try PlannedVolume.plan(hostConfig: host, configVolumes: nil) }
        host.Binds = ["/anonymous"]
        #expect(throws: missing) { try PlannedVolume.plan(hostConfig: host, configVolumes: nil) }
        host.Binds = ["/host:/bound"]
        #expect(try PlannedVolume.plan(hostConfig: host, configVolumes: nil).isEmpty)
        #expect(throws: missing) { try PlannedVolume.plan(hostConfig: host, configVolumes: ["/image": .init()]) }
        host.VolumeDriver = "local"
        host.Binds = ["named:/data"]
        #expect(try PlannedVolume.plan(hostConfig: host, configVolumes: nil).count == 1)
    }
}

/// The store on a temporary directory: durable records, users, removal and prune rules.
struct VolumeStoreTests {
    static func withStore(_ body: (VolumeStore, String) throws -> Void) throws {
        let root = FileManager.default.temporaryDirectory.path + "/berth-volumes-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try body(try VolumeStore(root: root), root)
    }

    @Test func recordsSurviveAReloadAndHalfMadeOnesAreIgnored() throws {
        try Self.withStore { store, root in
            try store.create(name: "kept", labels: ["a": "b"])
            try FileManager.default.createDirectory(atPath: root + "/torn/_data", withIntermediateDirectories: true)
            let again = try VolumeStore(root: root)
            #expect(again.list(VolumeFilters()).map(\.Name) == ["kept"])
            #expect(try again.get("kept").Labels == ["a": "b"])
            #expect(throws: BerthError.notFound("get torn: no such volume")) { try again.get("torn") }
            #expect(!FileManager.default.fileExists(atPath: root + "/torn"), "what a crash left is swept")
        }
    }

    @Test func usersKeepAVolumeAndPruneTakesOnlyUnusedAnonymousOnes() throws {
        try Self.withStore { store, _ in
            try store.create(name: "named")
            let anonymous = try store.create(name: nil, labels: [VolumeRecord.anonymousLabel: ""], user: "c1")
            #expect(anonymous.Name.count == 64 && anonymous.isAnonymous)
            #expect(throws: BerthError.conflict("remove \(anonymous.Name): volume is in use - [c1]")) {
                try store.remove(anonymous.Name, force: true)
            }
            #expect(store.prune(VolumeFilters()).deleted.isEmpty)
            store.release([anonymous.Name], by: "c1")
            FileManager.default.createFile(atPath: store.mountpoint(anonymous.Name) + "/f", contents: Data("12345".utf8))
            let pruned = store.prune(VolumeFilters())
            #expect(pruned.deleted == [anonymous.Name] && pruned.reclaimed == 5)
            var all = VolumeFilters()
            all.all = true
            #expect(store.prune(all).deleted == ["named"])
            // A volume with mount options is never pruned, nor counted in `system df`.
            try store.create(name: "mounted", driverOptions: ["type": "tmpfs", "device": "tmpfs"])
            #expect(store.prune(all).deleted.isEmpty)
            #expect(store.usage().map(\.record.Name) == [])
            try store.remove("gone", force: true)
            #expect(throws: BerthError.notFound("get gone: no such volume")) { try store.remove("gone", force: false) }
        }
    }

    /// The local driver's options, checked after the name and only for a new volume.
    @Test func driverOptionsAsDockerdChecksThem() throws {
        try Self.withStore { store, _ in
            let refusals: [([String: String], String)] = [
                (["foo": "bar"], "invalid option: \"foo\""), (["type": "tmpfs"], "missing required option: \"device\""),
                (["device": "x"], "missing required option: \"type\""), (["o": "size=10m"], "missing required option: \"device\""),
                (["size": "10m"], "quota size requested but no quota support"), (["size": "abc"], "invalid size: 'abc'"),
            ]
            for (options, message) in refusals {
                #expect(throws: BerthError.invalidArgument("create v1: \(message)"), "\(options)") {
                    try store.create(name: "v1", driverOptions: options)
                }
            }
            try store.create(name: "v1", driverOptions: ["size": "0"])
            // An existing volume is answered as it is, whatever the options asked now.
            #expect(try store.create(name: "v1", driverOptions: ["foo": "bar"]).Options == ["size": "0"])
            #expect(throws: BerthError.invalidArgument("create s!: \"s!\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path")) {
                try store.create(name: "s!", driverOptions: ["foo": "bar"])
            }
        }
    }
}
