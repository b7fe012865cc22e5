/* Backend plugins: devices that hold tensors and run compute graphs on them.
 *
 * The host builds a whole graph (as ggml does) and hands it over in one call, so a backend can
 * fuse ops or replay a captured graph. The host sends only nodes the backend said it supports.
 *
 * Threads: the host calls the entries of one bitnet_backend (and its buffers) from one thread at
 * a time; different bitnet_backend objects may be used from different threads at once.
 */
#ifndef BITNET_BACKEND_H
#define BITNET_BACKEND_H

#include <bitnet/abi.h>
#include <bitnet/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BITNET_MAX_DIMS 4
#define BITNET_MAX_SRC 4
#define BITNET_MAX_OP_PARAMS 8

/* Graph operations. Numbers are append-only. dst is the node; src[i] its inputs. Unless an op
 * says otherwise, inputs and output are F32. The exact arithmetic of each op is specified in
 * sdk/README.md ("Ops"); cpu-generic is its executable form. */
enum bitnet_op {
  BITNET_OP_NONE = 0,      /* a leaf: weights or an input the host uploaded */
  BITNET_OP_ADD = 1,       /* dst = src0 + src1; src1 repeats along each dim it divides */
  BITNET_OP_MUL = 2,       /* dst = src0 * src1; src1 repeats along each dim it divides */
  BITNET_OP_SCALE = 3,     /* dst = src0 * op_params[0] */
  BITNET_OP_MUL_MAT = 4,   /* dst[n][m] = sum_k src0[m][k] * src1[n][k]; src0 holds the weights.
                            * With ternary weights (I2_S, TQ2_0) each row of src1 is first
                            * quantised to int8: a = max(max|x|, 1e-5), q = x * 127 / a
                            * rounded to nearest (ties to even), clamped to [-128, 127];
                            * dst = (sum w*q) * a / 127 * the weights' scale */
  BITNET_OP_GET_ROWS = 5,  /* dst[i] = src0[src1[i]] as F32; src0 any weight type, src1 I32 */
  BITNET_OP_RMS_NORM = 6,  /* dst = src0 / sqrt(mean(src0^2) + eps) [* src1]; per row;
                            * op_params[0] = eps; src1 (optional) a weight of ne[0] elements */
  BITNET_OP_ROPE = 7,      /* rotary embedding of src0 [head_dim, heads, tokens] at positions
                            * src1 (I32, one per token); op_params: [0] rotated dims, [1] base,
                            * [2] bitnet_rope_mode */
  BITNET_OP_ATTENTION = 8, /* causal softmax attention: src0 q [head_dim, heads, tokens], src1 k
                            * and src2 v [head_dim, kv_heads, n_kv], src3 I32 positions of the
                            * queries: query t sees keys 0..src3[t]; op_params[0] the score
                            * scale; dst [head_dim, heads, tokens]; heads % kv_heads == 0 */
  BITNET_OP_GLU = 9,       /* dst = act(src0) * src1; op_params[0] = bitnet_glu_kind */
  BITNET_OP_CPY = 10,      /* dst = src0 converted to dst's type (F32 or F16); same shape */
  BITNET_OP_COUNT = 11
};

enum bitnet_rope_mode {
  BITNET_ROPE_NORM = 0, /* rotates pairs (2i, 2i+1): LLaMA as llama.cpp converts it */
  BITNET_ROPE_NEOX = 1  /* rotates pairs (i, i + dims/2): GPT-NeoX, Qwen2, Phi-3, BitNet */
};

enum bitnet_glu_kind {
  BITNET_GLU_SILU = 0,    /* silu(x) = x / (1 + exp(-x)): SwiGLU */
  BITNET_GLU_RELU_SQR = 1 /* max(x, 0)^2: BitNet b1.58 */
};

typedef struct bitnet_backend bitnet_backend; /* created and destroyed by the plugin */
typedef struct bitnet_buffer bitnet_buffer;   /* created and destroyed by the plugin */

/* A tensor in ggml's order: ne[0] is the innermost (contiguous) dimension, nb[i] the stride in
 * bytes of dimension i. Unused dimensions have ne = 1. An I2_S tensor's 32-byte tail (its scale)
 * follows its last row, so I2_S tensors are contiguous. */
typedef struct bitnet_tensor {
  size_t struct_size;
  int32_t type; /* bitnet_type */
  int32_t op;   /* bitnet_op; BITNET_OP_NONE for leaves */
  int64_t ne[BITNET_MAX_DIMS];
  size_t nb[BITNET_MAX_DIMS];
  bitnet_buffer* buffer; /* of the backend the graph runs on */
  size_t offset;         /* bytes from the start of the buffer */
  const struct bitnet_tensor* src[BITNET_MAX_SRC];
  float op_params[BITNET_MAX_OP_PARAMS];
  const char* name; /* for messages and traces; may be NULL */
} bitnet_tensor;

enum bitnet_backend_flags {
  /* Results must not depend on the thread count or on timing: fixed reduction orders, no
   * atomics in sums. Set by BITNET_DETERMINISTIC=1. */
  BITNET_BACKEND_DETERMINISTIC = 1
};

