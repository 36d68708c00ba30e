// `docker exec` without a runtime process: the shim forks a helper that enters the running
// container (its v1 cgroups, then its namespaces, the mount namespace last), and the helper
// clones the exec's process as the shim's own child (CLONE_PARENT) straight into the
// container's cgroup2 cgroup (CLONE_INTO_CGROUP), and that process takes on the exec's
// identity and privileges and execs. Same steps, in the same order, as berth-runtime's exec
// (BerthRuntime's InitStage and ProcessSetup), whose error texts it keeps.
//
// The plan comes from berthd as NUL-terminated "key=value" entries (see ExecPlan in
// BerthEngine). Both processes report on `report` (close-on-exec): the helper "pid N", and
// either of them "error MESSAGE", each record ending in a NUL. The read end sees EOF once the
// helper has exited and the process has exec'd (or died).
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "CBerthShim.h"

struct berth_exec_rlimit {
    int resource;
    struct rlimit value;
};

struct berth_exec_plan {
    char **argv;          // NULL-terminated
    char **envp;          // NULL-terminated, with room for HOME
    int env_count;
    const char *cwd;
    uid_t uid;
    gid_t gid;
    gid_t *groups;
    int group_count;
    mode_t umask;
    uint64_t bounding, effective, permitted, inheritable, ambient;
    int no_new_privileges;
    struct berth_exec_rlimit *rlimits;
    int rlimit_count;
    struct sock_filter *seccomp;   // NULL: no filter
    size_t seccomp_length;         // in instructions
    const char **cgroup_files;
    int cgroup_file_count;
    int last_capability;
    char *storage;                 // the plan's bytes, which the strings above point into
};

// ---- parsing (in the shim, before any fork) ----

static const char *rlimit_names[] = {
    "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS",
    "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS",
    "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
};
enum { RLIMIT_NAME_COUNT = sizeof(rlimit_names) / sizeof(rlimit_names[0]) };

static int rlimit_resource(const char *name) {
    for (int i = 0; i < RLIMIT_NAME_COUNT; i++) {
        if (strcmp(rlimit_names[i], name) == 0) return i;
    }
    return -1;
}

static int parse_u64(const char *text, uint64_t *value) {
    char *end;
    errno = 0;
    unsigned long long parsed = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != 0 || text[0] == '-') return -1;
    *value = parsed;
    return 0;
}

// Splits "a,b,c" in place into up to `count` numbers; returns how many, or -1.
static int parse_u64_list(char *text, uint64_t *values, int count) {
    int n = 0;
    if (*text == 0) return 0;
    for (char *field = text;; ) {
        char *comma = strchr(field, ',');
        if (comma) *comma = 0;
        if (n == count || parse_u64(field, &values[n]) != 0) return -1;
        n++;
        if (!comma) return n;
        field = comma + 1;
    }
}

