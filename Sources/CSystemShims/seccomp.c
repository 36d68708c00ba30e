#define _GNU_SOURCE
#include "CSystemShims.h"

#include <errno.h>
#include <stddef.h>
#include <seccomp.h>
#include <sys/prctl.h>

uint32_t berth_seccomp_action(int kind, uint32_t data) {
    switch (kind) {
    case BERTH_SCMP_KILL_THREAD: return SCMP_ACT_KILL_THREAD;
    case BERTH_SCMP_KILL_PROCESS: return SCMP_ACT_KILL_PROCESS;
    case BERTH_SCMP_TRAP: return SCMP_ACT_TRAP;
    case BERTH_SCMP_ERRNO: return SCMP_ACT_ERRNO(data);
    case BERTH_SCMP_TRACE: return SCMP_ACT_TRACE(data);
    case BERTH_SCMP_LOG: return SCMP_ACT_LOG;
    case BERTH_SCMP_NOTIFY: return SCMP_ACT_NOTIFY;
    default: return SCMP_ACT_ALLOW;
    }
}

void *berth_seccomp_new(uint32_t default_action) {
    scmp_filter_ctx ctx = seccomp_init(default_action);
    if (!ctx) return NULL;
    // no_new_privs is the spec's decision (process.noNewPrivileges), not libseccomp's.
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    // A call made under an architecture the filter does not name ends the process.
    seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 5)
    // A binary tree of syscall numbers instead of a list: the kernel loads Docker's default
    // profile in a third of the time (its per-syscall action cache is worked out by running
    // the filter once for every syscall number), and each filtered call takes fewer steps.
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
#endif
    return ctx;
}

void berth_seccomp_free(void *filter) { seccomp_release((scmp_filter_ctx)filter); }

int berth_seccomp_add_arch(void *filter, const char *arch) {
    uint32_t token = seccomp_arch_resolve_name(arch);
    if (token == 0) return -EINVAL;
    int rc = seccomp_arch_add((scmp_filter_ctx)filter, token);
    return rc == -EEXIST ? 0 : rc;
}

int berth_seccomp_add_rule(void *filter, uint32_t action, const char *syscall,
                           const struct berth_seccomp_arg *args, unsigned int arg_count) {
    int nr = seccomp_syscall_resolve_name(syscall);
    if (nr == __NR_SCMP_ERROR) return 1;
    if (arg_count > 6) return -EINVAL;
    struct scmp_arg_cmp cmps[6];
    for (unsigned int i = 0; i < arg_count; i++) {
        cmps[i].arg = args[i].index;
        cmps[i].op = (enum scmp_compare)args[i].op;
        cmps[i].datum_a = args[i].value;
        cmps[i].datum_b = args[i].value_two;
    }
    int rc = seccomp_rule_add_array((scmp_filter_ctx)filter, action, nr, arg_count, cmps);
    // libseccomp refuses a rule equal to the default action; the filter means the same without it.
    return rc == -EACCES ? 0 : rc;
}

int berth_seccomp_load(void *filter) { return seccomp_load((scmp_filter_ctx)filter); }
int berth_seccomp_export_bpf(void *filter, int fd) { return seccomp_export_bpf((scmp_filter_ctx)filter, fd); }
int berth_seccomp_mode(void) { return prctl(PR_GET_SECCOMP, 0, 0, 0, 0); }
