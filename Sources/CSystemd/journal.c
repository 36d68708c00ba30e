#include "CSystemd.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>

// Each function of libsystemd we call, by name, with its pointer once loaded.
#define JOURNAL_FUNCTIONS(X)                                                                 \
    X(sd_journal_open, int, (sd_journal **, int))                                            \
    X(sd_journal_open_directory, int, (sd_journal **, const char *, int))                    \
    X(sd_journal_close, void, (sd_journal *))                                                \
    X(sd_journal_set_data_threshold, int, (sd_journal *, size_t))                            \
    X(sd_journal_add_match, int, (sd_journal *, const void *, size_t))                       \
    X(sd_journal_seek_head, int, (sd_journal *))                                             \
    X(sd_journal_seek_tail, int, (sd_journal *))                                             \
    X(sd_journal_seek_realtime_usec, int, (sd_journal *, uint64_t))                          \
    X(sd_journal_next, int, (sd_journal *))                                                  \
    X(sd_journal_previous, int, (sd_journal *))                                              \
    X(sd_journal_previous_skip, int, (sd_journal *, uint64_t))                               \
    X(sd_journal_get_realtime_usec, int, (sd_journal *, uint64_t *))                         \
    X(sd_journal_restart_data, void, (sd_journal *))                                         \
    X(sd_journal_enumerate_available_data, int, (sd_journal *, const void **, size_t *))     \
    X(sd_journal_get_fd, int, (sd_journal *))                                                \
    X(sd_journal_get_events, int, (sd_journal *))                                            \
    X(sd_journal_get_timeout, int, (sd_journal *, uint64_t *))                               \
    X(sd_journal_process, int, (sd_journal *))

#define DECLARE_POINTER(name, result, parameters) static result(*loaded_##name) parameters;
JOURNAL_FUNCTIONS(DECLARE_POINTER)

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_result = -ENOENT;

static void load(void) {
    void *library = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!library) return;
#define RESOLVE(name, result, parameters)                                   \
    loaded_##name = (result(*) parameters)dlsym(library, #name);            \
    if (!loaded_##name) return;
    JOURNAL_FUNCTIONS(RESOLVE)
    load_result = 0;  // the library stays loaded for the life of the process
}

int berth_sd_load(void) {
    pthread_once(&load_once, load);
    return load_result;
}

// Callers check berth_sd_load first: the pointers are set before it returns 0.
int berth_sd_journal_open(sd_journal **j, int flags) { return loaded_sd_journal_open(j, flags); }
int berth_sd_journal_open_directory(sd_journal **j, const char *path, int flags) {
    return loaded_sd_journal_open_directory(j, path, flags);
}
void berth_sd_journal_close(sd_journal *j) { loaded_sd_journal_close(j); }
int berth_sd_journal_set_data_threshold(sd_journal *j, size_t size) { return loaded_sd_journal_set_data_threshold(j, size); }
int berth_sd_journal_add_match(sd_journal *j, const void *data, size_t size) {
    return loaded_sd_journal_add_match(j, data, size);
}
int berth_sd_journal_seek_head(sd_journal *j) { return loaded_sd_journal_seek_head(j); }
int berth_sd_journal_seek_tail(sd_journal *j) { return loaded_sd_journal_seek_tail(j); }
int berth_sd_journal_seek_realtime_usec(sd_journal *j, uint64_t usec) { return loaded_sd_journal_seek_realtime_usec(j, usec); }
int berth_sd_journal_next(sd_journal *j) { return loaded_sd_journal_next(j); }
int berth_sd_journal_previous(sd_journal *j) { return loaded_sd_journal_previous(j); }
int berth_sd_journal_previous_skip(sd_journal *j, uint64_t skip) { return loaded_sd_journal_previous_skip(j, skip); }
int berth_sd_journal_get_realtime_usec(sd_journal *j, uint64_t *usec) { return loaded_sd_journal_get_realtime_usec(j, usec); }
void berth_sd_journal_restart_data(sd_journal *j) { loaded_sd_journal_restart_data(j); }
int berth_sd_journal_enumerate_available_data(sd_journal *j, const void **data, size_t *length) {
    return loaded_sd_journal_enumerate_available_data(j, data, length);
}
int berth_sd_journal_get_fd(sd_journal *j) { return loaded_sd_journal_get_fd(j); }
int berth_sd_journal_get_events(sd_journal *j) { return loaded_sd_journal_get_events(j); }
int berth_sd_journal_get_timeout(sd_journal *j, uint64_t *timeout_usec) { return loaded_sd_journal_get_timeout(j, timeout_usec); }
int berth_sd_journal_process(sd_journal *j) { return loaded_sd_journal_process(j); }
