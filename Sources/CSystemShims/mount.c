#define _GNU_SOURCE
#include "CSystemShims.h"

#include <errno.h>
#include <fcntl.h>
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

int berth_mount_overlay(const char *target, const char *const lowers[], int lower_count,
                        const char *upper, const char *work) {
    // The new mount API takes each lower layer on its own ("lowerdir+", Linux 6.8), so deep
    // images are not bound by the one-page limit of mount(2)'s option string.
    int fs = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
    if (fs < 0) return -1;
    // Named "overlay" in /proc/mounts (and `df /` in the container), as mount(2) callers name it.
    int ok = syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", "overlay", 0) == 0;
    for (int i = 0; i < lower_count && ok; i++) {
        ok = syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir+", lowers[i], 0) == 0;
    }
    if (ok && upper) ok = syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) == 0;
    if (ok && work) ok = syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "workdir", work, 0) == 0;
    if (ok) ok = syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0;
    int mnt = ok ? (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0) : -1;
    int saved = errno;
    close(fs);
    if (mnt < 0) { errno = saved; return -1; }
    int moved = (int)syscall(SYS_move_mount, mnt, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH);
    saved = errno;
    close(mnt);
    errno = saved;
    return moved;
}
