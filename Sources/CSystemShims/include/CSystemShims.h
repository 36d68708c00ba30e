// Thin, one-purpose wrappers for kernel interfaces that Swift's Glibc module does not expose
// (variadic calls, raw syscalls, function-like macros). Each returns -1 and sets errno on failure
// unless its comment says otherwise.
#ifndef BERTH_CSYSTEMSHIMS_H
#define BERTH_CSYSTEMSHIMS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/xattr.h>   // setxattr for overlay whiteouts (not in Swift's Glibc module)

// spawn, fd passing, close-range, wait status, window size: shared with berth-shim.
#include "CProcess.h"

// ---- processes and namespaces (process.c) ----

// Namespace flags of <sched.h>, which Swift only sees with _GNU_SOURCE.
enum {
    BERTH_CLONE_NEWTIME = 0x00000080, BERTH_CLONE_NEWNS = 0x00020000,
    BERTH_CLONE_NEWCGROUP = 0x02000000, BERTH_CLONE_NEWUTS = 0x04000000,
    BERTH_CLONE_NEWIPC = 0x08000000, BERTH_CLONE_NEWUSER = 0x10000000,
    BERTH_CLONE_NEWPID = 0x20000000, BERTH_CLONE_NEWNET = 0x40000000,
};

// fork-like clone with CLONE_NEW* flags: returns the child's pid in the parent and 0 in the
// child. Uses clone3 and falls back to clone(2) on kernels without it. SIGCHLD is added.
// With `cgroup_fd` (a cgroup2 directory, else -1) the child is born in that cgroup
// (CLONE_INTO_CGROUP) and `*into_cgroup` is set; where the kernel refuses that (older than
// 5.7, or the cgroup takes no processes), the clone is made without it and the caller moves
// the child.
pid_t berth_clone(uint64_t flags, int cgroup_fd, bool *into_cgroup);
int berth_unshare(int flags);
int berth_setns(int fd, int nstype);
int berth_pidfd_open(pid_t pid);
int berth_pidfd_send_signal(int pidfd, int sig);
int berth_prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5);
// Brings the loopback interface of the caller's network namespace up.
int berth_loopback_up(void);
int berth_set_pdeathsig(int sig);
int berth_sethostname(const char *name);
int berth_setdomainname(const char *name);

// Terminals, capabilities, identity: see CProcess.h (identity.c), re-exported here.

// ---- mounts (mount.c) ----
int berth_mount(const char *source, const char *target, const char *fstype,
                unsigned long flags, const char *data);
int berth_umount2(const char *target, int flags);
// An overlay at `target` from lower layers (topmost first), through fsopen/fsconfig: no
// limit on how many layers. -1 with errno (EINVAL on kernels without "lowerdir+").
int berth_mount_overlay(const char *target, const char *const lowers[], int lower_count,
                        const char *upper, const char *work);
int berth_pivot_root(const char *new_root, const char *put_old);
// mount_setattr(2) on a tree: set/clear MOUNT_ATTR_* bits, optionally recursively.
int berth_mount_setattr(int dirfd, const char *path, unsigned int flags,
                        uint64_t attr_set, uint64_t attr_clr, uint64_t propagation);

// makedev(3) as a function (it is a macro).
dev_t berth_makedev(unsigned int major, unsigned int minor);
// statfs(2) f_type of the filesystem holding `path`, or 0 on error.
long berth_filesystem_type(const char *path);
enum { BERTH_AT_RECURSIVE = 0x8000 };

// ---- allocation hints for directories (top_directory.c) ----

// Sets FS_TOPDIR_FL ("chattr +T") on a directory, so ext2/3/4 spread the directories made in
// it across block groups as top-level ones. 0, or -1 with errno (ENOTTY, EOPNOTSUPP on file
// systems without the flag).
int berth_mark_top_directory(const char *path);
// The directory's FS_IOC_GETFLAGS flags, or -1 with errno.
int berth_directory_flags(const char *path);

// ---- paths confined to a directory (scoped_open.c) ----
enum { BERTH_RESOLVE_NO_MAGICLINKS = 0x02, BERTH_RESOLVE_IN_ROOT = 0x10 };
// O_PATH of <fcntl.h>, which Swift only sees with _GNU_SOURCE.
enum { BERTH_O_PATH = 010000000 };
// openat2(2): opens `path` below `dirfd` with `resolve` flags (RESOLVE_IN_ROOT: "/" and ".."
// stop at dirfd, symlinks are resolved as if dirfd were the root).
int berth_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);

// ---- cgroup v2 device filter (bpf_devices.c) ----
// Loads a BPF_PROG_TYPE_CGROUP_DEVICE program (8-byte instructions); returns its fd or -1.
// The verifier's log goes to `log` when given.
int berth_bpf_load_device_program(const uint64_t *instructions, unsigned int count,
                                  char *log, unsigned int log_size);
// Attaches the program to a cgroup directory fd and detaches whatever device programs were
// attached before.
int berth_bpf_replace_device_program(int cgroup_fd, int program_fd);
// How many device programs are attached to the cgroup, or -1.
int berth_bpf_attached_device_programs(int cgroup_fd);


