// The compute graph of one forward step of the decoder-only architectures (llama, bitnet-b1.58,
// qwen2, phi3): n_tokens new tokens at positions n_past.., their K/V written into the cache,
// logits of the last token (or of every token) out.
#pragma once

#include <bitnet/runtime/graph/graph.hpp>
#include <bitnet/runtime/model/architecture.hpp>
#include <bitnet/runtime/model/kv_cache.hpp>
#include <bitnet/runtime/model/weights.hpp>

namespace bitnet::model {

struct StepGraph {
  graph::Graph graph;
  const bitnet_tensor* token_ids = nullptr;  // input: I32 [n_tokens]
  const bitnet_tensor* positions = nullptr;  // input: I32 [n_tokens]
  const bitnet_tensor* logits = nullptr;     // output: F32 [n_vocab, 1 or n_tokens]
};

struct StepShape {
  int64_t n_past = 0;
  int64_t n_tokens = 1;
  bool all_logits = false;
};

// Expects the weights check_weights accepted and n_past + n_tokens <= the cache's n_ctx.
void build_forward(StepGraph& out, const ArchSpec& arch, const Hparams& h, const Weights& w,
                   const KvCache& kv, StepShape shape);

// Every tensor the architecture needs is present with the shape it expects.
Result<> check_weights(const ArchSpec& arch, const Hparams& h, const Weights& w);

}  // namespace bitnet::model
