// Compression of rotated json-file logs (compress=true): a forked child gzips one file with
// zlib while the shim's loop goes on; the shim reaps it and gives the result its name.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zlib.h>

#include "CBerthShim.h"

static int write_all(int fd, const unsigned char *bytes, size_t length) {
    while (length > 0) {
        ssize_t n = write(fd, bytes, length);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        bytes += n;
        length -= (size_t)n;
    }
    return 0;
}

// Gzips all of `in` into `out`; the header carries `comment` and `mtime`. 0 on success.
static int gzip_stream(int in, int out, const char *comment, long mtime) {
    enum { chunk = 64 * 1024 };
    unsigned char *input = malloc(chunk), *output = malloc(chunk);
    if (input == NULL || output == NULL) return -1;
    z_stream stream;
    memset(&stream, 0, sizeof(stream));
    // 15 + 16: the largest window, with a gzip header and trailer instead of zlib's.
    if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
    gz_header header;
    memset(&header, 0, sizeof(header));
    header.time = (uLong)mtime;
    header.os = 3;  // Unix
    header.comment = (Bytef *)comment;
    if (deflateSetHeader(&stream, &header) != Z_OK) return -1;
    int flush = Z_NO_FLUSH;
    while (flush != Z_FINISH) {
        ssize_t n = read(in, input, chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        stream.next_in = input;
        stream.avail_in = (uInt)n;
        flush = n == 0 ? Z_FINISH : Z_NO_FLUSH;
        do {
            stream.next_out = output;
            stream.avail_out = chunk;
            if (deflate(&stream, flush) == Z_STREAM_ERROR) return -1;
            if (write_all(out, output, chunk - stream.avail_out) != 0) return -1;
        } while (stream.avail_out == 0);
    }
    deflateEnd(&stream);
    return 0;
}

pid_t berth_shim_gzip_spawn(int in, int out, const char *comment, long mtime) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    // The child: it keeps only its input, output and stderr, so that it holds no pipe or
    // socket of the container's open (their ends must see EOF when the shim closes them).
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0) _exit(1);
    syscall(SYS_close_range, 3U, ~0U, 0U);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    // Compression is background work: the containers' own processes come first.
    (void)setpriority(PRIO_PROCESS, 0, 10);
    _exit(gzip_stream(0, 1, comment, mtime) == 0 ? 0 : 1);
}

int berth_shim_open_unnamed(const char *directory) {
    return open(directory, O_WRONLY | O_TMPFILE | O_CLOEXEC, 0640);
}

int berth_shim_link_unnamed(int fd, const char *path) {
    // AT_EMPTY_PATH links the descriptor's file itself (the shim runs as root).
    return linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH);
}