static int read_seccomp_program(struct berth_exec_plan *plan, const char *path, char *error, size_t error_size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(error, error_size, "open seccomp program %s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    plan->seccomp = malloc(size > 0 ? size : 1);
    ssize_t got = plan->seccomp ? read(fd, plan->seccomp, size) : -1;
    close(fd);
    if (got < 0 || (size_t)got != size || size == 0 || size % sizeof(struct sock_filter) != 0) {
        snprintf(error, error_size, "seccomp program %s is not a BPF program", path);
        return -1;
    }
    plan->seccomp_length = size / sizeof(struct sock_filter);
    return 0;
}

// The kernel's, read once: it does not change while the shim runs.
static int last_capability(void) {
    static int last = -1;
    if (last < 0) last = berth_cap_last_cap();
    return last;
}

struct berth_exec_plan *berth_exec_plan_parse(const char *bytes, size_t length, char *error, size_t error_size) {
    struct berth_exec_plan *plan = calloc(1, sizeof(*plan));
    if (!plan) return NULL;
    plan->storage = malloc(length + 1);
    if (!plan->storage) goto oom;
    memcpy(plan->storage, bytes, length);
    plan->storage[length] = 0;
    plan->umask = 022;
    plan->last_capability = last_capability();
    // Every entry could be an argument or a variable: size the arrays by the entry count.
    int entries = 0;
    for (size_t i = 0; i < length; i++) entries += plan->storage[i] == 0;
    int argc = 0;
    plan->argv = calloc((size_t)entries + 1, sizeof(char *));
    plan->envp = calloc((size_t)entries + 2, sizeof(char *));
    plan->rlimits = calloc((size_t)entries + 1, sizeof(*plan->rlimits));
    plan->cgroup_files = calloc((size_t)entries + 1, sizeof(char *));
    if (!plan->argv || !plan->envp || !plan->rlimits || !plan->cgroup_files) goto oom;
    int have_caps = 0, have_user = 0;
    unsigned seen = 0;
    for (char *entry = plan->storage, *next; entry < plan->storage + length; entry = next) {
        next = entry + strlen(entry) + 1;   // before the entry is split at its '='
        char *equals = strchr(entry, '=');
        if (!equals) {
            snprintf(error, error_size, "exec plan: entry without a value: %.60s", entry);
            goto invalid;
        }
        *equals = 0;
        char *value = equals + 1;
        uint64_t numbers[5];
        // Each key but the repeated ones (arg, env, rlimit, cgroup) once only.
        static const char *singles[] = {"cwd", "user", "groups", "umask", "caps", "nnp", "seccomp"};
        for (int i = 0; i < (int)(sizeof(singles) / sizeof(singles[0])); i++) {
            if (strcmp(entry, singles[i]) != 0) continue;
            if (seen & (1u << i)) {
                snprintf(error, error_size, "exec plan: %s given twice", entry);
                goto invalid;
            }
            seen |= 1u << i;
        }
        if (strcmp(entry, "arg") == 0) {
            plan->argv[argc++] = value;
        } else if (strcmp(entry, "env") == 0) {
            plan->envp[plan->env_count++] = value;
        } else if (strcmp(entry, "cwd") == 0) {
            plan->cwd = value;
        } else if (strcmp(entry, "user") == 0) {
            if (parse_u64_list(value, numbers, 2) != 2 || numbers[0] > UINT32_MAX || numbers[1] > UINT32_MAX) goto bad_value;
            plan->uid = (uid_t)numbers[0];
            plan->gid = (gid_t)numbers[1];
            have_user = 1;
        } else if (strcmp(entry, "groups") == 0) {
            int count = 1;
            for (char *c = value; *c; c++) count += *c == ',';
            uint64_t *parsed = calloc((size_t)count, sizeof(uint64_t));
            plan->groups = calloc((size_t)count, sizeof(gid_t));
            if (!parsed || !plan->groups) {
                free(parsed);
                goto oom;
            }
            int n = parse_u64_list(value, parsed, count);
            for (int i = 0; i < n; i++) plan->groups[i] = (gid_t)parsed[i];
            free(parsed);
            if (n < 0) goto bad_value;
            plan->group_count = n;
        } else if (strcmp(entry, "umask") == 0) {
            if (parse_u64(value, &numbers[0]) != 0 || numbers[0] > 0777) goto bad_value;
            plan->umask = (mode_t)numbers[0];
        } else if (strcmp(entry, "caps") == 0) {
            if (parse_u64_list(value, numbers, 5) != 5) goto bad_value;
            plan->bounding = numbers[0];
            plan->effective = numbers[1];
            plan->permitted = numbers[2];
            plan->inheritable = numbers[3];
            plan->ambient = numbers[4];
            have_caps = 1;
        } else if (strcmp(entry, "nnp") == 0) {
            plan->no_new_privileges = strcmp(value, "1") == 0;
        } else if (strcmp(entry, "rlimit") == 0) {
            // NAME,SOFT,HARD
            char *comma = strchr(value, ',');
            if (!comma) goto bad_value;
            *comma = 0;
            int resource = rlimit_resource(value);
            if (resource < 0) {
                snprintf(error, error_size, "rlimit %.60s is not a known resource", value);
                goto invalid;
            }
            if (parse_u64_list(comma + 1, numbers, 2) != 2) goto bad_value;
            if (numbers[0] > numbers[1]) {
                snprintf(error, error_size, "rlimit %s: soft limit %llu is above the hard limit %llu", value,
                         (unsigned long long)numbers[0], (unsigned long long)numbers[1]);
                goto invalid;
            }
            struct berth_exec_rlimit *limit = &plan->rlimits[plan->rlimit_count++];
            limit->resource = resource;
            limit->value.rlim_cur = (rlim_t)numbers[0];
            limit->value.rlim_max = (rlim_t)numbers[1];
        } else if (strcmp(entry, "seccomp") == 0) {
            if (read_seccomp_program(plan, value, error, error_size) != 0) goto invalid;
        } else if (strcmp(entry, "cgroup") == 0) {
            plan->cgroup_files[plan->cgroup_file_count++] = value;
        } else {
            snprintf(error, error_size, "exec plan: unknown entry %.60s", entry);
            goto invalid;
        }
        continue;
    bad_value:
        snprintf(error, error_size, "exec plan: bad %s value %.60s", entry, value);
        goto invalid;
    }
    if (argc == 0 || !plan->cwd || plan->cwd[0] != '/' || !have_caps || !have_user) {
        snprintf(error, error_size, "exec plan: args, an absolute cwd, user and caps are required");
        goto invalid;
    }
    return plan;
oom:
    snprintf(error, error_size, "exec plan: out of memory");
invalid:
    berth_exec_plan_free(plan);
    return NULL;
}

void berth_exec_plan_free(struct berth_exec_plan *plan) {
    if (!plan) return;
    free(plan->argv);
    free(plan->envp);
    free(plan->groups);
    free(plan->rlimits);
    free(plan->seccomp);
    free(plan->cgroup_files);
    free(plan->storage);
    free(plan);
}

// ---- the forked processes ----

// Descriptors the helper and the process keep: stdio on 0-2, then these.
enum { REPORT_FD = 3, CONSOLE_FD = 4 };

static void report(const char *text) {
    size_t length = strlen(text) + 1;   // with its NUL
    while (length > 0) {
        ssize_t n = write(REPORT_FD, text, length);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        text += n;
        length -= (size_t)n;
    }
}

__attribute__((noreturn, format(printf, 1, 2))) static void fail(const char *format, ...) {
    char message[1024] = "error ";
    va_list args;
    va_start(args, format);
    vsnprintf(message + 6, sizeof(message) - 6, format, args);
    va_end(args);
    report(message);
    _exit(126);
}

// The container's namespaces, in the order they are joined: the user namespace first (the
// others belong to it), the mount namespace last (it changes what paths mean).
static const struct {
    const char *name;
    int type;
} namespace_order[] = {
    {"user", CLONE_NEWUSER}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}, {"net", CLONE_NEWNET},
    {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP}, {"mnt", CLONE_NEWNS},
};
_Static_assert(sizeof(namespace_order) / sizeof(namespace_order[0]) == BERTH_EXEC_NAMESPACES, "one descriptor per namespace");

