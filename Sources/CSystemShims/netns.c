// Network namespace helpers for berthd's network service. berthd is multi-threaded, so the
// namespace work happens on a short-lived pthread of its own: unshare(CLONE_NEWNET) and
// setns(CLONE_NEWNET) change only the calling thread, which then exits.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "CSystemShims.h"

struct netns_job {
    const char *path;   // berth_netns_new: where to bind the new namespace
    int nsfd;           // berth_netns_socket: the namespace to make the socket in
    int domain, type, protocol;
    int result;         // 0 / fd, or -errno
};

static void *netns_new_thread(void *arg) {
    struct netns_job *job = arg;
    if (unshare(CLONE_NEWNET) != 0) { job->result = -errno; return NULL; }
    char self[64];
    snprintf(self, sizeof self, "/proc/self/task/%ld/ns/net", (long)syscall(SYS_gettid));
    job->result = mount(self, job->path, NULL, MS_BIND, NULL) == 0 ? 0 : -errno;
    return NULL;
}

static void *netns_socket_thread(void *arg) {
    struct netns_job *job = arg;
    if (setns(job->nsfd, CLONE_NEWNET) != 0) { job->result = -errno; return NULL; }
    int fd = socket(job->domain, job->type | SOCK_CLOEXEC, job->protocol);
    job->result = fd >= 0 ? fd : -errno;
    return NULL;
}

static int run_on_thread(void *(*body)(void *), struct netns_job *job) {
    pthread_t thread;
    int rc = pthread_create(&thread, NULL, body, job);
    if (rc != 0) return -rc;
    pthread_join(thread, NULL);
    return job->result;
}

int berth_netns_new(const char *path) {
    int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (fd < 0) return -errno;
    close(fd);
    struct netns_job job = { .path = path };
    int rc = run_on_thread(netns_new_thread, &job);
    if (rc < 0) unlink(path);
    return rc;
}

int berth_netns_remove(const char *path) {
    if (umount2(path, MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) return -errno;
    if (unlink(path) != 0 && errno != ENOENT) return -errno;
    return 0;
}

int berth_netns_socket(int nsfd, int domain, int type, int protocol) {
    struct netns_job job = { .nsfd = nsfd, .domain = domain, .type = type, .protocol = protocol };
    return run_on_thread(netns_socket_thread, &job);
}

// Copies one direction of a proxied connection through a pipe with splice (no copies in
// user space) until EOF or an error, then half-closes the writer. Returns bytes moved.
long long berth_splice_pump(int from, int to) {
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) return -1;
    fcntl(pipefd[1], F_SETPIPE_SZ, 1 << 20);
    long long total = 0;
    for (;;) {
        ssize_t in = splice(from, NULL, pipefd[1], NULL, 1 << 20, SPLICE_F_MOVE);
        if (in < 0 && errno == EINTR) continue;
        if (in <= 0) break;
        ssize_t left = in;
        while (left > 0) {
            ssize_t out = splice(pipefd[0], NULL, to, NULL, (size_t)left, SPLICE_F_MOVE);
            if (out < 0 && errno == EINTR) continue;
            if (out <= 0) goto done;
            left -= out;
        }
        total += in;
    }
done:
    shutdown(to, SHUT_WR);
    close(pipefd[0]);
    close(pipefd[1]);
    return total;
}
