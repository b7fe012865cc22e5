// A float64 forward pass written from the model specification alone, for tests to hold the
// runtime's backends against. It shares no code with them on purpose: a bug copied into both
// would otherwise pass every comparison. Slow by design; meant for small generated models.
#pragma once

#include <bitnet/runtime/gguf/reader.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace bitnet::reference {

// Logits of every position, row-major [n_tokens][n_vocab], for `tokens` at positions 0..n-1
// with causal attention. Supports the llama, bitnet-b1.58, qwen2 and phi3 architectures with
// F32, F16, BF16, Q8_0, I2_S and TQ2_0 weights. Throws std::runtime_error naming what is
// unsupported, including any tensor in the file that the pass would not use.
std::vector<std::vector<double>> forward(const gguf::Reader& model,
                                         std::span<const int32_t> tokens);

}  // namespace bitnet::reference
