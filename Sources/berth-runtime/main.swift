import BerthOCI
import BerthRuntime
import CSystemShims
import FoundationEssentials
import Glibc

// berth-runtime: an OCI runtime with runc's command line. Synchronous and single-threaded on
// purpose: clone with new namespaces and setns need a process that has no other threads.

let globalFlags: [Arguments.Flag] = [
    .init("root"), .init("log"), .init("log-format"), .init("debug", value: false),
    .init("systemd-cgroup", value: false), .init("criu"), .init("rootless"),
]

let usage = """
    usage: berth-runtime [--root DIR] [--log FILE] [--log-format text|json] COMMAND [FLAGS] ID

    commands:
      create    create a container from a bundle (--bundle, --pid-file, --console-socket)
      start     run the user process of a created container
      run       create and start, wait for exit, then delete (--detach to return at once)
      state     print the container's state as JSON
      kill      send a signal (default SIGTERM) to the init, or to every process with --all
      delete    delete a stopped container (--force kills it first)
      exec      run a new process in a running container
      ps        list the container's processes (--format table|json)
      pause     freeze every process of the container
      resume    thaw a paused container
      update    change resource limits (--resources FILE|-)
      list      list containers (--format table|json, --quiet)
      features  print what this runtime supports, as JSON
      spec      write a default config.json into the bundle directory

    """

nonisolated(unsafe) var logPath: String?
nonisolated(unsafe) var logJSON = false

func report(_ message: String) {
    FileHandleWriter.standardError.write("berth-runtime: \(message)\n")
    guard let logPath else { return }
    let line: String
    if logJSON {
        line = "{\"level\":\"error\",\"msg\":\(message.goJSONQuoted),\"time\":\"\(rfc3339Now())\"}\n"
    } else {
        line = "time=\"\(rfc3339Now())\" level=error msg=\"\(message)\"\n"
    }
    let fd = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
    if fd >= 0 {
        _ = line.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }
}

func printJSON<T: Encodable>(_ value: T, pretty: Bool = true) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.withoutEscapingSlashes]
    let data = try encoder.encode(value)
    FileHandleWriter.standardOutput.write(String(decoding: data, as: UTF8.self) + "\n")
}

func oneID(_ args: Arguments, _ command: String) throws -> String {
    guard args.positional.count == 1 else {
        throw UsageError("\"\(command)\" requires exactly 1 argument (the container id)")
    }
    return args.positional[0]
}

func preservedFds(_ args: Arguments) throws -> Int32 {
    guard let text = args.value("preserve-fds") else { return 0 }
    guard let count = Int32(text), count >= 0, count < 1024 else { throw UsageError("invalid --preserve-fds \"\(text)\"") }
    return count
}

/// Like runc: the host's `ps` output, keeping the header and the rows of the container's pids.
func processTable(pids: Set<Int32>, psArgs: [String]) throws -> String {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { throw UsageError("pipe: \(String(cString: strerror(errno)))") }
    let argv = ["ps"] + psArgs
    let candidates: [String] = ["/usr/bin/ps", "/bin/ps"]
    let path = candidates.first { access($0, X_OK) == 0 } ?? "/bin/ps"
    let pid = withCStrings(argv) { cArgs in
        withCStrings(["PATH=/usr/bin:/bin"]) { cEnv in
            [fds[1], 1, 2, 2].withUnsafeBufferPointer { map in
                berth_spawn(path, cArgs, cEnv, map.baseAddress, 2, 0)
            }
        }
    }
    close(fds[1])
    defer { close(fds[0]) }
    guard pid > 0 else { throw UsageError("ps: \(String(cString: strerror(errno)))") }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fds[0], &chunk, chunk.count)
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
    guard let header = lines.first, let pidColumn = header.split(separator: " ").firstIndex(of: "PID") else {
        throw UsageError("ps output has no PID column")
    }
    var table = String(header) + "\n"
    for line in lines.dropFirst() {
        let fields = line.split(separator: " ")
        if fields.count > pidColumn, let pid = Int32(fields[pidColumn]), pids.contains(pid) { table += line + "\n" }
    }
    return table
}

func readJSON<T>(from path: String, _ make: (JSONValue) throws -> T) throws -> T {
    let text: String?
    if path == "-" {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(0, &chunk, chunk.count)
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        text = String(decoding: bytes, as: UTF8.self)
    } else {
        text = readTextFile(path)
    }
    guard let text else { throw UsageError("cannot read \(path): \(String(cString: strerror(errno)))") }
    do {
        return try make(JSONValue.parse(Array(text.utf8)))
    } catch {
        throw UsageError("\(path): invalid JSON: \(error)")
    }
}

func readTextFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fd, &chunk, chunk.count)
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

