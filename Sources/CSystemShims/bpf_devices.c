#define _GNU_SOURCE
#include "CSystemShims.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long bpf(int cmd, union bpf_attr *attr) {
    return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

int berth_bpf_load_device_program(const uint64_t *instructions, unsigned int count,
                                  char *log, unsigned int log_size) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)instructions;
    attr.insn_cnt = count;
    attr.license = (uint64_t)(uintptr_t)"Apache";
    if (log && log_size > 0) {
        log[0] = 0;
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = log_size;
        attr.log_level = 1;
    }
    return (int)bpf(BPF_PROG_LOAD, &attr);
}

int berth_bpf_replace_device_program(int cgroup_fd, int program_fd) {
    // Remember what is attached now, attach the new program, then detach the old ones: the
    // cgroup is never without a filter in between.
    uint32_t ids[64];
    union bpf_attr query;
    memset(&query, 0, sizeof(query));
    query.query.target_fd = cgroup_fd;
    query.query.attach_type = BPF_CGROUP_DEVICE;
    query.query.prog_ids = (uint64_t)(uintptr_t)ids;
    query.query.prog_cnt = 64;
    uint32_t old_count = 0;
    if (bpf(BPF_PROG_QUERY, &query) == 0) old_count = query.query.prog_cnt;

    union bpf_attr attach;
    memset(&attach, 0, sizeof(attach));
    attach.target_fd = cgroup_fd;
    attach.attach_bpf_fd = program_fd;
    attach.attach_type = BPF_CGROUP_DEVICE;
    attach.attach_flags = BPF_F_ALLOW_MULTI;
    if (bpf(BPF_PROG_ATTACH, &attach) != 0) return -1;

    for (uint32_t i = 0; i < old_count; i++) {
        union bpf_attr get;
        memset(&get, 0, sizeof(get));
        get.prog_id = ids[i];
        int old_fd = (int)bpf(BPF_PROG_GET_FD_BY_ID, &get);
        if (old_fd < 0) continue;
        union bpf_attr detach;
        memset(&detach, 0, sizeof(detach));
        detach.target_fd = cgroup_fd;
        detach.attach_bpf_fd = old_fd;
        detach.attach_type = BPF_CGROUP_DEVICE;
        bpf(BPF_PROG_DETACH, &detach);
        close(old_fd);
    }
    return 0;
}

int berth_bpf_attached_device_programs(int cgroup_fd) {
    union bpf_attr query;
    memset(&query, 0, sizeof(query));
    query.query.target_fd = cgroup_fd;
    query.query.attach_type = BPF_CGROUP_DEVICE;
    if (bpf(BPF_PROG_QUERY, &query) != 0) return -1;
    return (int)query.query.prog_cnt;
}
