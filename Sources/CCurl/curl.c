#include "CCurl.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

// Each libcurl function used, by name, with its pointer once loaded.
#define CURL_FUNCTIONS(X)                                                       \
    X(curl_global_init, CURLcode, (long))                                       \
    X(curl_easy_init, CURL *, (void))                                           \
    X(curl_easy_setopt, CURLcode, (CURL *, CURLoption, ...))                    \
    X(curl_easy_perform, CURLcode, (CURL *))                                    \
    X(curl_easy_getinfo, CURLcode, (CURL *, CURLINFO, ...))                     \
    X(curl_easy_cleanup, void, (CURL *))                                        \
    X(curl_easy_strerror, const char *, (CURLcode))                             \
    X(curl_slist_append, struct curl_slist *, (struct curl_slist *, const char *)) \
    X(curl_slist_free_all, void, (struct curl_slist *))

#define DECLARE_POINTER(name, result, parameters) static result(*loaded_##name) parameters;
CURL_FUNCTIONS(DECLARE_POINTER)

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const char *load_error = "libcurl (libcurl4) is not installed";

static void load(void) {
    void *library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!library) return;
#define RESOLVE(name, result, parameters)                            \
    loaded_##name = (result(*) parameters)dlsym(library, #name);     \
    if (!loaded_##name) { load_error = "libcurl lacks " #name; return; }
    CURL_FUNCTIONS(RESOLVE)
    if (loaded_curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK) { load_error = "libcurl failed to start"; return; }
    load_error = NULL;
}

struct sinks {
    berth_curl_sink header;
    berth_curl_sink body;
    berth_curl_source source;
    void *context;
};

static size_t on_header(char *data, size_t size, size_t count, void *user) {
    struct sinks *sinks = user;
    return sinks->header(data, size * count, sinks->context);
}

static size_t on_body(char *data, size_t size, size_t count, void *user) {
    struct sinks *sinks = user;
    return sinks->body(data, size * count, sinks->context);
}

static size_t on_read(char *buffer, size_t size, size_t count, void *user) {
    struct sinks *sinks = user;
    size_t filled = sinks->source(buffer, size * count, sinks->context);
    return filled == (size_t)-1 ? CURL_READFUNC_ABORT : filled;
}

int berth_curl_request(const char *method, const char *url, const char *const *headers,
                       const char *user_password, int verify_tls, berth_curl_sink header_sink,
                       berth_curl_sink body_sink, berth_curl_source body_source, long long body_length,
                       void *context, long *status, char *error, size_t error_size) {
    pthread_once(&load_once, load);
    if (load_error) {
        snprintf(error, error_size, "%s", load_error);
        return -1;
    }
    CURL *handle = loaded_curl_easy_init();
    if (!handle) {
        snprintf(error, error_size, "libcurl: cannot start a request");
        return -1;
    }
    struct curl_slist *list = NULL;
    for (const char *const *header = headers; header && *header; header++) {
        list = loaded_curl_slist_append(list, *header);
    }
    char message[CURL_ERROR_SIZE] = {0};
    struct sinks sinks = {header_sink, body_sink, body_source, context};
    loaded_curl_easy_setopt(handle, CURLOPT_URL, url);
    loaded_curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, message);
    loaded_curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    loaded_curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
    loaded_curl_easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    loaded_curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 1L);
    loaded_curl_easy_setopt(handle, CURLOPT_MAXREDIRS, 10L);
    // dockerd's dialer gives up connecting after 30 s; a stalled transfer ends after a minute.
    loaded_curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT, 30L);
    loaded_curl_easy_setopt(handle, CURLOPT_LOW_SPEED_LIMIT, 1L);
    loaded_curl_easy_setopt(handle, CURLOPT_LOW_SPEED_TIME, 60L);
    loaded_curl_easy_setopt(handle, CURLOPT_HTTPHEADER, list);
    if (!verify_tls) {
        loaded_curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 0L);
        loaded_curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (user_password) {
        loaded_curl_easy_setopt(handle, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        loaded_curl_easy_setopt(handle, CURLOPT_USERPWD, user_password);
    }
    if (body_length >= 0 && body_source) {
        // A body of known length from the source; libcurl's upload mode is a PUT, its POST
        // mode a POST: other methods are named over either.
        loaded_curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
        loaded_curl_easy_setopt(handle, CURLOPT_READFUNCTION, on_read);
        loaded_curl_easy_setopt(handle, CURLOPT_READDATA, &sinks);
        if (strcmp(method, "POST") == 0) {
            loaded_curl_easy_setopt(handle, CURLOPT_POST, 1L);
            loaded_curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_length);
        } else {
            loaded_curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
            loaded_curl_easy_setopt(handle, CURLOPT_INFILESIZE_LARGE, (curl_off_t)body_length);
            if (strcmp(method, "PUT") != 0) loaded_curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, method);
        }
    } else if (strcmp(method, "HEAD") == 0) {
        loaded_curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") != 0) {
        loaded_curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, method);
    }
    loaded_curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, on_header);
    loaded_curl_easy_setopt(handle, CURLOPT_HEADERDATA, &sinks);
    loaded_curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, on_body);
    loaded_curl_easy_setopt(handle, CURLOPT_WRITEDATA, &sinks);
    CURLcode result = loaded_curl_easy_perform(handle);
    int answer = 0;
    if (result == CURLE_OK) {
        loaded_curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, status);
    } else {
        snprintf(error, error_size, "%s", message[0] ? message : loaded_curl_easy_strerror(result));
        answer = -1;
    }
    loaded_curl_easy_cleanup(handle);
    loaded_curl_slist_free_all(list);
    return answer;
}
