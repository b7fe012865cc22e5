// The compute graph of one forward step of the decoder-only architectures (llama, bitnet-b1.58,
// qwen2, phi3): n_tokens new tokens at positions n_past.., their K/V written into the cache,
// logits of the last token (or of every token) out.
#pragma once

#include <bitnet/runtime/graph/graph.hpp>
#include <bitnet/runtime/model/architecture.hpp>
#include <bitnet/runtime/model/kv_cache.hpp>
#include <bitnet/runtime/model/weights.hpp>

#include <span>

namespace bitnet::model {

struct StepGraph {
  graph::Graph graph;
  const bitnet_tensor* token_ids = nullptr;  // input: I32 [n_tokens]
  const bitnet_tensor* positions = nullptr;  // input: I32 [n_tokens]
  const bitnet_tensor* logits = nullptr;     // output: F32 [n_vocab, 1 or n_tokens]
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

// Every tensor the architecture needs is present with the shape it expects.
Result<> check_weights(const ArchSpec& arch, const Hparams& h, const Weights& w);

}  // namespace bitnet::model
