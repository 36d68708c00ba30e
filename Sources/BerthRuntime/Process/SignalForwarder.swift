import CSystemShims
import Glibc

/// The pid that forwarded signals go to. A signal handler cannot capture context, so the
/// target is a global; berth-runtime is single-threaded.
nonisolated(unsafe) private var forwardTarget: pid_t = 0

/// Waits for a child as a foreground `run`/`exec` does: the usual termination signals sent to
/// the runtime are passed on to the child, and its status becomes the runtime's exit code.
public enum SignalForwarder {
    static let forwarded: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH]

    public static func wait(for pid: pid_t) -> Int32 {
        forwardTarget = pid
        for sig in forwarded {
            signal(sig) { received in _ = kill(forwardTarget, received) }
        }
        defer { for sig in forwarded { signal(sig, SIG_DFL) } }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return 255 }
        }
        return exitCode(status)
    }

    /// A shell's view of a wait status: the exit code, or 128 + the terminating signal.
    public static func exitCode(_ status: Int32) -> Int32 {
        if berth_wifexited(status) != 0 { return berth_wexitstatus(status) }
        if berth_wifsignaled(status) != 0 { return 128 + berth_wtermsig(status) }
        return 255
    }
}