// ---- seccomp through libseccomp (seccomp.c) ----
enum berth_seccomp_action_kind {
    BERTH_SCMP_KILL_THREAD = 0, BERTH_SCMP_KILL_PROCESS, BERTH_SCMP_TRAP, BERTH_SCMP_ERRNO,
    BERTH_SCMP_TRACE, BERTH_SCMP_ALLOW, BERTH_SCMP_LOG, BERTH_SCMP_NOTIFY
};
enum berth_seccomp_op {
    BERTH_SCMP_NE = 1, BERTH_SCMP_LT, BERTH_SCMP_LE, BERTH_SCMP_EQ, BERTH_SCMP_GE,
    BERTH_SCMP_GT, BERTH_SCMP_MASKED_EQ
};
struct berth_seccomp_arg {
    unsigned int index;
    int op;                 // berth_seccomp_op
    uint64_t value;
    uint64_t value_two;
};
uint32_t berth_seccomp_action(int kind, uint32_t data);
void *berth_seccomp_new(uint32_t default_action);     // NULL on failure
void berth_seccomp_free(void *filter);
// arch: libseccomp's name ("x86_64", "x86", "x32", "aarch64", ...). Returns 0, or -errno.
int berth_seccomp_add_arch(void *filter, const char *arch);
// Returns 0; 1 when the syscall name is unknown on this architecture (skipped); or -errno.
int berth_seccomp_add_rule(void *filter, uint32_t action, const char *syscall,
                           const struct berth_seccomp_arg *args, unsigned int arg_count);
int berth_seccomp_load(void *filter);                 // 0 or -errno
int berth_seccomp_export_bpf(void *filter, int fd);   // 0 or -errno
int berth_seccomp_mode(void);                         // PR_GET_SECCOMP
// The filter compiled to BPF, in a malloc'd buffer the caller frees (seccomp_program.c).
int berth_seccomp_export_program(void *filter, uint8_t **program, size_t *length);  // 0 or -errno

// ---- network namespaces (netns.c) ----
// Each returns 0 (or an fd) on success and -errno on failure.
// A new network namespace (IPv6 off on all its interfaces, as dockerd's sandboxes), open at
// *nsfd, and a socket (close-on-exec) made inside it, returned; the work is done on a helper
// thread, so the caller's threads keep their namespace.
int berth_netns_new(int domain, int type, int protocol, int *nsfd);
// Creates the file `path` and bind-mounts the namespace open at nsfd on it.
int berth_netns_bind(int nsfd, const char *path);
// Both: a new namespace bound at `path`, and a socket inside it.
int berth_netns_new_socket(const char *path, int domain, int type, int protocol);
// Unmounts and deletes a namespace file made by berth_netns_new_socket.
int berth_netns_remove(const char *path);
// Writes `value` to each of `paths` as seen from the network namespace open at nsfd (its
// /proc/sys/net), stopping at the first failure.
int berth_netns_write(int nsfd, const char *const *paths, int count, const char *value);
// A socket (close-on-exec) that lives in the network namespace open at nsfd.
int berth_netns_socket(int nsfd, int domain, int type, int protocol);
// ---- end of netns.c ----

// ---- the port proxy (proxy.c) ----
struct sockaddr_in;
struct berth_proxy_listener;
// Publishes a listening TCP socket on the daemon's shared proxy loops (started at the first
// call, one per CPU up to four, one thread each): each connection is forwarded to `target`
// and back. 0 and *out set, or -errno (the fd is left open then).
int berth_proxy_listen(int fd, const struct sockaddr_in *target, struct berth_proxy_listener **out);
// Unpublishes it: once every loop has dropped it and closed its connections, the socket is
// closed (the port is free when this returns) and `listener` freed.
void berth_proxy_unlisten(struct berth_proxy_listener *listener);
// How many loops serve the published ports (starting them if they are not yet).
int berth_proxy_loop_count(void);
// ---- end of proxy.c ----

// ---- the UDP port proxy (udp_proxy.c) ----
struct berth_udp_listener;
// Publishes a bound UDP socket on the daemon's shared UDP proxy loops (started at the first
// call, one per CPU up to four, one thread each): each client's datagrams go to `target`
// from a socket of its own, and the answers back, until the target has not answered for
// `idle_seconds`. 0 and *out set, or -errno (the fd is left open then).
int berth_udp_proxy_listen(int fd, const struct sockaddr_in *target, int idle_seconds, struct berth_udp_listener **out);
// Unpublishes it: once its loop has dropped it and closed its flows, the socket is closed
// (the port is free when this returns) and `listener` freed.
void berth_udp_proxy_unlisten(struct berth_udp_listener *listener);
// How many loops serve the published UDP ports (starting them if they are not yet).
int berth_udp_proxy_loop_count(void);
// ---- end of udp_proxy.c ----

// ---- memory.c ----
// Gives the pages glibc's arenas hold free back to the system (malloc.h is not in Glibc's
// Swift module); 1 when some were released.
int berth_malloc_trim(void);

// ---- epoll by plain descriptors (epoll.c) ----

int berth_epoll_create(void);
// Waits for `fd` to be readable (level-triggered).
int berth_epoll_watch(int epfd, int fd);
int berth_epoll_unwatch(int epfd, int fd);
// Blocks until descriptors are ready or `timeout_ms` passed (-1: no limit); writes up to
// `capacity` (at most 64) of them to `fds`.
int berth_epoll_wait(int epfd, int *fds, int capacity, int timeout_ms);
// ---- end of memory.c ----

#endif
