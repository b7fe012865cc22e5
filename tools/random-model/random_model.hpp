// Small models with random weights, laid out exactly as a real file of each known architecture
// (the shapes come from the runtime's architecture table), with a small but consistent embedded
// tokenizer. Tests, the fuzzer's seed corpus and benchmarks use them; no weights are downloaded.
#pragma once

#include <bitnet/types.h>
#include <bitnet/runtime/error.hpp>
#include <bitnet/runtime/gguf/writer.hpp>

#include <cstdint>
#include <string>

namespace bitnet::testing {

struct RandomModelOptions {
  std::string arch = "llama";
  uint64_t seed = 1;
  int32_t weight_type = BITNET_TYPE_F32;     // attention and feed-forward weights
  int32_t embedding_type = BITNET_TYPE_F32;  // token_embd (and output when untied)
  int64_t n_embd = 64;
  int64_t n_layer = 2;
  int64_t n_head = 4;
  int64_t n_head_kv = 2;
  int64_t n_ff = 128;
  int64_t n_rot = 0;  // dimensions of each head RoPE rotates; 0: all of them
  int64_t n_ctx = 256;
  int64_t n_vocab = 0;  // 0: the embedded tokenizer's size; larger pads it with unused tokens
  bool tied_output = true;
  bool embed_tokenizer = true;
};

// Types the generator fills: F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q6_K, I2_S and TQ2_0.
bool can_generate(int32_t type);

Result<gguf::Writer> random_model(const RandomModelOptions& options);

}  // namespace bitnet::testing