int berth_exec_open_namespaces(pid_t init_pid, int fds[BERTH_EXEC_NAMESPACES], char *error, size_t error_size) {
    for (int i = 0; i < BERTH_EXEC_NAMESPACES; i++) fds[i] = -1;
    for (int i = 0; i < BERTH_EXEC_NAMESPACES; i++) {
        char theirs[64], ours[64];
        snprintf(theirs, sizeof(theirs), "/proc/%d/ns/%s", init_pid, namespace_order[i].name);
        snprintf(ours, sizeof(ours), "/proc/self/ns/%s", namespace_order[i].name);
        struct stat their_stat, our_stat;
        int fd = open(theirs, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &their_stat) != 0) {
            snprintf(error, error_size, "open %s: %s", theirs, strerror(errno));
            if (fd >= 0) close(fd);
            berth_exec_close_namespaces(fds);
            return -1;
        }
        // One the shim is in already (the user namespace, mostly) is not joined.
        if (stat(ours, &our_stat) == 0 && our_stat.st_ino == their_stat.st_ino && our_stat.st_dev == their_stat.st_dev) {
            close(fd);
            continue;
        }
        fds[i] = fd;
    }
    return 0;
}

void berth_exec_close_namespaces(int fds[BERTH_EXEC_NAMESPACES]) {
    for (int i = 0; i < BERTH_EXEC_NAMESPACES; i++) {
        if (fds[i] >= 0) close(fds[i]);
        fds[i] = -1;
    }
}

