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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "CSystemShims.h"
#include "proxy_loops.h"

// The largest UDP payload over IPv4, docker-proxy's buffer size.
#define UDP_PROXY_BUFFER 65507
// Flows are found by client address in a per-loop table of this many chains.
#define UDP_PROXY_BUCKETS 4096
// Datagrams taken from one socket per event, so one busy port does not starve the others
// (the sockets are level-triggered: the rest comes on the next turn).
#define UDP_PROXY_BURST 64

struct udp_loop;

struct udp_flow {
    enum proxy_tag kind;                    // PROXY_TAG_SOCKET
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
    enum proxy_tag kind;                    // PROXY_TAG_LISTENER
    int fd;
    struct sockaddr_in target;
    int idle_seconds;
    struct proxy_loop *loop;                // the one loop that serves it
    struct proxy_drop drop;                 // unlisten waits for the loop to drop it
};

struct udp_loop {
    struct proxy_loop core;
    struct udp_flow *buckets[UDP_PROXY_BUCKETS];
    struct udp_flow *open, *closed;
    int flow_count;
    time_t last_sweep;
    unsigned char buffer[UDP_PROXY_BUFFER];
};

static struct proxy_loop *udp_loops[PROXY_LOOPS_MAX];
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
    epoll_ctl(loop->core.epoll, EPOLL_CTL_DEL, f->fd, NULL);
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
        || epoll_ctl(loop->core.epoll, EPOLL_CTL_ADD, f->fd, &event) != 0) {
        close(f->fd);
        free(f);
        return NULL;
    }
    f->kind = PROXY_TAG_SOCKET;
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
    for (struct proxy_removal *removal = proxy_loop_take_removals(&loop->core), *next; removal; removal = next) {
        next = removal->next;
        struct berth_udp_listener *listener = removal->listener;
        epoll_ctl(loop->core.epoll, EPOLL_CTL_DEL, listener->fd, NULL);
        for (struct udp_flow *f = loop->open, *following; f; f = following) {
            following = f->next;
            if (f->listener == listener) udp_flow_close(loop, f);
        }
        proxy_drop_done(removal);
    }
}

static void *udp_loop_run(void *argument) {
    struct udp_loop *loop = argument;
    struct epoll_event events[64];
    for (;;) {
        // With flows open, wake each second to end the idle ones; else sleep until traffic.
        int count = epoll_wait(loop->core.epoll, events, 64, loop->flow_count > 0 ? 1000 : -1);
        int woken = 0;
        for (int i = 0; i < count; i++) {
            enum proxy_tag *kind = events[i].data.ptr;
            if (*kind == PROXY_TAG_WAKE) woken = 1;
            else if (*kind == PROXY_TAG_LISTENER) udp_listener_readable(loop, (struct berth_udp_listener *)kind);
            else udp_flow_readable(loop, (struct udp_flow *)kind);
        }
        if (woken) udp_drop_removed(loop);
        if (loop->flow_count > 0) udp_sweep(loop);
        udp_free_closed(loop);
    }
    return NULL;
}

static void udp_start_loops(void) {
    udp_loop_count = proxy_loops_start(udp_loops, sizeof(struct udp_loop), udp_loop_run, "berth-udpproxy");
}

int berth_udp_proxy_listen(int fd, const struct sockaddr_in *target, int idle_seconds, struct berth_udp_listener **out) {
    pthread_once(&udp_loops_once, udp_start_loops);
    if (udp_loop_count == 0) return -EAGAIN;
    struct berth_udp_listener *listener = calloc(1, sizeof *listener);
    if (!listener) return -ENOMEM;
    listener->kind = PROXY_TAG_LISTENER;
    listener->fd = fd;
    listener->target = *target;
    listener->idle_seconds = idle_seconds < 1 ? 1 : idle_seconds;
    proxy_drop_init(&listener->drop);
    // A port's flows live on its listener's loop: no flow table is shared between threads.
    pthread_mutex_lock(&udp_assign_mutex);
    listener->loop = udp_loops[udp_next_loop++ % (unsigned)udp_loop_count];
    pthread_mutex_unlock(&udp_assign_mutex);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event event = { .events = EPOLLIN, .data.ptr = &listener->kind };
    if (epoll_ctl(listener->loop->epoll, EPOLL_CTL_ADD, fd, &event) != 0) {
        int code = errno;
        proxy_drop_destroy(&listener->drop);
        free(listener);
        return -code;
    }
    *out = listener;
    return 0;
}

void berth_udp_proxy_unlisten(struct berth_udp_listener *listener) {
    proxy_drop_everywhere(&listener->drop, listener, &listener->loop, 1);
    close(listener->fd);
    proxy_drop_destroy(&listener->drop);
    free(listener);
}

int berth_udp_proxy_loop_count(void) {
    pthread_once(&udp_loops_once, udp_start_loops);
    return udp_loop_count;
}
