// Float values to the bytes of a GGUF tensor of the types a converter writes, and the ternary
// quantisation of a BitNet b1.58 model's latent weights. Layouts are those of docs/ARCHITECTURE.md
// (I2_S as Microsoft's bitnet.cpp, TQ2_0, Q8_0 and Q4_0 as ggml).
#pragma once

#include <bitnet/runtime/error.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace bitnet::convert {

// The bytes of `values` (rows of `row` elements) as F32, F16, BF16, Q8_0, Q4_0, I2_S or TQ2_0.
// Errors, which the caller prefixes with the tensor's name: UNSUPPORTED when the type cannot hold
// the shape (rows that are not whole blocks: 32 for Q8_0/Q4_0, 128 for I2_S, 256 for TQ2_0) or is
// not one of these; INVALID_ARGUMENT when it cannot hold the values (beyond F16's range, or for
// I2_S and TQ2_0 a value that is not 0 or +-s, one s per tensor or per 256-element block).
Result<std::vector<std::byte>> encode_tensor(std::span<const float> values, int64_t row,
                                             int32_t type);

// HF BitNet's weight quantisation, what a model trained with it computes: s = mean|W| (at least
// 1e-5), then every W becomes clamp(round(W / s), -1, 1) * s. Returns s.
float ternarize_absmean(std::span<float> values);

}  // namespace bitnet::convert
