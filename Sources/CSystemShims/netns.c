// Network namespace helpers for berthd's network service. berthd is multi-threaded, so the
// namespace work happens on a helper pthread of its own: unshare(CLONE_NEWNET) and
// setns(CLONE_NEWNET) change only the calling thread, which steps back into its own
// namespace after each job. The helper lives on between jobs: on a busy host a sleeping
// thread is woken ahead of the queue, while a new thread waits for its first turn (a
// container start paid milliseconds for each of the threads it used to make).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "CSystemShims.h"

struct netns_job {
    const char *path;   // berth_netns_new_socket: where to bind the new namespace
    int nsfd;           // berth_netns_socket: the namespace to make the socket in
    int domain, type, protocol;
    int result;         // fd, or -errno
};

static pthread_mutex_t job_callers = PTHREAD_MUTEX_INITIALIZER;  // one job at a time
static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t job_changed = PTHREAD_COND_INITIALIZER;
static struct netns_job *job_pending;
static int job_finished;
static int helper_running;

// Enters the job's namespace (a new one, bound at its path, set up, or an existing one) and
// makes the socket there. Returns whether the thread left its own namespace.
static int netns_do(struct netns_job *job) {
    if (job->path) {
        if (unshare(CLONE_NEWNET) != 0) { job->result = -errno; return 0; }
        char self[64];
        snprintf(self, sizeof self, "/proc/self/task/%ld/ns/net", (long)syscall(SYS_gettid));
        if (mount(self, job->path, NULL, MS_BIND, NULL) != 0) { job->result = -errno; return 1; }
        // As dockerd's sandboxes: no IPv6 on any interface of the namespace (Berth's networks
        // are IPv4), which also spares the kernel link-local addresses, DAD and MLD on them.
        // Interfaces made later inherit it. A kernel without IPv6 has no such file.
        int knob = open("/proc/sys/net/ipv6/conf/all/disable_ipv6", O_WRONLY | O_CLOEXEC);
        if (knob >= 0) {
            ssize_t written = write(knob, "1\n", 2);
            (void)written;
            close(knob);
        }
    } else if (setns(job->nsfd, CLONE_NEWNET) != 0) {
        job->result = -errno;
        return 0;
    }
    int fd = socket(job->domain, job->type | SOCK_CLOEXEC, job->protocol);
    job->result = fd >= 0 ? fd : -errno;
    return 1;
}

static void *netns_helper(void *unused) {
    (void)unused;
    int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    pthread_mutex_lock(&job_lock);
    for (;;) {
        while (!job_pending) pthread_cond_wait(&job_changed, &job_lock);
        struct netns_job *job = job_pending;
        pthread_mutex_unlock(&job_lock);
        int stranded = 0;
        if (home < 0) {
            job->result = -EBADF;
        } else if (netns_do(job) && setns(home, CLONE_NEWNET) != 0) {
            // Cannot go home: this thread ends, and the next job starts another.
            stranded = 1;
            if (job->result >= 0) close(job->result);
            job->result = -errno;
        }
        pthread_mutex_lock(&job_lock);
        job_pending = NULL;
        job_finished = 1;
        pthread_cond_broadcast(&job_changed);
        if (stranded || home < 0) {
            helper_running = 0;
            pthread_mutex_unlock(&job_lock);
            if (home >= 0) close(home);
            return NULL;
        }
    }
}

static int run_job(struct netns_job *job) {
    pthread_mutex_lock(&job_callers);
    pthread_mutex_lock(&job_lock);
    int rc = 0;
    if (!helper_running) {
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attributes, 64 * 1024);
        pthread_t thread;
        rc = pthread_create(&thread, &attributes, netns_helper, NULL);
        pthread_attr_destroy(&attributes);
        if (rc == 0) helper_running = 1;
    }
    if (rc == 0) {
        job_pending = job;
        job_finished = 0;
        pthread_cond_broadcast(&job_changed);
        while (!job_finished) pthread_cond_wait(&job_changed, &job_lock);
        rc = job->result;
    } else {
        rc = -rc;
    }
    pthread_mutex_unlock(&job_lock);
    pthread_mutex_unlock(&job_callers);
    return rc;
}

int berth_netns_new_socket(const char *path, int domain, int type, int protocol) {
    int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (fd < 0) return -errno;
    close(fd);
    struct netns_job job = { .path = path, .domain = domain, .type = type, .protocol = protocol };
    int rc = run_job(&job);
    if (rc < 0) {
        umount2(path, MNT_DETACH);
        unlink(path);
    }
    return rc;
}

int berth_netns_remove(const char *path) {
    if (umount2(path, MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) return -errno;
    if (unlink(path) != 0 && errno != ENOENT) return -errno;
    return 0;
}

int berth_netns_socket(int nsfd, int domain, int type, int protocol) {
    struct netns_job job = { .nsfd = nsfd, .domain = domain, .type = type, .protocol = protocol };
    return run_job(&job);
}
