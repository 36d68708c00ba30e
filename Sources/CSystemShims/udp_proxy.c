// The UDP side of berthd's userland port proxy: a few epoll loops, shared by every published
// UDP port, that relay each client's datagrams to the container through a socket of the
// client's own (a flow) and the container's answers back from the published port. A
// thread per port and one more per flow had made hundreds of idle threads with as many
// published ports; here neither costs a thread.
// A flow whose container has not answered for the port's idle time (docker-proxy's UDP
// connection-tracking timeout, 90 s) is closed, so a port asked from ever new source ports
// (DNS clients) does not hold a descriptor for each of them.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "CSystemShims.h"

// The largest UDP payload over IPv4, docker-proxy's buffer size.
#define UDP_PROXY_BUFFER 65507
#define UDP_PROXY_MAX_LOOPS 4
// Flows are found by client address in a per-loop table of this many chains.
#define UDP_PROXY_BUCKETS 4096
// Datagrams taken from one socket per event, so one busy port does not starve the others
// (the sockets are level-triggered: the rest comes on the next turn).
#define UDP_PROXY_BURST 64

enum udp_tag { UDP_TAG_FLOW, UDP_TAG_LISTENER, UDP_TAG_WAKE };

struct udp_loop;

struct udp_flow {
    enum udp_tag kind;
    int fd;                                 // connected to the container
    struct berth_udp_listener *listener;
    struct sockaddr_storage client;
    socklen_t client_length;
    uint64_t hash;
    time_t last_answer;                     // or its start: the idle time counts from here
    int closed;
    struct udp_flow *chain_next;            // the loop's table
    struct udp_flow *prev, *next;           // the loop's open flows
    struct udp_flow *next_closed;           // freed after the events at hand
};

struct berth_udp_listener {
    enum udp_tag kind;
    int fd;
    struct sockaddr_in target;
    int idle_seconds;
    struct udp_loop *loop;
    // Unlisten waits until the loop has dropped it (and closed its flows).
    int dropped;
    pthread_mutex_t mutex;
    pthread_cond_t dropped_signal;
    struct berth_udp_listener *next_removal;
};

struct udp_loop {
    enum udp_tag wake_kind;
    int epoll;
    int wake;                               // an eventfd: removals are queued
    struct udp_flow *buckets[UDP_PROXY_BUCKETS];
    struct udp_flow *open, *closed;
    int flow_count;
    time_t last_sweep;
    unsigned char buffer[UDP_PROXY_BUFFER];
    pthread_mutex_t mutex;                  // guards `removals`
    struct berth_udp_listener *removals;
};

static struct udp_loop *udp_loops[UDP_PROXY_MAX_LOOPS];
static int udp_loop_count;
static unsigned udp_next_loop;              // round robin, under udp_assign_mutex
static pthread_mutex_t udp_assign_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t udp_loops_once = PTHREAD_ONCE_INIT;

static time_t udp_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec;
}

// FNV-1a over the listener's address and the client's address bytes.
static uint64_t udp_flow_hash(const struct berth_udp_listener *listener, const struct sockaddr_storage *client, socklen_t length) {
    uint64_t hash = 1469598103934665603ULL;
    uintptr_t owner = (uintptr_t)listener;
    const unsigned char *bytes = (const unsigned char *)&owner;
    for (size_t i = 0; i < sizeof owner; i++) hash = (hash ^ bytes[i]) * 1099511628211ULL;
    bytes = (const unsigned char *)client;
    for (socklen_t i = 0; i < length; i++) hash = (hash ^ bytes[i]) * 1099511628211ULL;
    return hash;
}

static struct udp_flow *udp_flow_find(struct udp_loop *loop, const struct berth_udp_listener *listener,
                                      const struct sockaddr_storage *client, socklen_t length, uint64_t hash) {
    for (struct udp_flow *f = loop->buckets[hash % UDP_PROXY_BUCKETS]; f; f = f->chain_next) {
        if (f->hash == hash && f->listener == listener && f->client_length == length && memcmp(&f->client, client, length) == 0)
            return f;
    }
    return NULL;
}

static void udp_flow_close(struct udp_loop *loop, struct udp_flow *f) {
    if (f->closed) return;
    f->closed = 1;
    // Out of the epoll set before the close: a child forked meanwhile holds the socket.
    epoll_ctl(loop->epoll, EPOLL_CTL_DEL, f->fd, NULL);
    close(f->fd);
    struct udp_flow **link = &loop->buckets[f->hash % UDP_PROXY_BUCKETS];
    while (*link && *link != f) link = &(*link)->chain_next;
    if (*link) *link = f->chain_next;
    if (f->prev) f->prev->next = f->next; else loop->open = f->next;
    if (f->next) f->next->prev = f->prev;
    loop->flow_count -= 1;
    f->next_closed = loop->closed;
    loop->closed = f;
}

