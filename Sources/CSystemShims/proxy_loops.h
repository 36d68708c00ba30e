// The loops both userland port proxies (proxy.c for TCP, udp_proxy.c for UDP) run on: a few
// threads, one per CPU up to four, each with an epoll set, and a wake eventfd through which
// a listener being unpublished is handed to the loops that serve it. Unpublishing waits until
// each of them has dropped it (and closed what came in by it), so the port is free on return.
#ifndef BERTH_PROXY_LOOPS_H
#define BERTH_PROXY_LOOPS_H

#include <pthread.h>
#include <stddef.h>

#define PROXY_LOOPS_MAX 4

// What epoll reports is one of these, told apart by the tag in its first field.
enum proxy_tag { PROXY_TAG_WAKE, PROXY_TAG_LISTENER, PROXY_TAG_SOCKET };

struct proxy_drop;

// A listener queued on one loop for removal.
struct proxy_removal {
    void *listener;
    struct proxy_drop *drop;
    struct proxy_removal *next;
};

// Part of a listener: how many loops have still to drop it.
struct proxy_drop {
    pthread_mutex_t mutex;
    pthread_cond_t dropped;
    int left;
    struct proxy_removal removals[PROXY_LOOPS_MAX];  // one for each loop's queue
};

// The first field of each proxy's own loop.
struct proxy_loop {
    enum proxy_tag wake_tag;    // the epoll tag of `wake`
    int epoll;
    int wake;                   // an eventfd: removals are queued
    pthread_mutex_t mutex;      // guards `removals`
    struct proxy_removal *removals;
};

// Starts the loops, each `loop_size` bytes (a proxy's loop, its proxy_loop first) and zeroed,
// running `run` with the loop as its argument on a thread called `name`. Returns how many
// started (0: none could).
int proxy_loops_start(struct proxy_loop **loops, size_t loop_size, void *(*run)(void *), const char *name);

void proxy_drop_init(struct proxy_drop *drop);
void proxy_drop_destroy(struct proxy_drop *drop);

// Hands `listener` to each of `count` loops for removal and waits until all have dropped it.
void proxy_drop_everywhere(struct proxy_drop *drop, void *listener, struct proxy_loop **loops, int count);

// On the loop, after the events at hand (which may still name them): the listeners handed to
// it since the last call. For each, once dropped, proxy_drop_done(removal).
struct proxy_removal *proxy_loop_take_removals(struct proxy_loop *loop);
// The listener may be freed from here on.
void proxy_drop_done(struct proxy_removal *removal);

#endif
