// Processes, descriptors and terminals: the C both sides of the shim need, berthd and the
// runtime (through CSystemShims, which re-exports this module) and berth-shim itself, which is
// built as Embedded Swift and so must not link CSystemShims and its libraries. Each returns -1
// and sets errno on failure unless its comment says otherwise.
#ifndef BERTH_CPROCESS_H
#define BERTH_CPROCESS_H

#include <stddef.h>
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

// fork+exec done entirely in C (vfork-safe) for spawning from a multi-threaded process.
// fd_map: pairs (from, to) applied with dup2 in the child; every other fd is closed.
// new_session: setsid() in the child. Returns the pid or -1.
pid_t berth_spawn(const char *path, char *const argv[], char *const envp[],
                  const int *fd_map, int fd_map_count, int new_session);
// Like berth_spawn in a new session, through a middle process that exits at once: the child
// is not ours to reap (a daemon's long-lived helpers).
pid_t berth_spawn_detached(const char *path, char *const argv[], char *const envp[],
                           const int *fd_map, int fd_map_count);

// ---- file descriptors passing ----
int berth_send_fd(int socket, int fd, const char *message);
int berth_recv_fd(int socket, char *buffer, size_t buffer_size);   // returns the fd or -1

// ---- terminals ----
int berth_set_winsize(int fd, unsigned short rows, unsigned short cols);

#endif