// Puts the given descriptors on 0..count-1 whatever their numbers were, and closes the rest.
static void arrange_descriptors(const int *fds, int count) {
    int moved[16];
    for (int i = 0; i < count; i++) {
        moved[i] = fds[i] < 0 ? -1 : fcntl(fds[i], F_DUPFD_CLOEXEC, 16);
        // Nowhere to report yet: the shim sees EOF without a record.
        if (fds[i] >= 0 && moved[i] < 0) _exit(126);
    }
    for (int i = 0; i < count; i++) {
        if (moved[i] < 0) {
            close(i);   // whatever of the shim's was there
            continue;
        }
        // stdio survives exec; the report and console descriptors must not.
        if (dup3(moved[i], i, i > 2 ? O_CLOEXEC : 0) < 0) _exit(126);
    }
    berth_close_fds_from(count);
}

static void write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) fail("open %s: %s", path, strerror(errno));
    if (write(fd, text, strlen(text)) < 0) fail("write %s: %s", path, strerror(errno));
    close(fd);
}

static void load_seccomp(const struct berth_exec_plan *plan) {
    int result = berth_seccomp_load_program(plan->seccomp, plan->seccomp_length * sizeof(struct sock_filter));
    if (result != 0) fail("seccomp: load filter: %s", strerror(-result));
}

// The terminal: a pty of the container's own devpts, its master sent to the shim, its slave
// the controlling terminal and stdio.
static void set_up_terminal(void) {
    if (setsid() < 0) fail("setsid: %s", strerror(errno));
    int master;
    char name[128];
    if (berth_openpty(&master, name, sizeof(name)) != 0) fail("open pty: %s", strerror(errno));
    int slave = open(name, O_RDWR | O_CLOEXEC);
    if (slave < 0) fail("open %s: %s", name, strerror(errno));
    if (berth_send_fd(CONSOLE_FD, master, "console") != 0) fail("send console fd: %s", strerror(errno));
    if (berth_set_controlling_tty(slave) != 0) fail("set controlling tty: %s", strerror(errno));
    for (int target = 0; target <= 2; target++) {
        if (dup2(slave, target) < 0) fail("dup2 console: %s", strerror(errno));
    }
    close(slave);
    close(master);
    close(CONSOLE_FD);
}

// As runc, before the switch to the user: the stdio (pty slave or the shim's pipes) is handed
// to that user, so a non-root process can reopen it (/dev/stdout, /dev/stdin) and owns its
// terminal. Only the uid changes; /dev/null is left alone; EINVAL (unmapped in a user
// namespace) and EPERM (a policy's refusal) leave a descriptor as it is.
static void give_stdio_to_user(uid_t uid) {
    struct stat null_device;
    bool have_null = stat("/dev/null", &null_device) == 0;
    for (int descriptor = 0; descriptor <= 2; descriptor++) {
        struct stat info;
        if (fstat(descriptor, &info) != 0) continue;
        if (S_ISCHR(info.st_mode) && have_null && info.st_rdev == null_device.st_rdev) continue;
        if (info.st_uid == uid) continue;
        if (fchown(descriptor, uid, info.st_gid) != 0 && errno != EINVAL && errno != EPERM) {
            fail("fchown stdio %d to %u: %s", descriptor, uid, strerror(errno));
        }
    }
}

