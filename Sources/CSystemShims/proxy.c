// The TCP side of berthd's userland port proxy: an epoll loop that accepts connections on a
// published port and moves each one's bytes to and from the container with splice (no copy
// through user space), both directions of every connection on the loop's one thread.
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
// What epoll reports: one of a connection's two sockets.
struct end {
    struct connection *connection;
    int fd;
};

struct connection {
    struct end ends[2];                 // 0: the client, 1: the container
    struct half up, down;               // up: client → container, down: container → client
    int connecting, closed;
    struct connection *prev, *next;     // the loop's open connections
    struct connection *next_closed;     // freed after the events at hand
};

struct loop {
    int epoll;
    struct connection *open, *closed;
};

static char listener_tag, stop_tag;

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
static void connection_open(struct loop *loop, int client, const struct sockaddr_in *target) {
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
    c->ends[0] = (struct end){ c, client };
    c->ends[1] = (struct end){ c, upstream };
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

static void accept_all(struct loop *loop, int listener, const struct sockaddr_in *target) {
    for (;;) {
        int client = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (client >= 0) { connection_open(loop, client, target); continue; }
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

int berth_proxy_serve(int listener, int stop, const struct sockaddr_in *target) {
    struct loop loop = { .epoll = epoll_create1(EPOLL_CLOEXEC) };
    if (loop.epoll < 0) return -errno;
    fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK);
    // Several loops may serve one listener: each connection is accepted by one of them.
    struct epoll_event event = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &listener_tag };
    struct epoll_event stopping = { .events = EPOLLIN, .data.ptr = &stop_tag };
    if (epoll_ctl(loop.epoll, EPOLL_CTL_ADD, listener, &event) != 0 || epoll_ctl(loop.epoll, EPOLL_CTL_ADD, stop, &stopping) != 0) {
        int code = errno;
        close(loop.epoll);
        return -code;
    }
    int stopped = 0;
    struct epoll_event events[64];
    while (!stopped) {
        int count = epoll_wait(loop.epoll, events, 64, -1);
        if (count < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < count; i++) {
            void *tag = events[i].data.ptr;
            if (tag == &stop_tag) stopped = 1;      // never read: every loop must see it
            else if (tag == &listener_tag) accept_all(&loop, listener, target);
            else connection_event(&loop, tag, events[i].events);
        }
        while (loop.closed) {
            struct connection *next = loop.closed->next_closed;
            free(loop.closed);
            loop.closed = next;
        }
    }
    // Stopped (the container's port is unpublished): its connections end with it.
    while (loop.open) connection_close(&loop, loop.open);
    while (loop.closed) {
        struct connection *next = loop.closed->next_closed;
        free(loop.closed);
        loop.closed = next;
    }
    close(loop.epoll);
    return 0;
}
