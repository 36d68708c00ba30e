// The C side of berth-shim. The shim is built as Embedded Swift, which has no Glibc module:
// the libc it calls comes in through this header, with the few helpers Swift cannot express
// (errno, a variadic prctl, signal masks, the command line). BerthShimCore uses it too, in
// both its embedded (inside berth-shim) and its ordinary (unit-tested) builds.
#ifndef BERTH_CBERTHSHIM_H
#define BERTH_CBERTHSHIM_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "CProcess.h"

// errno is a macro over a thread-local location, which Swift cannot import.
static inline int berth_errno(void) { return errno; }
static inline void berth_set_errno(int value) { errno = value; }

// open(2) and fcntl(2) are variadic, which Swift cannot call.
static inline int berth_open(const char *path, int flags, mode_t mode) { return open(path, flags, mode); }
static inline int berth_fcntl(int fd, int command, int argument) { return fcntl(fd, command, argument); }

// The process's environment (`environ`, a mutable global Swift 6 will not read as it is).
char **berth_shim_environ(void);

// The command line main() was given (Embedded Swift has no CommandLine).
int berth_shim_argc(void);
char **berth_shim_argv(void);

// PR_SET_CHILD_SUBREAPER: orphans of the container become the shim's children.
int berth_set_child_subreaper(void);
// Blocks SIGCHLD, ignores SIGPIPE, and returns a non-blocking signalfd for SIGCHLD.
int berth_shim_sigchld_fd(void);
// Reads every pending signal off a non-blocking signalfd.
void berth_shim_drain_signalfd(int fd);
// Gives freed heap memory back to the kernel (malloc_trim).
void berth_shim_release_memory(void);

// ---- log compression (gzip.c) ----
// Forks a child that gzips all of `in` into `out` (a gzip header with `comment` and `mtime`)
// and exits 0 on success; returns its pid, or -1 with errno.
pid_t berth_shim_gzip_spawn(int in, int out, const char *comment, long mtime);
// A new file without a name in `directory` (O_TMPFILE), for writing; -1 with errno.
int berth_shim_open_unnamed(const char *directory);
// Gives the unnamed file `fd` the name `path` (which must not exist); -1 with errno.
int berth_shim_link_unnamed(int fd, const char *path);

// ---- GELF compression (deflate.c) ----
// The most bytes compressing `length` bytes can take.
size_t berth_shim_deflate_bound(size_t length);
// Compresses `in` into `out` as one gzip (gzip != 0) or zlib stream at `level` (-1 to 9);
// the compressed length, or -1.
long berth_shim_deflate(int gzip, int level, const unsigned char *in, size_t in_length, unsigned char *out, size_t out_capacity);

// ---- exec (exec.c) ----
// An exec's plan from berthd: NUL-terminated "key=value" entries (see ExecPlan in BerthEngine).
// NULL on bad input, with the reason in `error`.
struct berth_exec_plan;
struct berth_exec_plan *berth_exec_plan_parse(const char *bytes, size_t length, char *error, size_t error_size);
void berth_exec_plan_free(struct berth_exec_plan *plan);
// The container's namespaces an exec joins (user, ipc, uts, net, pid, cgroup, mnt).
#define BERTH_EXEC_NAMESPACES 7
// Opens the namespaces of the container whose init is `init_pid` (close-on-exec), -1 for one
// the caller is in already; 0, or -1 with the reason in `error`. The shim keeps them while the
// container runs: each exec's helper would otherwise look them all up in /proc again.
int berth_exec_open_namespaces(pid_t init_pid, int fds[BERTH_EXEC_NAMESPACES], char *error, size_t error_size);
void berth_exec_close_namespaces(int fds[BERTH_EXEC_NAMESPACES]);
// Forks the helper that enters the container's `namespaces` and clones the exec's process as
// the caller's child; returns the helper's pid, or -1 with errno. `stdio` becomes the process's
// 0-2 (with a terminal, `console` is a socket the pty master is sent on, -1 otherwise). Records
// "pid N" and "error MESSAGE" (each NUL-terminated) arrive on the pipe whose write end is
// `report_fd`; it reads EOF once the process has exec'd or failed.
pid_t berth_exec_spawn(struct berth_exec_plan *plan, const int namespaces[BERTH_EXEC_NAMESPACES], const int stdio[3], int console,
                       int report_fd);

#endif