func runCommand(_ argv: [String]) throws -> Int32 {
    let global = try Arguments(argv.dropFirst(), flags: globalFlags + [.init("help", "h", value: false), .init("version", "v", value: false)])
    logPath = global.value("log")
    logJSON = global.value("log-format") == "json"
    if global.bool("version") {
        FileHandleWriter.standardOutput.write("berth-runtime version 0.1.0\nspec: 1.2.0\n")
        return 0
    }
    guard let command = global.positional.first, !global.bool("help") else {
        FileHandleWriter.standardOutput.write(usage)
        return global.bool("help") ? 0 : 1
    }
    let rest = global.positional.dropFirst()
    let root = global.value("root") ?? "/run/berth-runtime"
    Runtime.keepCaches(in: root)

    switch command {
    case "create", "run":
        var flags: [Arguments.Flag] = [.init("bundle", "b"), .init("pid-file"), .init("console-socket"),
                                       .init("no-pivot", value: false), .init("no-new-keyring", value: false),
                                       .init("preserve-fds"), .init("keep", value: false)]
        if command == "run" { flags.append(.init("detach", "d", value: false)) }
        let args = try Arguments(rest, flags: flags)
        let id = try oneID(args, command)
        let options = Runtime.CreateOptions(bundle: args.value("bundle") ?? ".", pidFile: args.value("pid-file"),
                                            consoleSocket: args.value("console-socket"),
                                            preserveFds: try preservedFds(args))
        let runtime = try Runtime(root: root)
        if command == "create" {
            // A caller (the shim) that dies meanwhile ends the create too, and the init with it
            // (it dies with us until it is ready): nobody would be left to start, wait for or
            // delete the container.
            let parent = getppid()
            _ = berth_set_pdeathsig(SIGKILL)
            if getppid() != parent { return 1 }
            try runtime.create(id: id, options: options)
            return 0
        }
        return try runtime.run(id: id, options: options, detach: args.bool("detach"), keep: args.bool("keep"))

    case "start", "state", "pause", "resume":
        let args = try Arguments(rest, flags: [])
        let id = try oneID(args, command)
        let runtime = try Runtime(root: root)
        switch command {
        case "start": try runtime.start(id: id)
        case "state": try printJSON(try runtime.state(id: id))
        case "pause": try runtime.pause(id: id)
        default: try runtime.resume(id: id)
        }
        return 0

    case "kill":
        let args = try Arguments(rest, flags: [.init("all", "a", value: false)])
        guard (1...2).contains(args.positional.count) else { throw UsageError("usage: kill [--all] ID [SIGNAL]") }
        let signal = try args.positional.count == 2 ? Signals.parse(args.positional[1]) : SIGTERM
        try Runtime(root: root).kill(id: args.positional[0], signal: signal, all: args.bool("all"))
        return 0

    case "delete":
        let args = try Arguments(rest, flags: [.init("force", "f", value: false)])
        guard !args.positional.isEmpty else { throw UsageError("\"delete\" requires at least 1 argument") }
        let runtime = try Runtime(root: root)
        for id in args.positional { try runtime.delete(id: id, force: args.bool("force")) }
        return 0

    case "exec":
        return try execCommand(rest, root: root)

    case "ps":
        let args = try Arguments(rest, flags: [.init("format", "f")])
        guard let id = args.positional.first else { throw UsageError("\"ps\" requires the container id") }
        let pids = try Runtime(root: root).processes(id: id)
        if args.value("format") == "json" {
            try printJSON(pids, pretty: false)
        } else {
            let psArgs = args.positional.count > 1 ? Array(args.positional.dropFirst()) : ["-ef"]
            FileHandleWriter.standardOutput.write(try processTable(pids: Set(pids), psArgs: psArgs))
        }
        return 0

    case "update":
        return try updateCommand(rest, root: root)

    case "list":
        let args = try Arguments(rest, flags: [.init("format", "f"), .init("quiet", "q", value: false)])
        let states = try Runtime(root: root).list()
        if args.bool("quiet") {
            FileHandleWriter.standardOutput.write(states.map { $0.id + "\n" }.joined())
        } else if args.value("format") == "json" {
            try printJSON(states, pretty: false)
        } else {
            var table = "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n"
            for state in states {
                table += "\(state.id)\t\(state.pid)\t\(state.status)\t\(state.bundle)\t\(state.created)\t\(state.owner.isEmpty ? "root" : state.owner)\n"
            }
            FileHandleWriter.standardOutput.write(table)
        }
        return 0

    case "features":
        try printJSON(RuntimeFeatures.current())
        return 0

    case "spec":
        let args = try Arguments(rest, flags: [.init("bundle", "b"), .init("rootless", value: false)])
        if args.bool("rootless") { throw UsageError("rootless specs are not supported") }
        let path = (args.value("bundle").map { $0 + "/" } ?? "") + "config.json"
        if access(path, F_OK) == 0 { throw UsageError("File \(path) exists. Remove it first") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(DefaultSpec.make(seccomp: try? DefaultSeccomp.spec()))
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 { throw UsageError("create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        _ = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        return 0

    default:
        throw UsageError("No help topic for '\(command)'")
    }
}

func execCommand(_ rest: ArraySlice<String>, root: String) throws -> Int32 {
    let args = try Arguments(rest, flags: [
        .init("process", "p"), .init("tty", "t", value: false), .init("detach", "d", value: false),
        .init("pid-file"), .init("console-socket"), .init("cwd"), .init("env", "e", repeatable: true),
        .init("user", "u"), .init("additional-gids", "g", repeatable: true), .init("cap", "c", repeatable: true),
        .init("no-new-privs", value: false), .init("preserve-fds"), .init("process-label"), .init("apparmor"),
    ])
    guard let id = args.positional.first else { throw UsageError("\"exec\" requires the container id") }
    let runtime = try Runtime(root: root)
    var process: Spec.Process
    if let path = args.value("process") {
        process = try readJSON(from: path, Spec.Process.init(json:))
    } else {
        let command = Array(args.positional.dropFirst())
        guard !command.isEmpty else { throw UsageError("exec: the process to run is missing") }
        process = try runtime.processTemplate(id: id)
        process.args = command
        process.terminal = args.bool("tty")
        if let cwd = args.value("cwd") { process.cwd = cwd }
        process.env = (process.env ?? []) + args.all("env")
        if let user = args.value("user") {
            let parts = user.split(separator: ":", maxSplits: 1)
            guard let uid = UInt32(parts[0]), parts.count == 1 || UInt32(parts[1]) != nil else {
                throw UsageError("invalid --user \"\(user)\": want UID[:GID]")
            }
            process.user = .init(uid: uid, gid: parts.count == 2 ? UInt32(parts[1])! : 0,
                                 additionalGids: try args.all("additional-gids").map {
                                     guard let gid = UInt32($0) else { throw UsageError("invalid gid \($0)") }
                                     return gid
                                 })
        }
        let added = args.all("cap")
        if !added.isEmpty {
            var caps = process.capabilities ?? .init()
            caps.bounding = (caps.bounding ?? []) + added
            caps.effective = (caps.effective ?? []) + added
            caps.permitted = (caps.permitted ?? []) + added
            process.capabilities = caps
        }
        if args.bool("no-new-privs") { process.noNewPrivileges = true }
    }
    return try runtime.exec(id: id, options: .init(process: process, detach: args.bool("detach"),
                                                   pidFile: args.value("pid-file"),
                                                   consoleSocket: args.value("console-socket")))
}

func updateCommand(_ rest: ArraySlice<String>, root: String) throws -> Int32 {
    let args = try Arguments(rest, flags: [
        .init("resources", "r"), .init("memory"), .init("memory-swap"), .init("memory-reservation"),
        .init("pids-limit"), .init("cpu-shares"), .init("cpu-quota"), .init("cpu-period"),
        .init("cpuset-cpus"), .init("cpuset-mems"),
    ])
    let id = try oneID(args, "update")
    var resources = Spec.Resources()
    if let path = args.value("resources") {
        resources = try readJSON(from: path, Spec.Resources.init(json:))
    }
    func number(_ flag: String) throws -> Int64? {
        guard let text = args.value(flag) else { return nil }
        guard let value = Int64(text) else { throw UsageError("invalid value \"\(text)\" for --\(flag)") }
        return value
    }
    if let memory = try number("memory") { resources.memory = resources.memory ?? .init(); resources.memory?.limit = memory }
    if let swap = try number("memory-swap") { resources.memory = resources.memory ?? .init(); resources.memory?.swap = swap }
    if let reservation = try number("memory-reservation") {
        resources.memory = resources.memory ?? .init()
        resources.memory?.reservation = reservation
    }
    if let pids = try number("pids-limit") { resources.pids = .init(limit: pids) }
    if let shares = try number("cpu-shares") { resources.cpu = resources.cpu ?? .init(); resources.cpu?.shares = UInt64(max(0, shares)) }
    if let quota = try number("cpu-quota") { resources.cpu = resources.cpu ?? .init(); resources.cpu?.quota = quota }
    if let period = try number("cpu-period") { resources.cpu = resources.cpu ?? .init(); resources.cpu?.period = UInt64(max(0, period)) }
    if let cpus = args.value("cpuset-cpus") { resources.cpu = resources.cpu ?? .init(); resources.cpu?.cpus = cpus }
    if let mems = args.value("cpuset-mems") { resources.cpu = resources.cpu ?? .init(); resources.cpu?.mems = mems }
    try Runtime(root: root).update(id: id, resources: resources)
    return 0
}

do {
    exit(try runCommand(CommandLine.arguments))
} catch {
    report("\(error)")
    exit(1)
}
