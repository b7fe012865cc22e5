// A float64 forward pass over a HF checkpoint's own tensors and names, as transformers computes
// LlamaForCausalLM, BitNetForCausalLM, Qwen2ForCausalLM and Phi3ForCausalLM: rotate_half RoPE on
// the unpermuted q/k rows, fused Phi-3 projections split as HF splits them. The converter's
// tests hold a converted GGUF against it, so it shares nothing with the converter or the GGUF
// reference (reference_forward.hpp).
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace bitnet::reference {

struct HfTensor {
  std::vector<int64_t> shape;  // torch order: [out, in] for a weight
  std::vector<float> values;
};

struct HfModel {
  std::string hf_class;  // config.json architectures[0]
  int64_t n_embd = 0, n_ff = 0, n_layer = 0, n_head = 0, n_head_kv = 0, n_vocab = 0;
  double rms_eps = 1e-5, rope_theta = 10000;
  bool tied = false;
  std::map<std::string, HfTensor> tensors;
};

struct HfForwardOptions {
  // HF BitNet's AutoBitLinear in online mode: weights ternarised per tensor by their mean
  // magnitude, activations rounded to int8 by their absmax per token.
  bool bitlinear = false;
  // RoPE on adjacent pairs instead of rotate_half: what the runtime computes on unpermuted
  // LLaMA weights, for showing that a test would notice a missing permutation.
  bool adjacent_pair_rope = false;
};

// Logits of every position, [n_tokens][n_vocab]. Throws std::runtime_error on a missing tensor.
std::vector<std::vector<double>> hf_forward(const HfModel& model, std::span<const int32_t> tokens,
                                            HfForwardOptions options = {});

}  // namespace bitnet::reference