typedef struct bitnet_backend_create_args {
  size_t struct_size;
  int32_t device;          /* in: 0 .. device_count()-1 */
  bitnet_backend* backend; /* out */
  uint32_t flags;          /* in: bitnet_backend_flags */
} bitnet_backend_create_args;

typedef struct bitnet_backend_props {
  size_t struct_size;
  const char* device_name; /* out: owned by the backend, valid while it lives */
  uint64_t memory_total;   /* out: bytes the device has */
  uint64_t memory_free;    /* out: bytes free now */
  size_t alignment;        /* out: buffers and tensor offsets are aligned to this */
  int32_t host_memory;     /* out: non-zero when buffers live in host RAM */
} bitnet_backend_props;

typedef struct bitnet_buffer_alloc_args {
  size_t struct_size;
  bitnet_backend* backend; /* in */
  size_t size;             /* in: bytes */
  bitnet_buffer* buffer;   /* out */
} bitnet_buffer_alloc_args;

typedef struct bitnet_buffer_upload_args {
  size_t struct_size;
  bitnet_buffer* buffer;
  size_t offset; /* bytes into the buffer; offset + size must not pass its end */
  const void* data;
  size_t size;
} bitnet_buffer_upload_args;

typedef struct bitnet_buffer_download_args {
  size_t struct_size;
  bitnet_buffer* buffer;
  size_t offset;
  void* data;
  size_t size;
} bitnet_buffer_download_args;

/* ABI 1.2. */
typedef struct bitnet_buffer_view_args {
  size_t struct_size;
  bitnet_buffer* buffer;
  size_t offset; /* bytes into the buffer; offset + size must not pass its end */
  size_t size;
  const void* data; /* out: the bytes in host memory, or NULL where they are not there */
} bitnet_buffer_view_args;

/* An asynchronous backend may return from graph_compute once the graph is queued: a download
 * waits for what it reads, and synchronize waits for the whole graph and reports what the
 * device found on its way (an id outside a table). Until synchronize returns, the host keeps the
 * nodes alive with their names and ops unchanged; it may move views for its next graph. */
typedef struct bitnet_graph_compute_args {
  size_t struct_size;
  bitnet_backend* backend;
  /* Ops only (no leaves), run in this order: each node sees everything earlier nodes wrote,
   * including writes into views of other tensors (a KV-cache row written by CPY and read by a
   * later ATTENTION). Leaves are reached through src. */
  const bitnet_tensor* const* nodes;
  size_t n_nodes;
  /* ABI 1.3 (check with BITNET_HAS_FIELD; 0 where absent): 0, or the host's number for this
   * graph's layout, never reused for another. Equal to the previous graph_compute's on this
   * backend, it promises the same `nodes` array with every field of every node, and of every
   * tensor reached through src, as it was then, but for what moves between decode steps: the
   * place (buffer, offset) a CPY node writes to, ne[2] (the key count) of ATTENTION's K and V,
   * and strides of dimensions of extent 1, which address nothing. A backend may then skip
   * comparing the graph with the one it last ran. */
  uint64_t generation;
} bitnet_graph_compute_args;

/* The backend's table, returned by bitnet_plugin_init. Entries marked (optional) may be NULL;
 * entries added after ABI 1.0 are read only after BITNET_HAS_ENTRY. */
/* clang-format off */
typedef struct bitnet_backend_api {
  size_t struct_size;
  int32_t     (*status_code)   (const bitnet_status* status);
  const char* (*status_message)(const bitnet_status* status);
  void        (*status_destroy)(bitnet_status* status);

  int32_t        (*device_count)   (void);
  bitnet_status* (*backend_create) (bitnet_backend_create_args* args);
  void           (*backend_destroy)(bitnet_backend* backend);
  bitnet_status* (*get_props)      (bitnet_backend* backend, bitnet_backend_props* props);
  /* Non-zero when the backend can compute `node` as described (op, types, shapes). */
  int32_t        (*supports_op)    (bitnet_backend* backend, const bitnet_tensor* node);

  bitnet_status* (*buffer_alloc)   (bitnet_buffer_alloc_args* args);
  void           (*buffer_free)    (bitnet_buffer* buffer);
  bitnet_status* (*buffer_upload)  (const bitnet_buffer_upload_args* args);
  bitnet_status* (*buffer_download)(const bitnet_buffer_download_args* args);

  bitnet_status* (*graph_compute)  (const bitnet_graph_compute_args* args);
  bitnet_status* (*synchronize)    (bitnet_backend* backend); /* (optional) for async devices */
  /* (optional, ABI 1.2) The bytes a download would copy, read in place: `data` stays valid until
   * the next upload, graph_compute or free on the buffer's backend, and is NULL where the bytes
   * are not in host memory (the host downloads them then). Waits as a download does. */
  bitnet_status* (*buffer_view)    (bitnet_buffer_view_args* args);
} bitnet_backend_api;
/* clang-format on */

#ifdef __cplusplus
}
#endif

#endif /* BITNET_BACKEND_H */
