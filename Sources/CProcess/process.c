#define _GNU_SOURCE
#include "CProcess.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int berth_close_range(unsigned int first, unsigned int last, unsigned int flags) {
    return (int)syscall(SYS_close_range, first, last, flags);
}

int berth_close_fds_from(int first) {
    if (berth_close_range((unsigned int)first, ~0U, 0) == 0) return 0;
    DIR *dir = opendir("/proc/self/fd");
    if (!dir) return -1;
    int self = dirfd(dir);
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.') continue;
        int fd = atoi(entry->d_name);
        if (fd >= first && fd != self) close(fd);
    }
    closedir(dir);
    return 0;
}

int berth_close_fds_except(int first, const int *keep, int keep_count) {
    // Walk the kept fds in ascending order and close the gaps between them.
    int next = first;
    while (1) {
        int lowest = -1;
        for (int i = 0; i < keep_count; i++) {
            if (keep[i] >= next && (lowest < 0 || keep[i] < lowest)) lowest = keep[i];
        }
        if (lowest < 0) return berth_close_fds_from(next);
        if (lowest > next && berth_close_range((unsigned int)next, (unsigned int)lowest - 1, 0) != 0) {
            for (int fd = next; fd < lowest; fd++) close(fd);
        }
        next = lowest + 1;
    }
}

int berth_wifexited(int status) { return WIFEXITED(status); }
int berth_wexitstatus(int status) { return WEXITSTATUS(status); }
int berth_wifsignaled(int status) { return WIFSIGNALED(status); }
int berth_wtermsig(int status) { return WTERMSIG(status); }

pid_t berth_spawn(const char *path, char *const argv[], char *const envp[],
                  const int *fd_map, int fd_map_count, int new_session) {
    // posix_spawn shares our memory until the exec (CLONE_VFORK) instead of copying the page
    // tables of a large multi-threaded process: a few milliseconds less per spawn from berthd.
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    if (posix_spawn_file_actions_init(&actions) != 0) return -1;
    if (posix_spawnattr_init(&attributes) != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return -1;
    }
    // Copy every source above all sources and targets first, so that a mapping never
    // clobbers a source still to be mapped; then map them down and close everything else.
    int above = 3;
    for (int i = 0; i < 2 * fd_map_count; i++) {
        if (fd_map[i] >= above) above = fd_map[i] + 1;
    }
    int lowest_unmapped = 3;
    for (int i = 0; i < fd_map_count; i++) {
        if (fd_map[2 * i + 1] >= lowest_unmapped) lowest_unmapped = fd_map[2 * i + 1] + 1;
    }
    int failed = 0;
    for (int i = 0; i < fd_map_count && !failed; i++) {
        failed = posix_spawn_file_actions_adddup2(&actions, fd_map[2 * i], above + i);
    }
    for (int i = 0; i < fd_map_count && !failed; i++) {
        failed = posix_spawn_file_actions_adddup2(&actions, above + i, fd_map[2 * i + 1]);
    }
    // Standard descriptors nobody mapped are closed too, as before.
    for (int fd = 0; fd < 3 && !failed; fd++) {
        int mapped = 0;
        for (int i = 0; i < fd_map_count; i++) mapped |= fd_map[2 * i + 1] == fd;
        if (!mapped) failed = posix_spawn_file_actions_addclose(&actions, fd);
    }
    if (!failed) failed = posix_spawn_file_actions_addclosefrom_np(&actions, lowest_unmapped);
    // Default dispositions and an empty mask, whatever the caller had set or blocked.
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (new_session ? POSIX_SPAWN_SETSID : 0);
    if (!failed) failed = posix_spawnattr_setsigdefault(&attributes, &all);
    if (!failed) failed = posix_spawnattr_setsigmask(&attributes, &none);
    if (!failed) failed = posix_spawnattr_setflags(&attributes, flags);
    pid_t pid = -1;
    if (!failed) failed = posix_spawn(&pid, path, &actions, &attributes, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (failed) {
        errno = failed;
        return -1;
    }
    return pid;
}

pid_t berth_spawn_detached(const char *path, char *const argv[], char *const envp[],
                           const int *fd_map, int fd_map_count) {
    // The program detaches itself (berth-shim --detach forks once and its first process
    // exits): we reap that first process here, and the one that goes on is nobody's child.
    pid_t first = berth_spawn(path, argv, envp, fd_map, fd_map_count, 1);
    if (first < 0) return -1;
    // How it ended is not looked at: a program that failed before detaching has said why on
    // the caller's ready pipe.
    while (waitpid(first, NULL, 0) < 0 && errno == EINTR) {}
    return first;
}

int berth_send_fd(int sock, int fd, const char *message) {
    struct iovec iov = {.iov_base = (void *)message, .iov_len = strlen(message)};
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof(control));
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = control, .msg_controllen = sizeof(control)};
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    return sendmsg(sock, &msg, 0) < 0 ? -1 : 0;
}

int berth_recv_fd(int sock, char *buffer, size_t buffer_size) {
    struct iovec iov = {.iov_base = buffer, .iov_len = buffer_size > 0 ? buffer_size - 1 : 0};
    char control[CMSG_SPACE(sizeof(int))];
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = control, .msg_controllen = sizeof(control)};
    ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) return -1;
    if (buffer_size > 0) buffer[n] = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int fd;
            memcpy(&fd, CMSG_DATA(c), sizeof(int));
            return fd;
        }
    }
    errno = EBADMSG;
    return -1;
}

int berth_set_winsize(int fd, unsigned short rows, unsigned short cols) {
    struct winsize ws = {.ws_row = rows, .ws_col = cols};
    return ioctl(fd, TIOCSWINSZ, &ws);
}
