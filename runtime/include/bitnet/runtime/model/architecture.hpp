// The model architectures the runtime knows: their GGUF hyperparameter keys and the tensors each
// needs, with shapes. One table serves the loader, `bitnet compat-check` and the test-model
// generator, so the three cannot disagree about what a valid file holds.
#pragma once

#include <bitnet/runtime/gguf/reader.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bitnet::model {

struct ArchSpec {
  std::string_view name;  // general.architecture, also the prefix of its keys
  std::string_view family;
  bool qkv_bias = false;       // attn_q/k/v carry biases (Qwen2)
  bool fused_qkv = false;      // one attn_qkv weight (Phi-3)
  bool fused_gate_up = false;  // ffn_up holds gate then up, 2*n_ff rows (Phi-3)
  bool sub_norms = false;      // attn_sub_norm before attn_output, ffn_sub_norm before ffn_down
  bool rope_neox = false;      // RoPE rotates pairs (i, i + n_rot/2), not (2i, 2i+1)
  bool relu_sqr = false;       // the feed-forward gate is relu(x)^2, not silu(x)
};

std::span<const ArchSpec> architectures();
const ArchSpec* find_architecture(std::string_view name);
// "llama, bitnet-b1.58, qwen2, phi3", for messages.
std::string architecture_names();

struct Hparams {
  int64_t n_vocab = 0;  // rows of token_embd
  int64_t n_ctx = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_ff = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;  // attention.key_length, else n_embd / n_head
  int64_t n_rot = 0;     // rope.dimension_count, else head_dim
  double rms_eps = 0;
  double rope_base = 10000.0;
};

// The hyperparameters of `arch` in `r`, with every problem found (not just the first): a key
// missing or of a non-integer type, a value out of range, heads that do not divide.
struct HparamsReport {
  Hparams h;
  std::vector<std::string> problems;
};
HparamsReport read_hparams(const gguf::Reader& r, const ArchSpec& arch);
// The same, as an error naming every problem, for loaders that cannot go on without them.
Result<Hparams> require_hparams(const gguf::Reader& r, const ArchSpec& arch);

enum class TensorRole { embedding, output, norm, bias, weight, rope_factors };
std::string_view role_name(TensorRole role);

struct TensorSpec {
  std::string name;
  std::vector<int64_t> ne;  // ne[0] innermost, as in the file
  TensorRole role;
  bool optional;  // output (tied to token_embd when absent) and rope factors
};

std::vector<TensorSpec> tensor_specs(const ArchSpec& arch, const Hparams& h);

}  // namespace bitnet::model