static struct udp_flow *udp_flow_open(struct udp_loop *loop, struct berth_udp_listener *listener,
                                      const struct sockaddr_storage *client, socklen_t length, uint64_t hash) {
    struct udp_flow *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (f->fd < 0) { free(f); return NULL; }
    struct epoll_event event = { .events = EPOLLIN, .data.ptr = &f->kind };
    if (connect(f->fd, (const struct sockaddr *)&listener->target, sizeof listener->target) != 0
        || epoll_ctl(loop->epoll, EPOLL_CTL_ADD, f->fd, &event) != 0) {
        close(f->fd);
        free(f);
        return NULL;
    }
    f->kind = UDP_TAG_FLOW;
    f->listener = listener;
    memcpy(&f->client, client, length);
    f->client_length = length;
    f->hash = hash;
    f->last_answer = udp_now();
    f->chain_next = loop->buckets[hash % UDP_PROXY_BUCKETS];
    loop->buckets[hash % UDP_PROXY_BUCKETS] = f;
    f->next = loop->open;
    if (loop->open) loop->open->prev = f;
    loop->open = f;
    loop->flow_count += 1;
    return f;
}

// Client datagrams on the published port: each to its client's flow, made at its first.
static void udp_listener_readable(struct udp_loop *loop, struct berth_udp_listener *listener) {
    for (int i = 0; i < UDP_PROXY_BURST; i++) {
        struct sockaddr_storage client;
        socklen_t length = sizeof client;
        ssize_t n = recvfrom(listener->fd, loop->buffer, sizeof loop->buffer, MSG_DONTWAIT, (struct sockaddr *)&client, &length);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;     // EAGAIN; or an error the socket reported, already cleared
        }
        uint64_t hash = udp_flow_hash(listener, &client, length);
        struct udp_flow *f = udp_flow_find(loop, listener, &client, length, hash);
        if (!f) f = udp_flow_open(loop, listener, &client, length, hash);
        if (f) send(f->fd, loop->buffer, (size_t)n, MSG_DONTWAIT);
    }
}

// The container's answers on one flow, back to its client from the published port.
static void udp_flow_readable(struct udp_loop *loop, struct udp_flow *f) {
    if (f->closed) return;
    for (int i = 0; i < UDP_PROXY_BURST; i++) {
        ssize_t n = recv(f->fd, loop->buffer, sizeof loop->buffer, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            // ECONNREFUSED (nothing listens in the container yet) is only the last send's
            // fate: the flow stays until its idle time is up, as docker-proxy's does.
            if (errno == EAGAIN || errno == ECONNREFUSED) return;
            udp_flow_close(loop, f);
            return;
        }
        f->last_answer = udp_now();
        sendto(f->listener->fd, loop->buffer, (size_t)n, MSG_DONTWAIT, (const struct sockaddr *)&f->client, f->client_length);
    }
}

// Closes the flows whose containers have been silent for their port's idle time.
static void udp_sweep(struct udp_loop *loop) {
    time_t now = udp_now();
    if (now == loop->last_sweep) return;
    loop->last_sweep = now;
    for (struct udp_flow *f = loop->open, *following; f; f = following) {
        following = f->next;
        if (now - f->last_answer >= f->listener->idle_seconds) udp_flow_close(loop, f);
    }
}

static void udp_free_closed(struct udp_loop *loop) {
    while (loop->closed) {
        struct udp_flow *next = loop->closed->next_closed;
        free(loop->closed);
        loop->closed = next;
    }
}

// The listeners being unpublished: out of the set, their flows closed, their unlisten told.
// Called after the events at hand, which may still name them.
static void udp_drop_removed(struct udp_loop *loop) {
    uint64_t count;
    while (read(loop->wake, &count, sizeof count) > 0) {}
    pthread_mutex_lock(&loop->mutex);
    struct berth_udp_listener *removals = loop->removals;
    loop->removals = NULL;
    pthread_mutex_unlock(&loop->mutex);
    while (removals) {
        struct berth_udp_listener *next = removals->next_removal;
        struct berth_udp_listener *listener = removals;
        epoll_ctl(loop->epoll, EPOLL_CTL_DEL, listener->fd, NULL);
        for (struct udp_flow *f = loop->open, *following; f; f = following) {
            following = f->next;
            if (f->listener == listener) udp_flow_close(loop, f);
        }
        pthread_mutex_lock(&listener->mutex);
        listener->dropped = 1;
        pthread_cond_signal(&listener->dropped_signal);
        pthread_mutex_unlock(&listener->mutex);   // the listener may be gone from here on
        removals = next;
    }
}

