// The TCP side of berthd's userland port proxy: a few epoll loops, shared by every published
// port, that accept connections and move each one's bytes to and from the container with
// splice (no copy through user space), both directions of a connection on one loop's thread.
// A published port costs no thread either: with hundreds of them, a thread set per port
// had made hundreds of idle threads.
// A connection costs no thread (making two threads per connection held the connection rate
// back), and a bulk transfer costs about two splices per pipe-full, as a blocking pump does.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "CSystemShims.h"

// One pipe-full per splice: 1 MiB (the default pipe-max-size) made the fewest calls per
// byte; smaller pipes and SPLICE_F_MORE measured slower.
#define PROXY_PIPE_SIZE (1 << 20)

// One direction of a connection: from → pipe → to.
struct half {
    int from, to;
    int pipe[2];
    size_t queued;      // bytes in the pipe
    int eof;            // `from` has ended
    int shut;           // `to`'s write side is shut down
};

// What epoll reports is one of these, told apart by their first field.
enum tag_kind { TAG_END, TAG_LISTENER, TAG_WAKE };

struct connection;
// One of a connection's two sockets.
struct end {
    enum tag_kind kind;
    struct connection *connection;
    int fd;
};

struct connection {
    struct end ends[2];                 // 0: the client, 1: the container
    struct half up, down;               // up: client → container, down: container → client
    int connecting, closed;
    struct berth_proxy_listener *listener;  // the published port it came in by
    struct connection *prev, *next;     // the loop's open connections
    struct connection *next_closed;     // freed after the events at hand
};

// A few loops (one per CPU, up to four) serve every published port of the daemon, so a
// port costs no thread: each listener is in every loop's epoll set (EPOLLEXCLUSIVE: one
// loop takes each new connection), and a connection stays on the loop that accepted it.
#define PROXY_MAX_LOOPS 4

struct removal {
    struct berth_proxy_listener *listener;
    struct removal *next;
};

struct berth_proxy_listener {
    enum tag_kind kind;
    int fd;
    struct sockaddr_in target;
    int loops_joined;
    // The loops that have not yet dropped it (and closed its connections); unlisten waits
    // for none to be left before it closes the socket and frees this.
    int loops_left;
    pthread_mutex_t mutex;
    pthread_cond_t dropped;
    struct removal removals[PROXY_MAX_LOOPS];  // one for each loop's queue
};

struct loop {
    enum tag_kind wake_kind;            // the tag of `wake`
    int epoll;
    int wake;                           // an eventfd: removals are queued
    struct connection *open, *closed;
    pthread_mutex_t mutex;              // guards `removals`
    struct removal *removals;
};

static struct loop loops[PROXY_MAX_LOOPS];
static int loop_count;
static pthread_once_t loops_once = PTHREAD_ONCE_INIT;

static void connection_close(struct loop *loop, struct connection *c) {
    if (c->closed) return;
    c->closed = 1;
    // Out of the epoll set first: a close alone leaves it only once no other process holds
    // the socket, and a child forked meanwhile (berthd spawns shims) holds it until its exec,
    // so epoll could still report the freed connection.
    for (int i = 0; i < 2; i++) {
        epoll_ctl(loop->epoll, EPOLL_CTL_DEL, c->ends[i].fd, NULL);
        close(c->ends[i].fd);
    }
    close(c->up.pipe[0]);
    close(c->up.pipe[1]);
    close(c->down.pipe[0]);
    close(c->down.pipe[1]);
    if (c->prev) c->prev->next = c->next; else loop->open = c->next;
    if (c->next) c->next->prev = c->prev;
    c->next_closed = loop->closed;
    loop->closed = c;
}

