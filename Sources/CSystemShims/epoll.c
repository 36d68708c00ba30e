#include "CSystemShims.h"

#include <sys/epoll.h>

// epoll_event is packed on x86_64, which Swift does not import well: these take and give
// plain descriptors.

int berth_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int berth_epoll_watch(int epfd, int fd) {
    struct epoll_event event = {.events = EPOLLIN, .data.fd = fd};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
}

int berth_epoll_unwatch(int epfd, int fd) { return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL); }

int berth_epoll_wait(int epfd, int *fds, int capacity, int timeout_ms) {
    struct epoll_event events[64];
    if (capacity > 64) capacity = 64;
    int count = epoll_wait(epfd, events, capacity, timeout_ms);
    for (int i = 0; i < count; i++) fds[i] = events[i].data.fd;
    return count;
}