static void switch_user(const struct berth_exec_plan *plan) {
    if (berth_set_keepcaps(1) != 0) fail("prctl(PR_SET_KEEPCAPS): %s", strerror(errno));
    if (berth_setgroups((size_t)plan->group_count, plan->groups) != 0) {
        // In a user namespace with setgroups denied, only an empty list is acceptable.
        if (!(errno == EPERM && plan->group_count == 0)) fail("setgroups: %s", strerror(errno));
    }
    if (berth_setresgid(plan->gid, plan->gid, plan->gid) != 0) fail("setresgid %u: %s", plan->gid, strerror(errno));
    if (berth_setresuid(plan->uid, plan->uid, plan->uid) != 0) fail("setresuid %u: %s", plan->uid, strerror(errno));
    if (berth_set_keepcaps(0) != 0) fail("prctl(PR_SET_KEEPCAPS): %s", strerror(errno));
}

static void set_capabilities(const struct berth_exec_plan *plan) {
    if (berth_capset(plan->effective, plan->permitted, plan->inheritable) != 0) fail("capset: %s", strerror(errno));
    if (berth_ambient_clear_all() != 0) fail("clear ambient capabilities: %s", strerror(errno));
    uint64_t raisable = plan->ambient & plan->permitted & plan->inheritable;
    for (int cap = 0; cap < 64; cap++) {
        if ((raisable & (1ULL << cap)) && berth_ambient_raise(cap) != 0) {
            fail("raise ambient capability %d: %s", cap, strerror(errno));
        }
    }
}

// Go's error texts (and so runc's and dockerd's) are lower case; the docker CLI matches on them.
static const char *lower_case_error(int error, char *buffer, size_t size) {
    snprintf(buffer, size, "%s", strerror(error));
    if (buffer[0] >= 'A' && buffer[0] <= 'Z') buffer[0] = (char)(buffer[0] - 'A' + 'a');
    return buffer;
}

static int is_executable_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

// args[0] through PATH (the process's own), inside the container.
static void resolve_executable(const struct berth_exec_plan *plan, char *path, size_t size) {
    const char *name = plan->argv[0];
    char reason[128];
    if (strchr(name, '/')) {
        struct stat st;
        if (stat(name, &st) != 0) fail("exec: \"%s\": stat %s: %s", name, name, lower_case_error(errno, reason, sizeof(reason)));
        if (S_ISDIR(st.st_mode) || access(name, X_OK) != 0) fail("exec: \"%s\": permission denied", name);
        snprintf(path, size, "%s", name);
        return;
    }
    const char *search = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (int i = 0; i < plan->env_count; i++) {
        if (strncmp(plan->envp[i], "PATH=", 5) == 0) search = plan->envp[i] + 5;
    }
    for (const char *start = search; *start; ) {
        const char *end = strchrnul(start, ':');
        if (end > start && snprintf(path, size, "%.*s/%s", (int)(end - start), start, name) < (int)size &&
            is_executable_file(path)) {
            return;
        }
        start = *end ? end + 1 : end;
    }
    fail("exec: \"%s\": executable file not found in $PATH", name);
}

