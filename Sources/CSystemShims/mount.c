#define _GNU_SOURCE
#include "CSystemShims.h"

#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

int berth_mount(const char *source, const char *target, const char *fstype,
                unsigned long flags, const char *data) {
    return mount(source, target, fstype, flags, data);
}

int berth_umount2(const char *target, int flags) { return umount2(target, flags); }

int berth_pivot_root(const char *new_root, const char *put_old) {
    return (int)syscall(SYS_pivot_root, new_root, put_old);
}

int berth_mount_setattr(int dirfd, const char *path, unsigned int flags,
                        uint64_t attr_set, uint64_t attr_clr, uint64_t propagation) {
    struct mount_attr attr = {.attr_set = attr_set, .attr_clr = attr_clr,
                              .propagation = propagation};
    return (int)syscall(SYS_mount_setattr, dirfd, path, flags, &attr, sizeof(attr));
}

dev_t berth_makedev(unsigned int major, unsigned int minor) { return makedev(major, minor); }

long berth_filesystem_type(const char *path) {
    struct statfs fs;
    return statfs(path, &fs) == 0 ? (long)fs.f_type : 0;
}
