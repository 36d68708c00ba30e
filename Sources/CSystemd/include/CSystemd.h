// libsystemd's sd-journal, loaded on first use (dlopen) rather than linked: only `docker
// logs` of a journald container needs it, and linking it would load it and its libraries
// (libgcrypt among them) into every berthd, about 0.7 MiB of resident memory.
#ifndef BERTH_CSYSTEMD_H
#define BERTH_CSYSTEMD_H

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-journal.h>

// 0 once libsystemd.so.0 and every function below are there; -ENOENT otherwise.
int berth_sd_load(void);

int berth_sd_journal_open(sd_journal **journal, int flags);
int berth_sd_journal_open_directory(sd_journal **journal, const char *path, int flags);
void berth_sd_journal_close(sd_journal *journal);
int berth_sd_journal_set_data_threshold(sd_journal *journal, size_t size);
int berth_sd_journal_add_match(sd_journal *journal, const void *data, size_t size);
int berth_sd_journal_seek_head(sd_journal *journal);
int berth_sd_journal_seek_tail(sd_journal *journal);
int berth_sd_journal_seek_realtime_usec(sd_journal *journal, uint64_t usec);
int berth_sd_journal_next(sd_journal *journal);
int berth_sd_journal_previous(sd_journal *journal);
int berth_sd_journal_previous_skip(sd_journal *journal, uint64_t skip);
int berth_sd_journal_get_realtime_usec(sd_journal *journal, uint64_t *usec);
void berth_sd_journal_restart_data(sd_journal *journal);
int berth_sd_journal_enumerate_available_data(sd_journal *journal, const void **data, size_t *length);
int berth_sd_journal_get_fd(sd_journal *journal);
int berth_sd_journal_get_events(sd_journal *journal);
int berth_sd_journal_get_timeout(sd_journal *journal, uint64_t *timeout_usec);
int berth_sd_journal_process(sd_journal *journal);

#endif
