// Processes, descriptors and terminals: the C both sides of the shim need, berthd and the
// runtime (through CSystemShims, which re-exports this module) and berth-shim itself, which is
// built as Embedded Swift and so must not link CSystemShims and its libraries. Each returns -1
// and sets errno on failure unless its comment says otherwise.
#ifndef BERTH_CPROCESS_H
#define BERTH_CPROCESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

int berth_close_range(unsigned int first, unsigned int last, unsigned int flags);
// Closes every fd >= first (close_range, or a /proc/self/fd walk where it is missing).
int berth_close_fds_from(int first);
// Closes every fd >= first except those listed in `keep`.
int berth_close_fds_except(int first, const int *keep, int keep_count);

// Wait status decoding (macros in C).
int berth_wifexited(int status);
int berth_wexitstatus(int status);
int berth_wifsignaled(int status);
int berth_wtermsig(int status);

// posix_spawn (vfork-style: no copy of a large multi-threaded parent) with default signal
// handling and an empty mask in the child.
// fd_map: pairs (from, to) applied with dup2 in the child; every other fd is closed.
// new_session: setsid() in the child. Returns the pid or -1 with errno.
pid_t berth_spawn(const char *path, char *const argv[], char *const envp[],
                  const int *fd_map, int fd_map_count, int new_session);
// For a program that detaches itself (forks once, its first process exiting at once, as
// `berth-shim --detach` does): spawns it in a new session and reaps that first process, so the
// one that goes on is not ours to reap. Returns a positive number, or -1 with errno.
pid_t berth_spawn_detached(const char *path, char *const argv[], char *const envp[],
                           const int *fd_map, int fd_map_count);

// ---- file descriptors passing ----
int berth_send_fd(int socket, int fd, const char *message);
int berth_recv_fd(int socket, char *buffer, size_t buffer_size);   // returns the fd or -1

// ---- terminals ----
int berth_set_winsize(int fd, unsigned short rows, unsigned short cols);
// A pty from the caller's /dev/ptmx (unlocked; the slave's name in slave_name).
int berth_openpty(int *master, char *slave_name, size_t slave_name_size);
int berth_set_controlling_tty(int fd);

// ---- identity and privileges (identity.c) ----
// Every signal back to its default action, and none blocked.
void berth_reset_signals(void);
int berth_set_dumpable(int dumpable);
int berth_set_no_new_privs(void);
int berth_set_keepcaps(int keep);
int berth_setgroups(size_t count, const gid_t *groups);
int berth_setresuid(uid_t r, uid_t e, uid_t s);
int berth_setresgid(gid_t r, gid_t e, gid_t s);
// Sets the effective, permitted and inheritable sets (64-bit masks) of the calling thread.
int berth_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable);
int berth_capget(uint64_t *effective, uint64_t *permitted, uint64_t *inheritable);
int berth_cap_last_cap(void);                  // highest capability number the kernel knows
int berth_drop_bounding(int cap);              // PR_CAPBSET_DROP
int berth_ambient_raise(int cap);              // PR_CAP_AMBIENT_RAISE
int berth_ambient_clear_all(void);
// Loads a compiled BPF program into the calling thread's process (seccomp(2), no flags).
int berth_seccomp_load_program(const void *program, size_t length);              // 0 or -errno

#endif
