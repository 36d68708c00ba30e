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
#include <unistd.h>

#include "CSystemShims.h"
#include "proxy_loops.h"

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

struct connection;
// One of a connection's two sockets (PROXY_TAG_SOCKET).
struct end {
    enum proxy_tag kind;
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

// The loops (proxy_loops.h) serve every published port of the daemon, so a port costs no
// thread: each listener is in every loop's epoll set (EPOLLEXCLUSIVE: one loop takes each new
// connection), and a connection stays on the loop that accepted it.
struct berth_proxy_listener {
    enum proxy_tag kind;                // PROXY_TAG_LISTENER
    int fd;
    struct sockaddr_in target;
    int loops_joined;
    struct proxy_drop drop;             // unlisten waits for every loop to drop it
};

struct loop {
    struct proxy_loop core;
    struct connection *open, *closed;
};

static struct proxy_loop *loops[PROXY_LOOPS_MAX];
static int loop_count;
static pthread_once_t loops_once = PTHREAD_ONCE_INIT;

static void connection_close(struct loop *loop, struct connection *c) {
    if (c->closed) return;
    c->closed = 1;
    // Out of the epoll set first: a close alone leaves it only once no other process holds
    // the socket, and a child forked meanwhile (berthd spawns shims) holds it until its exec,
    // so epoll could still report the freed connection.
    for (int i = 0; i < 2; i++) {
        epoll_ctl(loop->core.epoll, EPOLL_CTL_DEL, c->ends[i].fd, NULL);
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
    c->ends[0] = (struct end){ PROXY_TAG_SOCKET, c, client };
    c->ends[1] = (struct end){ PROXY_TAG_SOCKET, c, upstream };
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
        if (epoll_ctl(loop->core.epoll, EPOLL_CTL_ADD, c->ends[i].fd, &event) != 0) usable = 0;
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
    for (struct proxy_removal *removal = proxy_loop_take_removals(&loop->core), *next; removal; removal = next) {
        next = removal->next;
        struct berth_proxy_listener *listener = removal->listener;
        epoll_ctl(loop->core.epoll, EPOLL_CTL_DEL, listener->fd, NULL);
        for (struct connection *c = loop->open, *following; c; c = following) {
            following = c->next;
            if (c->listener == listener) connection_close(loop, c);
        }
        proxy_drop_done(removal);
    }
}

static void *loop_run(void *argument) {
    struct loop *loop = argument;
    struct epoll_event events[64];
    for (;;) {
        int count = epoll_wait(loop->core.epoll, events, 64, -1);
        if (count < 0) continue;    // EINTR; the set itself cannot fail
        int woken = 0;
        for (int i = 0; i < count; i++) {
            enum proxy_tag *kind = events[i].data.ptr;
            if (*kind == PROXY_TAG_WAKE) woken = 1;
            else if (*kind == PROXY_TAG_LISTENER) accept_all(loop, (struct berth_proxy_listener *)kind);
            else connection_event(loop, (struct end *)kind, events[i].events);
        }
        if (woken) drop_removed(loop);
        free_closed(loop);
    }
    return NULL;
}

static void start_loops(void) {
    loop_count = proxy_loops_start(loops, sizeof(struct loop), loop_run, "berth-proxy");
}

int berth_proxy_listen(int fd, const struct sockaddr_in *target, struct berth_proxy_listener **out) {
    pthread_once(&loops_once, start_loops);
    if (loop_count == 0) return -EAGAIN;
    struct berth_proxy_listener *listener = calloc(1, sizeof *listener);
    if (!listener) return -ENOMEM;
    listener->kind = PROXY_TAG_LISTENER;
    listener->fd = fd;
    listener->target = *target;
    proxy_drop_init(&listener->drop);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event event = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &listener->kind };
    for (int i = 0; i < loop_count; i++) {
        if (epoll_ctl(loops[i]->epoll, EPOLL_CTL_ADD, fd, &event) != 0) {
            int code = errno;
            proxy_drop_everywhere(&listener->drop, listener, loops, i);
            proxy_drop_destroy(&listener->drop);
            free(listener);
            return -code;
        }
        listener->loops_joined = i + 1;
    }
    *out = listener;
    return 0;
}

void berth_proxy_unlisten(struct berth_proxy_listener *listener) {
    proxy_drop_everywhere(&listener->drop, listener, loops, listener->loops_joined);
    close(listener->fd);
    proxy_drop_destroy(&listener->drop);
    free(listener);
}

int berth_proxy_loop_count(void) {
    pthread_once(&loops_once, start_loops);
    return loop_count;
}
