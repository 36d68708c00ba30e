#ifndef CCURL_H
#define CCURL_H

#include <stddef.h>

// libcurl for the registry client, loaded with dlopen on the first pull: an idle daemon maps
// none of it (nor OpenSSL behind it).

/// Receives a response's bytes (a header line, or a piece of the body); answers how many it
/// took: anything but `length` stops the transfer.
typedef size_t (*berth_curl_sink)(const char *data, size_t length, void *context);

/// Fills `buffer` (up to `capacity` bytes) with the next piece of a request body; answers how
/// many it wrote, 0 at the end, or `(size_t)-1` to stop the transfer (a failed read).
typedef size_t (*berth_curl_source)(char *buffer, size_t capacity, void *context);

/// One HTTP request. `headers` is a NULL-terminated list of "Name: value" lines;
/// `user_password` ("user:password") sends basic credentials when not NULL; `verify_tls` 0
/// accepts any certificate (an insecure registry, as dockerd treats one). Redirects are
/// followed (custom Authorization headers are not sent to another host). Returns 0 with
/// `status` set once a response came, or -1 with `error` filled (library missing, connection
/// refused, TLS failure, time-out, or a sink that stopped). With `body_length` >= 0 the request
/// sends that many bytes read from `body_source` (a POST, PUT or PATCH; not redirected).
int berth_curl_request(const char *method, const char *url, const char *const *headers,
                       const char *user_password, int verify_tls, berth_curl_sink header_sink,
                       berth_curl_sink body_sink, berth_curl_source body_source, long long body_length,
                       void *context, long *status, char *error, size_t error_size);

#endif
