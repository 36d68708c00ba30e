// A compiled seccomp BPF program, loaded without libseccomp (the runtime caches programs, so
// a container start need not compile the same profile again).
#define _GNU_SOURCE
#include "CSystemShims.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int berth_seccomp_export_program(void *filter, uint8_t **program, size_t *length) {
    int fd = memfd_create("berth-seccomp", MFD_CLOEXEC);
    if (fd < 0) return -errno;
    int rc = berth_seccomp_export_bpf(filter, fd);
    off_t size = rc == 0 ? lseek(fd, 0, SEEK_END) : -1;
    if (rc != 0 || size <= 0) {
        close(fd);
        return rc != 0 ? rc : -EIO;
    }
    uint8_t *bytes = malloc((size_t)size);
    ssize_t got = bytes ? pread(fd, bytes, (size_t)size, 0) : -1;
    close(fd);
    if (got != size) {
        free(bytes);
        return -EIO;
    }
    *program = bytes;
    *length = (size_t)size;
    return 0;
}
