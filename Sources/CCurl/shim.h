// libcurl for Swift: curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call, so
// each argument type gets a typed inline wrapper; the open-socket callback's sockaddr is read here because
// its `addr` member is declared shorter than the IPv6 address curl stores behind it.
#include <curl/curl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

static inline CURLcode jalm_curl_set_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode jalm_curl_set_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode jalm_curl_set_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode jalm_curl_set_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode jalm_curl_set_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }

/// CURLOPT_CAINFO_BLOB with CURL_BLOB_COPY: curl keeps its own copy of the PEM bytes.
static inline CURLcode jalm_curl_set_ca_blob(CURL *h, const void *data, size_t len) {
    struct curl_blob blob = { (void *)data, len, CURL_BLOB_COPY };
    return curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
}

typedef size_t (*jalm_curl_data_fn)(char *, size_t, size_t, void *);
typedef curl_socket_t (*jalm_curl_opensocket_fn)(void *, curlsocktype, struct curl_sockaddr *);
typedef int (*jalm_curl_xferinfo_fn)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t);

static inline CURLcode jalm_curl_set_write(CURL *h, jalm_curl_data_fn fn, void *ud) {
    CURLcode rc = curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fn);
    return rc ? rc : curl_easy_setopt(h, CURLOPT_WRITEDATA, ud);
}
static inline CURLcode jalm_curl_set_header(CURL *h, jalm_curl_data_fn fn, void *ud) {
    CURLcode rc = curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, fn);
    return rc ? rc : curl_easy_setopt(h, CURLOPT_HEADERDATA, ud);
}
static inline CURLcode jalm_curl_set_read(CURL *h, jalm_curl_data_fn fn, void *ud) {
    CURLcode rc = curl_easy_setopt(h, CURLOPT_READFUNCTION, fn);
    return rc ? rc : curl_easy_setopt(h, CURLOPT_READDATA, ud);
}
static inline CURLcode jalm_curl_set_opensocket(CURL *h, jalm_curl_opensocket_fn fn, void *ud) {
    CURLcode rc = curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, fn);
    return rc ? rc : curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, ud);
}
static inline CURLcode jalm_curl_set_xferinfo(CURL *h, jalm_curl_xferinfo_fn fn, void *ud) {
    CURLcode rc = curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, fn);
    rc = rc ? rc : curl_easy_setopt(h, CURLOPT_XFERINFODATA, ud);
    return rc ? rc : curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
}

static inline CURLcode jalm_curl_get_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode jalm_curl_get_off(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode jalm_curl_get_string(CURL *h, CURLINFO i, char **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode jalm_curl_get_pointer(CURL *h, CURLINFO i, void **v) { return curl_easy_getinfo(h, i, v); }

static inline CURLMcode jalm_curlm_set_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }

/// The address curl is about to connect to: writes its 4 or 16 bytes to `out` and its port to `port`;
/// returns 4 for IPv4, 6 for IPv6, 0 for any other family.
static inline int jalm_curl_sockaddr(const struct curl_sockaddr *a, unsigned char out[16], int *port) {
    if (a->family == AF_INET && a->addrlen >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&a->addr;
        memcpy(out, &in->sin_addr, 4);
        *port = ntohs(in->sin_port);
        return 4;
    }
    if (a->family == AF_INET6 && a->addrlen >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->addr;
        memcpy(out, &in6->sin6_addr, 16);
        *port = ntohs(in6->sin6_port);
        return 6;
    }
    return 0;
}

/// The socket curl asked for, close-on-exec; CURL_SOCKET_BAD on failure.
static inline curl_socket_t jalm_curl_socket(const struct curl_sockaddr *a) {
    int fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    return fd < 0 ? CURL_SOCKET_BAD : fd;
}

static inline curl_socket_t jalm_curl_socket_bad(void) { return CURL_SOCKET_BAD; }
/// CURL_READFUNC_ABORT / CURL_WRITEFUNC_PAUSE are macros Swift does not import as constants.
static inline size_t jalm_curl_readfunc_abort(void) { return CURL_READFUNC_ABORT; }