// HOME from the container's /etc/passwd when the environment lacks it, as the runtime adds it.
static void add_home(struct berth_exec_plan *plan) {
    for (int i = 0; i < plan->env_count; i++) {
        if (strncmp(plan->envp[i], "HOME=", 5) == 0) return;
    }
    static char home[PATH_MAX + 8];
    snprintf(home, sizeof(home), "HOME=/");
    FILE *passwd = fopen("/etc/passwd", "re");
    if (passwd) {
        char line[4096];
        while (fgets(line, sizeof(line), passwd)) {
            char *fields[7] = {0};
            int n = 0;
            for (char *field = line; n < 7; n++) {
                fields[n] = field;
                char *colon = strchr(field, ':');
                if (!colon) {
                    n++;
                    break;
                }
                *colon = 0;
                field = colon + 1;
            }
            uint64_t uid;
            if (n >= 6 && parse_u64(fields[2], &uid) == 0 && uid == plan->uid) {
                fields[5][strcspn(fields[5], "\n")] = 0;
                snprintf(home, sizeof(home), "HOME=%s", fields[5]);
                break;
            }
        }
        fclose(passwd);
    }
    plan->envp[plan->env_count++] = home;
    plan->envp[plan->env_count] = NULL;
}

// A cgroup2 cgroup.procs among the plan's cgroup files: the helper clones the process into
// its directory rather than moving itself in (a move through cgroup.procs takes a global lock
// that waits out an RCU grace period, 10-15 ms). Opens the directory (O_PATH) and, for a
// kernel that refuses CLONE_INTO_CGROUP, the file itself: both before the helper enters the
// container's namespaces, so that a move still checks against the host's cgroup namespace.
// Drops the entry from the files to write; -1s when there is none.
struct cgroup2_target {
    int directory, procs;
};

static struct cgroup2_target take_cgroup2_target(struct berth_exec_plan *plan) {
    static const char suffix[] = "/cgroup.procs";
    for (int i = 0; i < plan->cgroup_file_count; i++) {
        const char *file = plan->cgroup_files[i];
        size_t length = strlen(file);
        if (length <= sizeof(suffix) - 1 || strcmp(file + length - (sizeof(suffix) - 1), suffix) != 0) continue;
        char directory[PATH_MAX];
        snprintf(directory, sizeof(directory), "%.*s", (int)(length - (sizeof(suffix) - 1)), file);
        struct cgroup2_target target = {open(directory, O_PATH | O_DIRECTORY | O_CLOEXEC), open(file, O_WRONLY | O_CLOEXEC)};
        if (target.directory < 0 || target.procs < 0) fail("open %s: %s", file, strerror(errno));
        plan->cgroup_files[i] = plan->cgroup_files[--plan->cgroup_file_count];
        return target;
    }
    return (struct cgroup2_target){-1, -1};
}

// clone as the shim's child, into the cgroup2 directory when there is one. A kernel without
// CLONE_INTO_CGROUP (before 5.7, or clone3 filtered) gets the move through cgroup.procs.
static pid_t clone_process(struct cgroup2_target cgroup2) {
    if (cgroup2.directory >= 0) {
        struct clone_args args;
        memset(&args, 0, sizeof(args));
        // With CLONE_PARENT, clone3 wants no exit signal: the child inherits ours (SIGCHLD).
        args.flags = CLONE_PARENT | CLONE_INTO_CGROUP;
        args.cgroup = (uint64_t)cgroup2.directory;
        pid_t process = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
        if (process >= 0 || errno == EAGAIN || errno == ENOMEM) return process;
        if (write(cgroup2.procs, "0", 1) != 1) fail("join the container's cgroup2 cgroup: %s", strerror(errno));
    }
    return (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
}

// The exec's process: the shim's child, in every namespace and cgroup of the container.
__attribute__((noreturn)) static void become_process(struct berth_exec_plan *plan, int terminal) {
    if (terminal) set_up_terminal();
    for (int i = 0; i < plan->rlimit_count; i++) {
        const struct berth_exec_rlimit *limit = &plan->rlimits[i];
        if (setrlimit(limit->resource, &limit->value) != 0) fail("setrlimit %s: %s", rlimit_names[limit->resource], strerror(errno));
    }
    // Entered while still root, as runc does: the user may then run in a directory it cannot
    // read (`exec -u 1 -w /root`). Refused even to root, it is tried again as the user.
    char reason[128];
    // runc's words, which `docker exec -w /missing` shows.
    bool entered = chdir(plan->cwd) == 0;
    if (!entered && errno != EACCES && errno != EPERM) {
        fail("chdir to cwd (\"%s\") set in config.json failed: %s", plan->cwd, lower_case_error(errno, reason, sizeof(reason)));
    }
    // Without no_new_privs, loading the filter needs CAP_SYS_ADMIN: before the drop.
    if (plan->seccomp && !plan->no_new_privileges) load_seccomp(plan);
    for (int cap = 0; cap <= plan->last_capability; cap++) {
        if (!(plan->bounding & (1ULL << cap)) && berth_drop_bounding(cap) != 0) {
            fail("drop capability %d from the bounding set: %s", cap, strerror(errno));
        }
    }
    give_stdio_to_user(plan->uid);
    switch_user(plan);
    if (!entered && chdir(plan->cwd) != 0) {
        fail("chdir to cwd (\"%s\") set in config.json failed: %s", plan->cwd, lower_case_error(errno, reason, sizeof(reason)));
    }
    // A cwd reached through a leaked host descriptor would be outside our root; the kernel
    // then reports it as unreachable (the runc CVE-2024-21626 pattern).
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd)) || cwd[0] != '/') fail("current working directory is outside of the container's root");
    set_capabilities(plan);
    if (plan->no_new_privileges && berth_set_no_new_privs() != 0) fail("prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
    umask(plan->umask);
    char path[PATH_MAX];
    resolve_executable(plan, path, sizeof(path));
    add_home(plan);
    // Last, so that the filter may deny what the setup above needed.
    if (plan->seccomp && plan->no_new_privileges) load_seccomp(plan);
    execve(path, plan->argv, plan->envp);
    fail("exec %s: %s", plan->argv[0], strerror(errno));
}

