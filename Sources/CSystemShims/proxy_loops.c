#define _GNU_SOURCE
#include "proxy_loops.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

int proxy_loops_start(struct proxy_loop **loops, size_t loop_size, void *(*run)(void *), const char *name) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int wanted = cpus < 1 ? 1 : cpus > PROXY_LOOPS_MAX ? PROXY_LOOPS_MAX : (int)cpus;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, 256 * 1024);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    int started = 0;
    for (; started < wanted; started++) {
        struct proxy_loop *loop = calloc(1, loop_size);
        if (!loop) break;
        loop->wake_tag = PROXY_TAG_WAKE;
        loop->epoll = epoll_create1(EPOLL_CLOEXEC);
        loop->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        pthread_mutex_init(&loop->mutex, NULL);
        struct epoll_event event = { .events = EPOLLIN, .data.ptr = &loop->wake_tag };
        pthread_t thread;
        if (loop->epoll < 0 || loop->wake < 0 || epoll_ctl(loop->epoll, EPOLL_CTL_ADD, loop->wake, &event) != 0
            || pthread_create(&thread, &attributes, run, loop) != 0) {
            if (loop->epoll >= 0) close(loop->epoll);
            if (loop->wake >= 0) close(loop->wake);
            pthread_mutex_destroy(&loop->mutex);
            free(loop);
            break;
        }
        pthread_setname_np(thread, name);
        loops[started] = loop;
    }
    pthread_attr_destroy(&attributes);
    return started;
}

void proxy_drop_init(struct proxy_drop *drop) {
    pthread_mutex_init(&drop->mutex, NULL);
    pthread_cond_init(&drop->dropped, NULL);
    drop->left = 0;
}

void proxy_drop_destroy(struct proxy_drop *drop) {
    pthread_mutex_destroy(&drop->mutex);
    pthread_cond_destroy(&drop->dropped);
}

void proxy_drop_everywhere(struct proxy_drop *drop, void *listener, struct proxy_loop **loops, int count) {
    pthread_mutex_lock(&drop->mutex);
    drop->left = count;
    pthread_mutex_unlock(&drop->mutex);
    for (int i = 0; i < count; i++) {
        struct proxy_removal *removal = &drop->removals[i];
        removal->listener = listener;
        removal->drop = drop;
        pthread_mutex_lock(&loops[i]->mutex);
        removal->next = loops[i]->removals;
        loops[i]->removals = removal;
        pthread_mutex_unlock(&loops[i]->mutex);
        uint64_t one = 1;
        if (write(loops[i]->wake, &one, sizeof one) < 0) {}    // only EAGAIN: a wake is pending anyway
    }
    pthread_mutex_lock(&drop->mutex);
    while (drop->left > 0) pthread_cond_wait(&drop->dropped, &drop->mutex);
    pthread_mutex_unlock(&drop->mutex);
}

struct proxy_removal *proxy_loop_take_removals(struct proxy_loop *loop) {
    uint64_t count;
    while (read(loop->wake, &count, sizeof count) > 0) {}
    pthread_mutex_lock(&loop->mutex);
    struct proxy_removal *removals = loop->removals;
    loop->removals = NULL;
    pthread_mutex_unlock(&loop->mutex);
    return removals;
}

void proxy_drop_done(struct proxy_removal *removal) {
    struct proxy_drop *drop = removal->drop;
    pthread_mutex_lock(&drop->mutex);
    drop->left -= 1;
    pthread_cond_signal(&drop->dropped);
    pthread_mutex_unlock(&drop->mutex);
}