// Moves what can move now: the pipe's bytes out, then more in, until a side would block.
// Returns -1 when the connection failed (reset, or the other side gone).
static int half_pump(struct half *h) {
    for (;;) {
        if (h->queued > 0) {
            ssize_t n = splice(h->pipe[0], NULL, h->to, NULL, h->queued, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (n > 0) { h->queued -= (size_t)n; continue; }
            if (n < 0 && errno == EINTR) continue;
            return n < 0 && errno == EAGAIN ? 0 : -1;
        }
        if (h->eof) {
            // Half-close, as docker-proxy does: the other direction goes on.
            if (!h->shut) { shutdown(h->to, SHUT_WR); h->shut = 1; }
            return 0;
        }
        ssize_t n = splice(h->from, NULL, h->pipe[1], NULL, PROXY_PIPE_SIZE, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0) { h->queued = (size_t)n; continue; }
        if (n == 0) { h->eof = 1; continue; }
        if (errno == EINTR) continue;
        return errno == EAGAIN ? 0 : -1;
    }
}

static int open_pipe(int fds[2]) {
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return -1;
    fcntl(fds[1], F_SETPIPE_SZ, PROXY_PIPE_SIZE);   // a smaller pipe still works, with more calls
    return 0;
}

// A new client: its connection to the container starts (non-blocking), and both sockets
// join the loop, edge-triggered, so no interest ever has to change.
static void connection_open(struct loop *loop, int client, struct berth_proxy_listener *listener) {
    const struct sockaddr_in *target = &listener->target;
    struct connection *c = calloc(1, sizeof *c);
    int upstream = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (!c || upstream < 0 || open_pipe(c->up.pipe) != 0) goto failed;
    if (open_pipe(c->down.pipe) != 0) {
        close(c->up.pipe[0]);
        close(c->up.pipe[1]);
        goto failed;
    }
    int one = 1;
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(upstream, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->ends[0] = (struct end){ TAG_END, c, client };
    c->ends[1] = (struct end){ TAG_END, c, upstream };
    c->listener = listener;
    c->up.from = client;
    c->up.to = upstream;
    c->down.from = upstream;
    c->down.to = client;
    c->next = loop->open;
    if (loop->open) loop->open->prev = c;
    loop->open = c;
    int connected = connect(upstream, (const struct sockaddr *)target, sizeof *target) == 0;
    int usable = connected || errno == EINPROGRESS;
    c->connecting = !connected;
    for (int i = 0; i < 2; i++) {
        struct epoll_event event = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = &c->ends[i] };
        if (epoll_ctl(loop->epoll, EPOLL_CTL_ADD, c->ends[i].fd, &event) != 0) usable = 0;
    }
    if (!usable) connection_close(loop, c);
    return;
failed:
    if (upstream >= 0) close(upstream);
    close(client);
    free(c);
}

static void accept_all(struct loop *loop, struct berth_proxy_listener *listener) {
    for (;;) {
        int client = accept4(listener->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (client >= 0) { connection_open(loop, client, listener); continue; }
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE) {
            // Out of descriptors: the listener stays readable; do not spin on it.
            struct timespec pause = { 0, 10 * 1000 * 1000 };
            nanosleep(&pause, NULL);
        }
        return;
    }
}

static void connection_event(struct loop *loop, struct end *end, uint32_t events) {
    struct connection *c = end->connection;
    if (c->closed) return;
    int failed = 0;
    if (c->connecting) {
        if (end != &c->ends[1]) return;     // the client waits until the container answers
        int error = 0;
        socklen_t length = sizeof error;
        getsockopt(end->fd, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error == EINPROGRESS || error == EALREADY) return;
        if (error != 0) { connection_close(loop, c); return; }
        c->connecting = 0;
        // Edges that came while connecting are spent: both directions start now.
        failed = half_pump(&c->up) < 0 || half_pump(&c->down) < 0;
    } else {
        struct half *reads = end == &c->ends[0] ? &c->up : &c->down;     // this socket is its `from`
        struct half *writes = end == &c->ends[0] ? &c->down : &c->up;    // this socket is its `to`
        if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) failed = half_pump(reads) < 0;
        if (!failed && (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))) failed = half_pump(writes) < 0;
    }
    if (failed || (c->up.shut && c->down.shut)) connection_close(loop, c);
}

static void free_closed(struct loop *loop) {
    while (loop->closed) {
        struct connection *next = loop->closed->next_closed;
        free(loop->closed);
        loop->closed = next;
    }
}

// The listeners being unpublished: out of this loop's set, their connections closed, and
// their unlisten told. Called after the events at hand, which may still name them.
static void drop_removed(struct loop *loop) {
    uint64_t count;
    while (read(loop->wake, &count, sizeof count) > 0) {}
    pthread_mutex_lock(&loop->mutex);
    struct removal *removals = loop->removals;
    loop->removals = NULL;
    pthread_mutex_unlock(&loop->mutex);
    while (removals) {
        struct removal *next = removals->next;
        struct berth_proxy_listener *listener = removals->listener;
        epoll_ctl(loop->epoll, EPOLL_CTL_DEL, listener->fd, NULL);
        for (struct connection *c = loop->open, *following; c; c = following) {
            following = c->next;
            if (c->listener == listener) connection_close(loop, c);
        }
        pthread_mutex_lock(&listener->mutex);
        listener->loops_left -= 1;
        pthread_cond_signal(&listener->dropped);
        pthread_mutex_unlock(&listener->mutex);  // the listener may be gone from here on
        removals = next;
    }
}

