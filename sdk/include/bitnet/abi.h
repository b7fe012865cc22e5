/* bitnet-runtime plugin ABI: the part every plugin kind shares.
 *
 * Rules (sdk/README.md explains each):
 *  - C only across the boundary. Fixed-width integers in structs; enums are passed as int32_t.
 *  - Every struct starts with `struct_size` and only ever grows at its end. A reader checks
 *    `struct_size` (BITNET_HAS_FIELD) before touching a field added after ABI 1.0.
 *  - Whoever creates an object destroys it, through the table of the side that created it.
 *  - A plugin exports exactly the three entry points declared at the end of this file.
 */
#ifndef BITNET_ABI_H
#define BITNET_ABI_H

#include <stddef.h>
#include <stdint.h>

#include <bitnet/http.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BITNET_ABI_MAJOR 1
#define BITNET_ABI_MINOR 3

#if defined(_WIN32)
#define BITNET_PLUGIN_EXPORT __declspec(dllexport)
#else
#define BITNET_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* True when `ptr` (a pointer to a struct starting with struct_size) is large enough to hold
 * `field`. Use it for every field added after the struct's first version. */
#define BITNET_HAS_FIELD(ptr, type, field) \
  ((ptr)->struct_size >= offsetof(type, field) + sizeof(((type*)0)->field))

/* Same, and the function pointer is non-NULL: the check for an optional table entry. */
#define BITNET_HAS_ENTRY(ptr, type, field) (BITNET_HAS_FIELD(ptr, type, field) && (ptr)->field)

typedef struct bitnet_abi_version {
  uint16_t major; /* must be equal on both sides */
  uint16_t minor; /* may differ: the lower of the two is what both use */
} bitnet_abi_version;

enum bitnet_status_code {
  BITNET_STATUS_OK = 0,
  BITNET_STATUS_INVALID_ARGUMENT = 1,
  BITNET_STATUS_UNSUPPORTED = 2,
  BITNET_STATUS_OUT_OF_MEMORY = 3,
  BITNET_STATUS_NOT_FOUND = 4,
  BITNET_STATUS_IO = 5,
  BITNET_STATUS_NETWORK = 6,
  BITNET_STATUS_PERMISSION_DENIED = 7,
  BITNET_STATUS_INTERNAL = 8,
  BITNET_STATUS_DATA_LOSS = 9 /* ABI 1.1: bytes received are not what was promised */
};

/* An error created by a plugin: read it and free it with the status entries of that plugin's
 * table (status_code, status_message, status_destroy). NULL means success. */
typedef struct bitnet_status bitnet_status;

enum bitnet_log_level {
  BITNET_LOG_TRACE = 0,
  BITNET_LOG_DEBUG = 1,
  BITNET_LOG_INFO = 2,
  BITNET_LOG_WARN = 3,
  BITNET_LOG_ERROR = 4
};

enum bitnet_plugin_kind { BITNET_PLUGIN_KIND_BACKEND = 1, BITNET_PLUGIN_KIND_TOKENIZER_SOURCE = 2 };

/* fn(user, begin, end) processes [begin, end). It must not throw or longjmp. */
typedef void (*bitnet_range_fn)(void* user, size_t begin, size_t end);

/* Services the host lends to a plugin. The table and `ctx` live until the process exits. */
typedef struct bitnet_host_services {
  size_t struct_size;
  bitnet_abi_version abi; /* the host's own ABI version */
  void* ctx;              /* pass back unchanged; the host knows from it which plugin calls */
  /* Non-zero when a message at `level` would be written; lets a plugin skip formatting. */
  int32_t (*log_enabled)(void* ctx, int32_t level);
  /* One line, UTF-8, no trailing newline. The host adds the plugin name and filters by level. */
  void (*log)(void* ctx, int32_t level, const char* message);
  /* Runs fn over [begin, end) in chunks of at least `grain` on the host's thread pool (oneTBB)
   * and returns when every chunk is done. Nested calls are allowed. */
  void (*parallel_for)(void* ctx, size_t begin, size_t end, size_t grain, bitnet_range_fn fn,
                       void* user);
  /* Threads parallel_for may use: the thread count the user chose, else the core count. */
  int32_t (*max_threads)(void* ctx);
  /* ABI 1.1: the host's HTTPS client (bitnet/http.h). Check with BITNET_HAS_ENTRY. */
  bitnet_http_download_fn http_download;
} bitnet_host_services;

/* Static description of a plugin; the strings live as long as the library. */
typedef struct bitnet_plugin_info {
  size_t struct_size;
  const char* name;        /* unique among plugins: lower case, digits and '-' */
  const char* version;     /* the plugin's own version, e.g. "1.2.0" */
  int32_t kind;            /* bitnet_plugin_kind */
  const char* description; /* one line for `bitnet plugins` */
  bitnet_abi_version abi;  /* the ABI version the plugin was built against */
} bitnet_plugin_info;

typedef struct bitnet_negotiate_args {
  size_t struct_size;
  const bitnet_abi_version* host_versions; /* in: one entry per major the host speaks */
  size_t n_host_versions;                  /* in */
  bitnet_abi_version chosen;               /* out: {0,0} when no offered major matches */
  const bitnet_plugin_info* info;          /* out: always set, even when nothing matched */
} bitnet_negotiate_args;

typedef struct bitnet_score_args {
  size_t struct_size;
  int32_t score;    /* out: 0 = cannot run on this machine; higher ranks first */
  char reason[256]; /* out: NUL-terminated; says why, above all when score is 0 */
} bitnet_score_args;

typedef struct bitnet_init_args {
  size_t struct_size;
  bitnet_abi_version abi;           /* in: the negotiated version */
  const bitnet_host_services* host; /* in: valid until the process exits */
  const void* api;                  /* out: the kind's table (bitnet_backend_api, ...) */
  char error[512];                  /* out: NUL-terminated message when init fails */
} bitnet_init_args;

/* Entry points. Each must be callable without any ISA extension: compile the file that holds
 * them without -mavx2 and friends, so the host can ask a plugin on a machine that lacks them. */
typedef void (*bitnet_plugin_negotiate_fn)(bitnet_negotiate_args* args);
typedef void (*bitnet_plugin_score_fn)(bitnet_score_args* args);
/* Returns a bitnet_status_code; on failure args->error says why and args->api is ignored. */
typedef int32_t (*bitnet_plugin_init_fn)(bitnet_init_args* args);

#define BITNET_PLUGIN_NEGOTIATE_SYMBOL "bitnet_plugin_negotiate"
#define BITNET_PLUGIN_SCORE_SYMBOL "bitnet_plugin_score"
#define BITNET_PLUGIN_INIT_SYMBOL "bitnet_plugin_init"

#ifdef __cplusplus
}
#endif

#endif /* BITNET_ABI_H */
