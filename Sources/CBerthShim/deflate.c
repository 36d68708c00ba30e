// Compression of GELF datagrams (gelf-compression-type gzip or zlib) with the system's zlib.
#include <zlib.h>

#include "CBerthShim.h"

size_t berth_shim_deflate_bound(size_t length) {
    // deflateBound's worst case for the default settings, plus a gzip header and trailer.
    return (size_t)compressBound((uLong)length) + 32;
}

long berth_shim_deflate(int gzip, int level, const unsigned char *in, size_t in_length, unsigned char *out, size_t out_capacity) {
    z_stream stream = {0};
    if (deflateInit2(&stream, level, Z_DEFLATED, gzip ? 15 + 16 : 15, 8, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
    stream.next_in = (Bytef *)in;
    stream.avail_in = (uInt)in_length;
    stream.next_out = out;
    stream.avail_out = (uInt)out_capacity;
    int result = deflate(&stream, Z_FINISH);
    long written = (long)stream.total_out;
    deflateEnd(&stream);
    return result == Z_STREAM_END ? written : -1;
}