static void *loop_run(void *argument) {
    struct loop *loop = argument;
    struct epoll_event events[64];
    for (;;) {
        int count = epoll_wait(loop->epoll, events, 64, -1);
        if (count < 0) continue;    // EINTR; the set itself cannot fail
        int woken = 0;
        for (int i = 0; i < count; i++) {
            enum tag_kind *kind = events[i].data.ptr;
            if (*kind == TAG_WAKE) woken = 1;
            else if (*kind == TAG_LISTENER) accept_all(loop, (struct berth_proxy_listener *)kind);
            else connection_event(loop, (struct end *)kind, events[i].events);
        }
        if (woken) drop_removed(loop);
        free_closed(loop);
    }
    return NULL;
}

static void start_loops(void) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int wanted = cpus < 1 ? 1 : cpus > PROXY_MAX_LOOPS ? PROXY_MAX_LOOPS : (int)cpus;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, 256 * 1024);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    for (int i = 0; i < wanted; i++) {
        struct loop *loop = &loops[loop_count];
        loop->wake_kind = TAG_WAKE;
        loop->epoll = epoll_create1(EPOLL_CLOEXEC);
        loop->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        pthread_mutex_init(&loop->mutex, NULL);
        struct epoll_event event = { .events = EPOLLIN, .data.ptr = &loop->wake_kind };
        pthread_t thread;
        if (loop->epoll < 0 || loop->wake < 0 || epoll_ctl(loop->epoll, EPOLL_CTL_ADD, loop->wake, &event) != 0
            || pthread_create(&thread, &attributes, loop_run, loop) != 0) {
            if (loop->epoll >= 0) close(loop->epoll);
            if (loop->wake >= 0) close(loop->wake);
            break;
        }
        pthread_setname_np(thread, "berth-proxy");
        loop_count += 1;
    }
    pthread_attr_destroy(&attributes);
}

// Asks the first `joined` loops to drop the listener and waits until they all have.
static void drop_everywhere(struct berth_proxy_listener *listener, int joined) {
    pthread_mutex_lock(&listener->mutex);
    listener->loops_left = joined;
    pthread_mutex_unlock(&listener->mutex);
    for (int i = 0; i < joined; i++) {
        struct removal *removal = &listener->removals[i];
        removal->listener = listener;
        pthread_mutex_lock(&loops[i].mutex);
        removal->next = loops[i].removals;
        loops[i].removals = removal;
        pthread_mutex_unlock(&loops[i].mutex);
        uint64_t one = 1;
        if (write(loops[i].wake, &one, sizeof one) < 0) {}    // only EAGAIN: a wake is pending anyway
    }
    pthread_mutex_lock(&listener->mutex);
    while (listener->loops_left > 0) pthread_cond_wait(&listener->dropped, &listener->mutex);
    pthread_mutex_unlock(&listener->mutex);
}

int berth_proxy_listen(int fd, const struct sockaddr_in *target, struct berth_proxy_listener **out) {
    pthread_once(&loops_once, start_loops);
    if (loop_count == 0) return -EAGAIN;
    struct berth_proxy_listener *listener = calloc(1, sizeof *listener);
    if (!listener) return -ENOMEM;
    listener->kind = TAG_LISTENER;
    listener->fd = fd;
    listener->target = *target;
    pthread_mutex_init(&listener->mutex, NULL);
    pthread_cond_init(&listener->dropped, NULL);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event event = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &listener->kind };
    for (int i = 0; i < loop_count; i++) {
        if (epoll_ctl(loops[i].epoll, EPOLL_CTL_ADD, fd, &event) != 0) {
            int code = errno;
            drop_everywhere(listener, i);
            pthread_mutex_destroy(&listener->mutex);
            pthread_cond_destroy(&listener->dropped);
            free(listener);
            return -code;
        }
        listener->loops_joined = i + 1;
    }
    *out = listener;
    return 0;
}

void berth_proxy_unlisten(struct berth_proxy_listener *listener) {
    drop_everywhere(listener, listener->loops_joined);
    close(listener->fd);
    pthread_mutex_destroy(&listener->mutex);
    pthread_cond_destroy(&listener->dropped);
    free(listener);
}

int berth_proxy_loop_count(void) {
    pthread_once(&loops_once, start_loops);
    return loop_count;
}
