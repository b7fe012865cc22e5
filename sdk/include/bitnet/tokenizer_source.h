/* Tokenizer-source plugins: each knows one place a model's tokenizer may live (the GGUF itself,
 * a file beside the model, a hub, an internal mirror). The host asks the chain of sources in
 * order and takes the first answer. */
#ifndef BITNET_TOKENIZER_SOURCE_H
#define BITNET_TOKENIZER_SOURCE_H

#include <bitnet/abi.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bitnet_source bitnet_source; /* created and destroyed by the plugin */

enum bitnet_tokenizer_format {
  BITNET_TOKENIZER_FORMAT_HF_JSON = 1,   /* HuggingFace tokenizer.json */
  BITNET_TOKENIZER_FORMAT_SPM_MODEL = 2, /* SentencePiece tokenizer.model */
  BITNET_TOKENIZER_FORMAT_GGUF = 3       /* tokenizer.ggml.* metadata of a GGUF file */
};

typedef struct bitnet_source_create_args {
  size_t struct_size;
  const char* config_json; /* in: this source's section of the user's config, or NULL */
  bitnet_source* source;   /* out */
} bitnet_source_create_args;

/* What the host is looking for. Any string may be NULL when unknown. */
typedef struct bitnet_source_query {
  size_t struct_size;
  const char* model_path;    /* the GGUF being loaded */
  const char* explicit_path; /* the user's --tokenizer */
  const char* repo_id;       /* e.g. "microsoft/bitnet-b1.58-2B-4T" */
  const char* revision;      /* e.g. "main" */
  const char* cache_dir;     /* where downloads belong */
  int32_t allow_network;     /* zero: a source must not open any connection */
  /* What the host read from the model; check with BITNET_HAS_FIELD before use. */
  const char* architecture; /* general.architecture */
  int64_t n_vocab;          /* rows of token_embd / <arch>.vocab_size; 0 when unknown */
  int64_t embedded_tokens;  /* entries of tokenizer.ggml.tokens; 0 when none is embedded */
  const char* cache_key;    /* the known tokenizer the model maps to, e.g. "llama3-128k" */
  /* ABI 1.1: a file of the repository wanted instead of the tokenizer (`bitnet pull`), e.g.
   * "ggml-model-i2_s.gguf"; NULL: the tokenizer. Sources that cannot fetch files leave it. */
  const char* file;
} bitnet_source_query;

/* A found tokenizer; owned by the plugin and released with result_destroy. */
typedef struct bitnet_source_result {
  size_t struct_size;
  int32_t format;          /* bitnet_tokenizer_format */
  const char* path;        /* the file holding the tokenizer */
  const char* config_path; /* tokenizer_config.json beside it, or NULL */
  const char* origin;      /* for messages: "beside the model", a URL, "HF cache", ... */
} bitnet_source_result;

typedef struct bitnet_source_resolve_args {
  size_t struct_size;
  bitnet_source* source;            /* in */
  const bitnet_source_query* query; /* in */
  bitnet_source_result* result;     /* out: NULL when this source has nothing */
  char note[512]; /* out: NUL-terminated; when result is NULL, what was looked at and why it
                     did not fit, for the host's list of sources tried */
} bitnet_source_resolve_args;

/* clang-format off */
typedef struct bitnet_source_api {
  size_t struct_size;
  int32_t     (*status_code)   (const bitnet_status* status);
  const char* (*status_message)(const bitnet_status* status);
  void        (*status_destroy)(bitnet_status* status);

  bitnet_status* (*source_create) (bitnet_source_create_args* args);
  void           (*source_destroy)(bitnet_source* source);
  /* Not finding anything is not an error: result stays NULL. An error means the source found
   * something and it is bad (unreadable, corrupt) or was refused (auth, TLS). */
  bitnet_status* (*resolve)       (bitnet_source_resolve_args* args);
  void           (*result_destroy)(bitnet_source_result* result);
} bitnet_source_api;
/* clang-format on */

#ifdef __cplusplus
}
#endif

#endif /* BITNET_TOKENIZER_SOURCE_H */