pid_t berth_exec_spawn(struct berth_exec_plan *plan, const int namespaces[BERTH_EXEC_NAMESPACES], const int stdio[3], int console,
                       int report_fd) {
    fflush(NULL);
    pid_t helper = fork();
    if (helper != 0) return helper;

    // The helper: it becomes the container's in every way but its identity, then clones the
    // process and exits.
    berth_reset_signals();
    enum { FIRST_NAMESPACE_FD = CONSOLE_FD + 1 };
    int descriptors[FIRST_NAMESPACE_FD + BERTH_EXEC_NAMESPACES] = {stdio[0], stdio[1], stdio[2], report_fd, console};
    for (int i = 0; i < BERTH_EXEC_NAMESPACES; i++) descriptors[FIRST_NAMESPACE_FD + i] = namespaces[i];
    arrange_descriptors(descriptors, FIRST_NAMESPACE_FD + BERTH_EXEC_NAMESPACES);
    // Nothing in the container may open /proc/<pid>/exe (the host's shim binary) or read
    // our memory while we are still the shim's image; exec makes the process dumpable again.
    if (berth_set_dumpable(0) != 0) fail("prctl(PR_SET_DUMPABLE): %s", strerror(errno));
    // Its cgroups, while the host's cgroup mounts are still what paths name.
    struct cgroup2_target cgroup2 = take_cgroup2_target(plan);
    for (int i = 0; i < plan->cgroup_file_count; i++) write_file(plan->cgroup_files[i], "0");
    for (int i = 0; i < BERTH_EXEC_NAMESPACES; i++) {
        if (namespaces[i] < 0) continue;
        int fd = FIRST_NAMESPACE_FD + i;
        if (setns(fd, namespace_order[i].type) != 0) fail("setns %s: %s", namespace_order[i].name, strerror(errno));
        close(fd);
    }
    // A child of the shim itself (so that the shim reaps it and has its status), and in the
    // container's pid namespace, which applies to children only.
    pid_t process = clone_process(cgroup2);
    if (process < 0) fail("clone: %s", strerror(errno));
    if (process == 0) become_process(plan, console >= 0);
    char record[32];
    snprintf(record, sizeof(record), "pid %d", process);
    report(record);
    _exit(0);
}
