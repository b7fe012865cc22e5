// HF checkpoint folder (config.json, safetensors, tokenizer.json) to a GGUF file the runtime
// runs: tensor names and shapes from the architecture table, hyperparameters under the keys the
// loader reads, LLaMA's q/k rows permuted as llama.cpp's converter does (the runtime applies
// LLaMA's RoPE to adjacent pairs), and the tokenizer embedded as tokenizer.ggml.*.
#pragma once

#include <bitnet/types.h>
#include <bitnet/runtime/error.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

namespace bitnet::convert {

struct ConvertOptions {
  std::filesystem::path input;  // the checkpoint folder
  std::filesystem::path output;
  // Attention and feed-forward weights: F32, F16, Q8_0, I2_S or TQ2_0. Norms and biases stay
  // F32; the embedding (and an untied output) is F16, or F32 when this is F32.
  int32_t weight_type = BITNET_TYPE_F16;
  std::string arch;  // a runtime architecture name; empty: from config.json's "architectures"
  // BitNet b1.58 only: ternarise the latent weights as HF's BitNet does (ternarize_absmean).
  bool quantize_ternary = false;
  // Called before each tensor is converted: its index, the total and its GGUF name.
  std::function<void(size_t, size_t, const std::string&)> progress;
};

struct ConvertReport {
  std::string hf_class;
  std::string arch;
  int64_t n_layer = 0;
  int64_t n_vocab = 0;
  size_t tokenizer_tokens = 0;  // 0: no tokenizer.json, none embedded
  bool tied_output = false;
  size_t tensors = 0;
  std::map<std::string, size_t> tensors_by_type;
  uintmax_t file_bytes = 0;
};

Result<ConvertReport> convert(const ConvertOptions& options);

}  // namespace bitnet::convert
