// A whole decoder forward over the SDK's ops, for the arm64 model-parity test: the graph
// runtime/src/model/forward.cpp builds for the four architectures (the same ops, shapes, views
// and KV-cache writes), on random weights of one type generated here, so the harness needs no
// GGUF reader and no runtime library under qemu.
#pragma once

#include <bitnet/backend.h>

#include <cstdint>
#include <deque>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "plugin_loader.hpp"

namespace neon_test {

// The switches of runtime/src/model/architecture.cpp that change the graph.
struct Arch {
  const char* name;
  bool sub_norms = false, qkv_bias = false, rope_neox = false, relu_sqr = false;
  bool fused_qkv = false, fused_gate_up = false;
};

inline constexpr Arch kArchs[] = {
    {.name = "llama"},
    {.name = "bitnet-b1.58", .sub_norms = true, .rope_neox = true, .relu_sqr = true},
    {.name = "qwen2", .qkv_bias = true, .rope_neox = true},
    {.name = "phi3", .rope_neox = true, .fused_qkv = true, .fused_gate_up = true},
};

struct Hparams {
  int64_t n_embd = 256, n_ff = 512, n_head = 4, n_head_kv = 2, head_dim = 64, n_layer = 2;
  int64_t n_vocab = 64, n_ctx = 32;
  float rms_eps = 1e-5f, rope_base = 10000.0f;
};

struct Weight {
  bitnet_tensor shape;  // type and ne; no buffer
  std::vector<std::byte> data;
};

// Projections of `weight_type`, token embedding and output head F16, norms and biases F32.
std::map<std::string, Weight> random_model(const Arch& arch, const Hparams& h, int32_t weight_type,
                                           unsigned seed);

// One model on one device: its weights uploaded, an F16 KV cache, and eval() running the next
// tokens through the forward graph and returning the last token's logits.
class Runner {
 public:
  Runner(Device& device, const Arch& arch, const Hparams& h,
         const std::map<std::string, Weight>& weights);
  std::vector<float> eval(std::span<const int32_t> tokens);

 private:
  const bitnet_tensor* weight(const std::string& name) const;
  const bitnet_tensor* node(int32_t op, std::initializer_list<int64_t> ne,
                            std::initializer_list<const bitnet_tensor*> src,
                            std::initializer_list<float> params);
  const bitnet_tensor* view(const bitnet_tensor* x, std::initializer_list<int64_t> ne,
                            std::initializer_list<size_t> nb, size_t offset);
  const bitnet_tensor* reshape(const bitnet_tensor* x, std::initializer_list<int64_t> ne);
  const bitnet_tensor* input(std::span<const int32_t> values);
  const bitnet_tensor* cache(bool v, int64_t layer, int64_t from, int64_t rows);
  const bitnet_tensor* layer(const bitnet_tensor* x, int64_t l);

  Device& device_;
  Arch arch_;
  Hparams h_;
  std::map<std::string, bitnet_tensor> weights_;
  bitnet_buffer* kv_ = nullptr;
  bitnet_buffer* arena_ = nullptr;
  size_t arena_bytes_ = 0, used_ = 0;
  int64_t n_past_ = 0, n_tokens_ = 0;
  const bitnet_tensor* pos_ = nullptr;
  std::deque<bitnet_tensor> tensors_;
  std::vector<const bitnet_tensor*> nodes_;
};

}  // namespace neon_test