static void *udp_loop_run(void *argument) {
    struct udp_loop *loop = argument;
    struct epoll_event events[64];
    for (;;) {
        // With flows open, wake each second to end the idle ones; else sleep until traffic.
        int count = epoll_wait(loop->epoll, events, 64, loop->flow_count > 0 ? 1000 : -1);
        int woken = 0;
        for (int i = 0; i < count; i++) {
            enum udp_tag *kind = events[i].data.ptr;
            if (*kind == UDP_TAG_WAKE) woken = 1;
            else if (*kind == UDP_TAG_LISTENER) udp_listener_readable(loop, (struct berth_udp_listener *)kind);
            else udp_flow_readable(loop, (struct udp_flow *)kind);
        }
        if (woken) udp_drop_removed(loop);
        if (loop->flow_count > 0) udp_sweep(loop);
        udp_free_closed(loop);
    }
    return NULL;
}

static void udp_start_loops(void) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int wanted = cpus < 1 ? 1 : cpus > UDP_PROXY_MAX_LOOPS ? UDP_PROXY_MAX_LOOPS : (int)cpus;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, 256 * 1024);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    for (int i = 0; i < wanted; i++) {
        struct udp_loop *loop = calloc(1, sizeof *loop);
        if (!loop) break;
        loop->wake_kind = UDP_TAG_WAKE;
        loop->epoll = epoll_create1(EPOLL_CLOEXEC);
        loop->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        pthread_mutex_init(&loop->mutex, NULL);
        struct epoll_event event = { .events = EPOLLIN, .data.ptr = &loop->wake_kind };
        pthread_t thread;
        if (loop->epoll < 0 || loop->wake < 0 || epoll_ctl(loop->epoll, EPOLL_CTL_ADD, loop->wake, &event) != 0
            || pthread_create(&thread, &attributes, udp_loop_run, loop) != 0) {
            if (loop->epoll >= 0) close(loop->epoll);
            if (loop->wake >= 0) close(loop->wake);
            pthread_mutex_destroy(&loop->mutex);
            free(loop);
            break;
        }
        pthread_setname_np(thread, "berth-udpproxy");
        udp_loops[udp_loop_count++] = loop;
    }
    pthread_attr_destroy(&attributes);
}

int berth_udp_proxy_listen(int fd, const struct sockaddr_in *target, int idle_seconds, struct berth_udp_listener **out) {
    pthread_once(&udp_loops_once, udp_start_loops);
    if (udp_loop_count == 0) return -EAGAIN;
    struct berth_udp_listener *listener = calloc(1, sizeof *listener);
    if (!listener) return -ENOMEM;
    listener->kind = UDP_TAG_LISTENER;
    listener->fd = fd;
    listener->target = *target;
    listener->idle_seconds = idle_seconds < 1 ? 1 : idle_seconds;
    pthread_mutex_init(&listener->mutex, NULL);
    pthread_cond_init(&listener->dropped_signal, NULL);
    // A port's flows live on its listener's loop: no flow table is shared between threads.
    pthread_mutex_lock(&udp_assign_mutex);
    listener->loop = udp_loops[udp_next_loop++ % (unsigned)udp_loop_count];
    pthread_mutex_unlock(&udp_assign_mutex);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event event = { .events = EPOLLIN, .data.ptr = &listener->kind };
    if (epoll_ctl(listener->loop->epoll, EPOLL_CTL_ADD, fd, &event) != 0) {
        int code = errno;
        pthread_mutex_destroy(&listener->mutex);
        pthread_cond_destroy(&listener->dropped_signal);
        free(listener);
        return -code;
    }
    *out = listener;
    return 0;
}

void berth_udp_proxy_unlisten(struct berth_udp_listener *listener) {
    struct udp_loop *loop = listener->loop;
    pthread_mutex_lock(&loop->mutex);
    listener->next_removal = loop->removals;
    loop->removals = listener;
    pthread_mutex_unlock(&loop->mutex);
    uint64_t one = 1;
    if (write(loop->wake, &one, sizeof one) < 0) {}     // only EAGAIN: a wake is pending anyway
    pthread_mutex_lock(&listener->mutex);
    while (!listener->dropped) pthread_cond_wait(&listener->dropped_signal, &listener->mutex);
    pthread_mutex_unlock(&listener->mutex);
    close(listener->fd);
    pthread_mutex_destroy(&listener->mutex);
    pthread_cond_destroy(&listener->dropped_signal);
    free(listener);
}

int berth_udp_proxy_loop_count(void) {
    pthread_once(&udp_loops_once, udp_start_loops);
    return udp_loop_count;
}
