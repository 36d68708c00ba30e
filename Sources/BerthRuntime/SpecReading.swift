import BerthOCI

// The OCI config read from a JSONValue tree, field by field as its Codable conformance
// decodes it (see JSONValue for why). SpecReadingTests holds the two to the same result.

extension Spec {
    init(json: JSONValue) throws {
        try self.init(fields: JSONFields(json, at: ""))
    }

    init(fields: JSONFields) throws {
        self.init(ociVersion: try fields.string(required: "ociVersion"),
                  process: try fields.object("process", Process.init),
                  root: try fields.object("root") { try Root(path: $0.string(required: "path"), readonly: $0.bool("readonly")) },
                  hostname: try fields.string("hostname"),
                  domainname: try fields.string("domainname"),
                  mounts: try fields.objects("mounts") {
                      try Mount(destination: $0.string(required: "destination"), type: $0.string("type"),
                                source: $0.string("source"), options: $0.strings("options"))
                  },
                  annotations: try fields.stringMap("annotations"),
                  linux: try fields.object("linux", Linux.init))
    }
}

extension Spec.Process {
    init(_ fields: JSONFields) throws {
        self.init(terminal: try fields.bool("terminal"),
                  consoleSize: try fields.object("consoleSize") {
                      try Spec.ConsoleSize(height: $0.integer(required: "height"), width: $0.integer(required: "width"))
                  },
                  user: try fields.object(required: "user", Spec.User.init),
                  args: try fields.strings("args"),
                  env: try fields.strings("env"),
                  cwd: try fields.string(required: "cwd"),
                  capabilities: try fields.object("capabilities") {
                      try Spec.Capabilities(bounding: $0.strings("bounding"), effective: $0.strings("effective"),
                                            inheritable: $0.strings("inheritable"), permitted: $0.strings("permitted"),
                                            ambient: $0.strings("ambient"))
                  },
                  rlimits: try fields.objects("rlimits") {
                      try Spec.Rlimit(type: $0.string(required: "type"), hard: $0.integer(required: "hard"),
                                      soft: $0.integer(required: "soft"))
                  },
                  noNewPrivileges: try fields.bool("noNewPrivileges"),
                  apparmorProfile: try fields.string("apparmorProfile"),
                  oomScoreAdj: try fields.integer("oomScoreAdj"),
                  selinuxLabel: try fields.string("selinuxLabel"))
    }

    /// A process as `exec --process` is given it.
    public init(json: JSONValue) throws {
        try self.init(JSONFields(json, at: ""))
    }
}

extension Spec.User {
    init(_ fields: JSONFields) throws {
        self.init(uid: try fields.integer(required: "uid"), gid: try fields.integer(required: "gid"),
                  umask: try fields.integer("umask"), additionalGids: try fields.integers("additionalGids"))
    }
}

extension Spec.Linux {
    init(_ fields: JSONFields) throws {
        func mappings(_ key: String) throws -> [Spec.IDMapping]? {
            try fields.objects(key) {
                try Spec.IDMapping(containerID: $0.integer(required: "containerID"), hostID: $0.integer(required: "hostID"),
                                   size: $0.integer(required: "size"))
            }
        }
        self.init(uidMappings: try mappings("uidMappings"),
                  gidMappings: try mappings("gidMappings"),
                  sysctl: try fields.stringMap("sysctl"),
                  resources: try fields.object("resources", Spec.Resources.init),
                  cgroupsPath: try fields.string("cgroupsPath"),
                  namespaces: try fields.objects("namespaces") {
                      try Spec.Namespace(type: $0.string(required: "type"), path: $0.string("path"))
                  },
                  devices: try fields.objects("devices") {
                      try Spec.Device(type: $0.string(required: "type"), path: $0.string(required: "path"),
                                      major: $0.integer("major"), minor: $0.integer("minor"),
                                      fileMode: $0.integer("fileMode"), uid: $0.integer("uid"), gid: $0.integer("gid"))
                  },
                  seccomp: try fields.object("seccomp", Spec.Seccomp.init),
                  rootfsPropagation: try fields.string("rootfsPropagation"),
                  maskedPaths: try fields.strings("maskedPaths"),
                  readonlyPaths: try fields.strings("readonlyPaths"),
                  mountLabel: try fields.string("mountLabel"))
    }
}

