import CSystemShims
import Glibc

// berth-init: a tiny PID 1 for `docker run --init`. It starts the command, forwards every
// catchable signal to it, reaps every zombie re-parented to it, and exits with the
// command's status (128 + signal when the command was killed).

let arguments = Array(CommandLine.arguments.dropFirst().drop(while: { $0 == "--" }))
guard !arguments.isEmpty else {
    printError("usage: berth-init [--] COMMAND [ARG...]")
    exit(2)
}

// Block the signals we forward; they are taken synchronously with sigwait below.
var forwarded = sigset_t()
sigfillset(&forwarded)
for sig in [SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGTRAP, SIGSYS, SIGTTIN, SIGTTOU] {
    sigdelset(&forwarded, sig)
}
var previous = sigset_t()
sigprocmask(SIG_BLOCK, &forwarded, &previous)

let child = fork()
if child < 0 {
    printError("berth-init: fork: \(String(cString: strerror(errno)))")
    exit(1)
}
if child == 0 {
    // The command gets its own process group, foreground on the terminal if there is one.
    // A background group taking the terminal is sent SIGTTOU, which would stop the child
    // before its exec (`run -it --init` hung); blocking it lets tcsetpgrp through.
    var terminalStop = sigset_t()
    sigemptyset(&terminalStop)
    sigaddset(&terminalStop, SIGTTOU)
    sigprocmask(SIG_BLOCK, &terminalStop, nil)
    setpgid(0, 0)
    _ = tcsetpgrp(0, getpid())
    sigprocmask(SIG_SETMASK, &previous, nil)
    withCStrings(arguments) { argv in
        _ = execvp(arguments[0], argv)
    }
    let failure = errno
    printError("berth-init: exec \(arguments[0]): \(String(cString: strerror(failure)))")
    exit(failure == ENOENT ? 127 : 126)
}

func printError(_ message: String) {
    let line = message + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}

/// Calls `body` with a NULL-terminated C array of the strings.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Reaps every exited child without blocking; returns the command's status once it has gone.
func reap() -> Int32? {
    var commandStatus: Int32?
    while true {
        var status: Int32 = 0
        let pid = waitpid(-1, &status, WNOHANG)
        if pid <= 0 { break }
        if pid == child {
            commandStatus = berth_wifexited(status) != 0 ? berth_wexitstatus(status) : 128 + berth_wtermsig(status)
        }
    }
    return commandStatus
}

while true {
    var timeout = timespec(tv_sec: 1, tv_nsec: 0)
    var info = siginfo_t()
    let sig = sigtimedwait(&forwarded, &info, &timeout)
    if sig > 0 && sig != SIGCHLD {
        // Forward to the command's process group, so its children hear it too.
        if kill(-child, sig) != 0 { _ = kill(child, sig) }
    }
    if let status = reap() {
        exit(status)
    }
}
