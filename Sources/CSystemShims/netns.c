// Network namespace helpers for berthd's network service. berthd is multi-threaded, so the
// namespace work happens on a helper pthread of its own: unshare(CLONE_NEWNET) and
// setns(CLONE_NEWNET) change only the calling thread, which steps back into its own
// namespace after each job. The helper lives on between jobs: on a busy host a sleeping
// thread is woken ahead of the queue, while a new thread waits for its first turn (a
// container start paid milliseconds for each of the threads it used to make). Between
// jobs it keeps one new namespace ready, so that a container start only binds it.
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

// A namespace made by the helper: open at nsfd, with a socket of (domain, type, protocol)
// made inside it.
struct netns_made {
    int nsfd, socket;
    int domain, type, protocol;
};

struct netns_job {
    int nsfd;                   // >= 0: enter this namespace; -1: make a new one
    struct netns_made made;     // its socket (and, for a new one, its fd)
    int result;                 // 0, or -errno
};

static pthread_mutex_t job_callers = PTHREAD_MUTEX_INITIALIZER;  // one job at a time
static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t job_changed = PTHREAD_COND_INITIALIZER;
static struct netns_job *job_pending;
static int job_finished;
static int helper_running;
// The namespace kept ready, and whether one is wanted.
static struct netns_made spare;
static int spare_enabled, spare_ready, spare_wanted;

// In a new namespace: IPv6 off on all its interfaces, as dockerd's sandboxes have it
// (Berth's networks are IPv4), which also spares the kernel link-local addresses, DAD and
// MLD on them. Interfaces made later inherit it. A kernel without IPv6 has no such file.
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
        while (!job_pending && !(spare_wanted && !spare_ready)) pthread_cond_wait(&job_changed, &job_lock);
        int home_ok;
        if (job_pending) {
            struct netns_job *job = job_pending;
            pthread_mutex_unlock(&job_lock);
            home_ok = netns_run(job, home);
            if (!home_ok || job->result < 0) {
                netns_release(job);
                if (job->result >= 0) job->result = -EIO;
            }
            pthread_mutex_lock(&job_lock);
            job_pending = NULL;
            job_finished = 1;
            pthread_cond_broadcast(&job_changed);
        } else {
            struct netns_job job = { .nsfd = -1, .made = spare };
            pthread_mutex_unlock(&job_lock);
            home_ok = netns_run(&job, home);
            pthread_mutex_lock(&job_lock);
            if (home_ok && job.result == 0) {
                spare = job.made;
                spare_ready = 1;
            } else {
                netns_release(&job);
                spare_wanted = 0;   // until the next start asks again
            }
        }
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

void berth_netns_keep_spare(int domain, int type, int protocol) {
    pthread_mutex_lock(&job_lock);
    spare.domain = domain;
    spare.type = type;
    spare.protocol = protocol;
    spare_enabled = 1;
    spare_wanted = 1;
    if (ensure_helper() == 0) pthread_cond_broadcast(&job_changed);
    pthread_mutex_unlock(&job_lock);
}

int berth_netns_new_socket(const char *path, int domain, int type, int protocol) {
    int file = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (file < 0) return -errno;
    close(file);
    struct netns_made made = { .nsfd = -1, .socket = -1 };
    pthread_mutex_lock(&job_lock);
    if (spare_ready && spare.domain == domain && spare.type == type && spare.protocol == protocol) {
        made = spare;
        spare_ready = 0;
    }
    if (spare_enabled) {
        // The next one is made while this start goes on.
        spare_wanted = 1;
        pthread_cond_broadcast(&job_changed);
    }
    pthread_mutex_unlock(&job_lock);
    int rc = 0;
    if (made.socket < 0) {
        struct netns_job job = { .nsfd = -1, .made = { .domain = domain, .type = type, .protocol = protocol } };
        rc = run_job(&job);
        made = job.made;
    }
    if (rc == 0) {
        // The namespace is bound at `path` from its fd; the helper's thread has left it.
        char source[64];
        snprintf(source, sizeof source, "/proc/self/fd/%d", made.nsfd);
        if (mount(source, path, NULL, MS_BIND, NULL) != 0) {
            rc = -errno;
            close(made.socket);
        }
        close(made.nsfd);
    }
    if (rc < 0) {
        unlink(path);
        return rc;
    }
    return made.socket;
}

int berth_netns_remove(const char *path) {
    if (umount2(path, MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) return -errno;
    if (unlink(path) != 0 && errno != ENOENT) return -errno;
    return 0;
}

int berth_netns_socket(int nsfd, int domain, int type, int protocol) {
    struct netns_job job = { .nsfd = nsfd, .made = { .nsfd = -1, .domain = domain, .type = type, .protocol = protocol } };
    int rc = run_job(&job);
    return rc < 0 ? rc : job.made.socket;
}
