// Helpers for berth-shim: the few calls its Swift code cannot make itself.
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "CBerthShim.h"

static int saved_argc;
static char **saved_argv;

// glibc calls each ELF constructor with main's arguments, in static executables as well.
__attribute__((constructor)) static void save_command_line(int argc, char **argv, char **envp) {
    (void)envp;
    saved_argc = argc;
    saved_argv = argv;
}

int berth_shim_argc(void) { return saved_argc; }
char **berth_shim_argv(void) { return saved_argv; }
char **berth_shim_environ(void) { return environ; }

int berth_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

int berth_shim_sigchld_fd(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) return -1;
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

void berth_shim_drain_signalfd(int fd) {
    struct signalfd_siginfo info[8];
    while (read(fd, info, sizeof(info)) > 0) {
    }
}

void berth_shim_release_memory(void) {
    malloc_trim(0);
}
