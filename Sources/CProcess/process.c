#define _GNU_SOURCE
#include "CProcess.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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
    // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
    int error_pipe[2];
    if (pipe2(error_pipe, O_CLOEXEC) != 0) return -1;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = fork();
    if (pid == 0) {
        // Reset signal dispositions and the mask inherited from the parent.
        for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (new_session) setsid();
        // Copy the sources (and the error pipe) above every target first, so that a mapping
        // never clobbers a source; then map them down and close everything else.
        if (fd_map_count > 16) _exit(127);
        int keep = 3;
        for (int i = 0; i < fd_map_count; i++) {
            if (fd_map[2 * i + 1] >= keep) keep = fd_map[2 * i + 1] + 1;
        }
        int err_fd = fcntl(error_pipe[1], F_DUPFD_CLOEXEC, keep);
        if (err_fd < 0) _exit(127);
        int copies[16];
        for (int i = 0; i < fd_map_count; i++) {
            copies[i] = fcntl(fd_map[2 * i], F_DUPFD_CLOEXEC, keep);
            if (copies[i] < 0) goto fail;
        }
        for (int i = 0; i < fd_map_count; i++) {
            if (dup2(copies[i], fd_map[2 * i + 1]) < 0) goto fail;
        }
        for (int fd = 0; fd < keep; fd++) {
            int mapped = 0;
            for (int i = 0; i < fd_map_count; i++) mapped |= fd_map[2 * i + 1] == fd;
            if (!mapped) close(fd);
        }
        for (int fd = keep; fd < err_fd; fd++) close(fd);
        berth_close_fds_from(err_fd + 1);
        error_pipe[1] = err_fd;
        execve(path, argv, envp);
    fail:;
        int err = errno;
        ssize_t ignored = write(error_pipe[1], &err, sizeof(err));
        (void)ignored;
        _exit(127);
    }
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(error_pipe[1]);
    if (pid < 0) {
        close(error_pipe[0]);
        errno = saved;
        return -1;
    }
    int child_errno = 0;
    ssize_t n;
    do { n = read(error_pipe[0], &child_errno, sizeof(child_errno)); } while (n < 0 && errno == EINTR);
    close(error_pipe[0]);
    if (n == sizeof(child_errno)) {
        waitpid(pid, NULL, 0);
        errno = child_errno;
        return -1;
    }
    return pid;
}

pid_t berth_spawn_detached(const char *path, char *const argv[], char *const envp[],
                           const int *fd_map, int fd_map_count) {
    // A short-lived middle process spawns the real child and exits at once, so the child is
    // re-parented to init (or the nearest subreaper) and never becomes our zombie.
    int result_pipe[2];
    if (pipe2(result_pipe, O_CLOEXEC) != 0) return -1;
    pid_t middle = fork();
    if (middle == 0) {
        pid_t child = berth_spawn(path, argv, envp, fd_map, fd_map_count, 1);
        int result[2] = {child, child < 0 ? errno : 0};
        ssize_t ignored = write(result_pipe[1], result, sizeof(result));
        (void)ignored;
        _exit(0);
    }
    int saved = errno;
    close(result_pipe[1]);
    if (middle < 0) {
        close(result_pipe[0]);
        errno = saved;
        return -1;
    }
    int result[2] = {-1, ECHILD};
    ssize_t n;
    do { n = read(result_pipe[0], result, sizeof(result)); } while (n < 0 && errno == EINTR);
    close(result_pipe[0]);
    while (waitpid(middle, NULL, 0) < 0 && errno == EINTR) {}
    if (n != sizeof(result) || result[0] < 0) {
        errno = n == sizeof(result) ? result[1] : ECHILD;
        return -1;
    }
    return result[0];
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
