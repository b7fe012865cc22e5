// The compute graph of one forward step of the decoder-only architectures (llama, bitnet-b1.58,
// qwen2, phi3): n_tokens new tokens at positions n_past.., their K/V written into the cache,
// logits of the last token (or of every token) out.
#pragma once

#include <bitnet/runtime/graph/graph.hpp>
#include <bitnet/runtime/model/architecture.hpp>
#include <bitnet/runtime/model/kv_cache.hpp>
#include <bitnet/runtime/model/weights.hpp>

#include <span>
#include <vector>

namespace bitnet::model {

struct StepGraph {
  graph::Graph graph;
  // The one input: I32 [2 n_tokens], the token ids and then their positions (upload_inputs),
  // seen through the two views below.
  const bitnet_tensor* inputs = nullptr;
  const bitnet_tensor* token_ids = nullptr;  // I32 [n_tokens]
  const bitnet_tensor* positions = nullptr;  // I32 [n_tokens]
  const bitnet_tensor* logits = nullptr;     // output: F32 [n_vocab, 1 or n_tokens]
  // The KV-cache windows of a single-sequence step: per layer and per K/V, the rows its tokens
  // are written to (`store` is that CPY) and the rows its attention reads (`store` null).
  struct CacheWindow {
    const bitnet_tensor* view = nullptr;
    const bitnet_tensor* store = nullptr;
  };
  std::vector<CacheWindow> cache_windows;
};

// One sequence of a batched decode step: its cache and the position its token goes to.
struct BatchSeq {
  const KvCache* kv = nullptr;
  int64_t n_past = 0;
};

struct StepShape {
  int64_t n_past = 0;
  int64_t n_tokens = 1;
  bool all_logits = false;
  // Non-empty: a decode step of several sequences, one token each (token i belongs to
  // batch[i]; n_past, n_tokens and the `kv` argument are not used). The matmuls take all the
  // tokens at once, so the weights are read once per step; RoPE, the cache writes and the
  // attention run per sequence on its own cache, and the attention outputs are gathered in
  // `gather` (an F32 buffer of n_head * head_dim * batch.size() floats at `gather_offset`)
  // before the output projection. Logits of every token come out.
  std::span<const BatchSeq> batch = {};
  bitnet_buffer* gather = nullptr;
  size_t gather_offset = 0;
};

// Expects the weights check_weights accepted and n_past + n_tokens <= the cache's n_ctx.
void build_forward(StepGraph& out, const ArchSpec& arch, const Hparams& h, const Weights& w,
                   const KvCache& kv, StepShape shape);

// Points a graph build_forward made for one token of one sequence (n_tokens 1, no batch) at
// position n_past: the cache row its K and V go to and the keys its attention reads. Nothing
// else in such a graph depends on the position (it comes in through the positions input), so
// a decode loop builds and plans the graph once and moves it each token.
void move_decode_step(StepGraph& step, const KvCache& kv, int64_t n_past);

// Uploads a bound step's inputs in one copy: separate uploads of ids and positions cost a GPU
// backend a transfer more each decode step.
Result<> upload_inputs(BackendBuffer& scratch, const StepGraph& step,
                       std::span<const int32_t> tokens, std::span<const int32_t> positions);

// Every tensor the architecture needs is present with the shape it expects.
Result<> check_weights(const ArchSpec& arch, const Hparams& h, const Weights& w);

}  // namespace bitnet::model