extension Spec.Resources {
    init(_ fields: JSONFields) throws {
        self.init(devices: try fields.objects("devices") {
                      try Spec.DeviceRule(allow: $0.bool(required: "allow"), type: $0.string("type"),
                                          major: $0.integer("major"), minor: $0.integer("minor"), access: $0.string("access"))
                  },
                  memory: try fields.object("memory") {
                      try Spec.Memory(limit: $0.integer("limit"), reservation: $0.integer("reservation"), swap: $0.integer("swap"),
                                      kernel: $0.integer("kernel"), kernelTCP: $0.integer("kernelTCP"),
                                      swappiness: $0.integer("swappiness"), disableOOMKiller: $0.bool("disableOOMKiller"))
                  },
                  cpu: try fields.object("cpu") {
                      try Spec.CPU(shares: $0.integer("shares"), quota: $0.integer("quota"), burst: $0.integer("burst"),
                                   period: $0.integer("period"), realtimeRuntime: $0.integer("realtimeRuntime"),
                                   realtimePeriod: $0.integer("realtimePeriod"), cpus: $0.string("cpus"),
                                   mems: $0.string("mems"), idle: $0.integer("idle"))
                  },
                  pids: try fields.object("pids") { try Spec.Pids(limit: $0.integer(required: "limit")) },
                  blockIO: try fields.object("blockIO", Spec.BlockIO.init),
                  hugepageLimits: try fields.objects("hugepageLimits") {
                      try Spec.HugepageLimit(pageSize: $0.string(required: "pageSize"), limit: $0.integer(required: "limit"))
                  },
                  unified: try fields.stringMap("unified"))
    }

    /// Resources as `update --resources` is given them.
    public init(json: JSONValue) throws {
        try self.init(JSONFields(json, at: ""))
    }
}

extension Spec.BlockIO {
    init(_ fields: JSONFields) throws {
        func throttles(_ key: String) throws -> [Spec.ThrottleDevice]? {
            try fields.objects(key) {
                try Spec.ThrottleDevice(major: $0.integer(required: "major"), minor: $0.integer(required: "minor"),
                                        rate: $0.integer(required: "rate"))
            }
        }
        self.init(weight: try fields.integer("weight"), leafWeight: try fields.integer("leafWeight"),
                  weightDevice: try fields.objects("weightDevice") {
                      try Spec.WeightDevice(major: $0.integer(required: "major"), minor: $0.integer(required: "minor"),
                                            weight: $0.integer("weight"), leafWeight: $0.integer("leafWeight"))
                  },
                  throttleReadBpsDevice: try throttles("throttleReadBpsDevice"),
                  throttleWriteBpsDevice: try throttles("throttleWriteBpsDevice"),
                  throttleReadIOPSDevice: try throttles("throttleReadIOPSDevice"),
                  throttleWriteIOPSDevice: try throttles("throttleWriteIOPSDevice"))
    }
}

extension Spec.Seccomp {
    init(_ fields: JSONFields) throws {
        self.init(defaultAction: try fields.string(required: "defaultAction"),
                  defaultErrnoRet: try fields.integer("defaultErrnoRet"),
                  architectures: try fields.strings("architectures"),
                  flags: try fields.strings("flags"),
                  listenerPath: try fields.string("listenerPath"),
                  syscalls: try fields.objects("syscalls") {
                      try Spec.Syscall(names: $0.strings(required: "names"),
                                       action: $0.string(required: "action"), errnoRet: $0.integer("errnoRet"),
                                       args: $0.objects("args") {
                                           try Spec.SyscallArg(index: $0.integer(required: "index"), value: $0.integer(required: "value"),
                                                               valueTwo: $0.integer("valueTwo"), op: $0.string(required: "op"))
                                       })
                  })
    }
}
