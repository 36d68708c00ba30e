// Network namespace helpers for berthd's network service. berthd is multi-threaded, so the
// namespace work happens on a helper pthread of its own: unshare(CLONE_NEWNET) and
// setns(CLONE_NEWNET) change only the calling thread, which steps back into its own
// namespace after each job. The helper lives on between jobs: on a busy host a sleeping
// thread is woken ahead of the queue, while a new thread waits for its first turn (a
// container start paid milliseconds for each of the threads it used to make). Namespaces
// made ahead of container starts are the network service's business (it calls
// berth_netns_new between starts, and berth_netns_bind at one).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "CSystemShims.h"

// A namespace made by the helper: open at nsfd, with a socket of (domain, type, protocol)
// made inside it.
struct netns_made {
    int nsfd, socket;
    int domain, type, protocol;
};

struct netns_job {
    int nsfd;                   // >= 0: enter this namespace; -1: make a new one
    struct netns_made made;     // its socket (and, for a new one, its fd)
    // Instead of a socket: `value` written to each of these files (sysctls of the namespace).
    const char *const *write_paths;
    int write_count;
    const char *write_value;
    int result;                 // 0, or -errno
};

static pthread_mutex_t job_callers = PTHREAD_MUTEX_INITIALIZER;  // one job at a time
static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t job_changed = PTHREAD_COND_INITIALIZER;
static struct netns_job *job_pending;
static int job_finished;
static int helper_running;

// In a new namespace: IPv6 off on all its interfaces, as dockerd's sandboxes have it
// (an IPv6 network turns it on for its own interface and loopback), which also spares the
// kernel link-local addresses, DAD and MLD on them. Interfaces made later inherit it. A kernel without IPv6 has no such file.
static void netns_disable_ipv6(void) {
    int knob = open("/proc/sys/net/ipv6/conf/all/disable_ipv6", O_WRONLY | O_CLOEXEC);
    if (knob < 0) return;
    ssize_t written = write(knob, "1\n", 2);
    (void)written;
    close(knob);
}

// Enters the job's namespace (an existing one, or a new one it opens and sets up) and makes
// the socket there. Returns whether the thread left its own namespace.
static int netns_do(struct netns_job *job) {
    struct netns_made *made = &job->made;
    made->socket = -1;
    made->nsfd = -1;
    if (job->nsfd >= 0) {
        if (setns(job->nsfd, CLONE_NEWNET) != 0) { job->result = -errno; return 0; }
    } else {
        if (unshare(CLONE_NEWNET) != 0) { job->result = -errno; return 0; }
        made->nsfd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (made->nsfd < 0) { job->result = -errno; return 1; }
        netns_disable_ipv6();
    }
    if (job->write_paths) {
        job->result = 0;
        size_t length = strlen(job->write_value);
        for (int i = 0; i < job->write_count && job->result == 0; i++) {
            int file = open(job->write_paths[i], O_WRONLY | O_CLOEXEC);
            if (file < 0) job->result = -errno;
            else {
                ssize_t written = write(file, job->write_value, length);
                if (written != (ssize_t)length) job->result = written < 0 ? -errno : -EIO;
            }
            if (file >= 0) close(file);
        }
        return 1;
    }
    made->socket = socket(made->domain, made->type | SOCK_CLOEXEC, made->protocol);
    job->result = made->socket >= 0 ? 0 : -errno;
    return 1;
}

// Runs a job and steps home; 0 when the thread is stranded in another namespace.
static int netns_run(struct netns_job *job, int home) {
    if (home < 0) { job->result = -EBADF; return 0; }
    if (!netns_do(job) || setns(home, CLONE_NEWNET) == 0) return 1;
    job->result = -errno;
    return 0;
}

static void netns_release(struct netns_job *job) {
    if (job->made.socket >= 0) close(job->made.socket);
    if (job->nsfd < 0 && job->made.nsfd >= 0) close(job->made.nsfd);
}

static void *netns_helper(void *unused) {
    (void)unused;
    int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    pthread_mutex_lock(&job_lock);
    for (;;) {
        while (!job_pending) pthread_cond_wait(&job_changed, &job_lock);
        struct netns_job *job = job_pending;
        pthread_mutex_unlock(&job_lock);
        int home_ok = netns_run(job, home);
        if (!home_ok || job->result < 0) {
            netns_release(job);
            if (job->result >= 0) job->result = -EIO;
        }
        pthread_mutex_lock(&job_lock);
        job_pending = NULL;
        job_finished = 1;
        pthread_cond_broadcast(&job_changed);
        if (!home_ok) {
            // Cannot go home: this thread ends, and the next job starts another.
            helper_running = 0;
            pthread_mutex_unlock(&job_lock);
            if (home >= 0) close(home);
            return NULL;
        }
    }
}

// Called with job_lock held.
static int ensure_helper(void) {
    if (helper_running) return 0;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attributes, 64 * 1024);
    pthread_t thread;
    int rc = pthread_create(&thread, &attributes, netns_helper, NULL);
    pthread_attr_destroy(&attributes);
    if (rc == 0) helper_running = 1;
    return -rc;
}

static int run_job(struct netns_job *job) {
    pthread_mutex_lock(&job_callers);
    pthread_mutex_lock(&job_lock);
    int rc = ensure_helper();
    if (rc == 0) {
        job_pending = job;
        job_finished = 0;
        pthread_cond_broadcast(&job_changed);
        while (!job_finished) pthread_cond_wait(&job_changed, &job_lock);
        rc = job->result;
    }
    pthread_mutex_unlock(&job_lock);
    pthread_mutex_unlock(&job_callers);
    return rc;
}

int berth_netns_new(int domain, int type, int protocol, int *nsfd) {
    struct netns_job job = { .nsfd = -1, .made = { .domain = domain, .type = type, .protocol = protocol } };
    int rc = run_job(&job);
    if (rc < 0) return rc;
    *nsfd = job.made.nsfd;
    return job.made.socket;
}

int berth_netns_bind(int nsfd, const char *path) {
    int file = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (file < 0) return -errno;
    close(file);
    // The helper's thread has left the namespace: it is bound from its fd.
    char source[64];
    snprintf(source, sizeof source, "/proc/self/fd/%d", nsfd);
    if (mount(source, path, NULL, MS_BIND, NULL) != 0) {
        int rc = -errno;
        unlink(path);
        return rc;
    }
    return 0;
}

int berth_netns_new_socket(const char *path, int domain, int type, int protocol) {
    int nsfd = -1;
    int sock = berth_netns_new(domain, type, protocol, &nsfd);
    if (sock < 0) return sock;
    int rc = berth_netns_bind(nsfd, path);
    close(nsfd);
    if (rc < 0) {
        close(sock);
        return rc;
    }
    return sock;
}

int berth_netns_remove(const char *path) {
    if (umount2(path, MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) return -errno;
    if (unlink(path) != 0 && errno != ENOENT) return -errno;
    return 0;
}

int berth_netns_write(int nsfd, const char *const *paths, int count, const char *value) {
    struct netns_job job = { .nsfd = nsfd, .made = { .nsfd = -1 }, .write_paths = paths, .write_count = count, .write_value = value };
    return run_job(&job);
}

int berth_netns_socket(int nsfd, int domain, int type, int protocol) {
    struct netns_job job = { .nsfd = nsfd, .made = { .nsfd = -1, .domain = domain, .type = type, .protocol = protocol } };
    int rc = run_job(&job);
    return rc < 0 ? rc : job.made.socket;
}
