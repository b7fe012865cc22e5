/* The host's HTTPS client, lent to plugins through bitnet_host_services.http_download (ABI 1.1).
 *
 * One implementation in the host does TLS verification (system CA store plus an optional
 * bundle, SNI, host-name checks), HTTPS proxies (HTTPS_PROXY, NO_PROXY), timeouts
 * (BITNET_DOWNLOAD_TIMEOUT), retries with backoff on 429, 5xx and timeouts, resume of a
 * `.partial` file with Range, size and SHA-256 checks, the free-space check, progress bars and
 * token hygiene, so a source plugin (an enterprise's mirror included) needs no network or TLS
 * library of its own. */
#ifndef BITNET_HTTP_H
#define BITNET_HTTP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bitnet_http_header {
  const char* name;  /* e.g. "Authorization" */
  const char* value; /* never logged and never part of an error message */
} bitnet_http_header;

enum bitnet_http_flags {
  BITNET_HTTP_PROGRESS = 1u,  /* draw a progress bar (rate, ETA) when stderr is a terminal */
  BITNET_HTTP_NO_RESUME = 2u, /* delete an existing `.partial` instead of resuming it */
  BITNET_HTTP_FORCE = 4u      /* download even when dest_path exists (else it is kept as is) */
};

/* Checks a complete download before it is moved into place: return 0 to accept; otherwise write
 * why into `why` (NUL-terminated, at most why_size bytes) and the download is deleted. */
typedef int32_t (*bitnet_http_validate_fn)(void* user, const char* path, char* why,
                                           size_t why_size);

/* One file from a URL into dest_path.
 *
 * The body is written to `<dest_path>.partial`; only a complete body whose size matches the
 * response's, whose SHA-256 matches (expected_sha256, else an ETag that is a SHA-256 as HF's LFS
 * files have) and that `validate` accepts is renamed to dest_path. A body cut short leaves the
 * `.partial` for the next call to resume with Range; a body that is wrong leaves nothing.
 *
 * Headers are sent to the URL's host only: a redirect to another host drops them (HF redirects
 * LFS files to a CDN). Redirects are followed up to 10 times, https only. URLs are logged and
 * reported without their query string.
 *
 * Returns a bitnet_status_code: OK; NOT_FOUND (404); PERMISSION_DENIED (401, 403);
 * DATA_LOSS (wrong size, SHA-256 or refused by validate); NETWORK (connection, TLS, timeouts,
 * 429/5xx after retries, offline mode: BITNET_OFFLINE=1 or HF_HUB_OFFLINE=1); IO (local disk,
 * too little free space); INVALID_ARGUMENT (bad URL, not https, missing fields). */
typedef struct bitnet_http_download_args {
  size_t struct_size;
  const char* url;                   /* in: https://host[:port]/path[?query] */
  const bitnet_http_header* headers; /* in: extra request headers, or NULL */
  size_t n_headers;                  /* in */
  const char* ca_bundle;             /* in: PEM file trusted besides the system store, or NULL */
  const char* dest_path;             /* in: where the file belongs; its folder is created */
  const char* expected_sha256;       /* in: 64 hex digits, or NULL */
  int64_t max_bytes;                 /* in: refuse a larger body; 0: no limit */
  uint32_t flags;                    /* in: bitnet_http_flags */
  bitnet_http_validate_fn validate;  /* in, optional */
  void* validate_user;               /* in */
  int32_t http_status;               /* out: the last response's status; 0 when none came */
  int64_t bytes;                     /* out: size of the file at dest_path */
  char sha256[65];                   /* out: its SHA-256 in hex, NUL-terminated */
  char error[512]; /* out: NUL-terminated when the call fails: what, where, what to do */
} bitnet_http_download_args;

typedef int32_t (*bitnet_http_download_fn)(void* ctx, bitnet_http_download_args* args);

#ifdef __cplusplus
}
#endif

#endif /* BITNET_HTTP_H */
