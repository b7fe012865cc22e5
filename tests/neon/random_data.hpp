// Tensors and their random contents for the arm64 harness.
#pragma once

#include <bitnet/backend.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <vector>

namespace neon_test {

// A contiguous tensor of `type` and shape `ne` (unused dims 1), with no buffer yet.
bitnet_tensor tensor(int32_t type, std::initializer_list<int64_t> ne);
size_t bytes_of(const bitnet_tensor& t);

// Valid random data of `type` for `n` elements: random codes under small positive scales,
// float values; values about `typical` in size.
std::vector<std::byte> random_weights(int32_t type, int64_t n, std::mt19937& rng,
                                      float typical = 0.5f);

// The weight types MUL_MAT and GET_ROWS take (cpu-generic's list).
inline constexpr int32_t kWeightTypes[] = {BITNET_TYPE_F32,  BITNET_TYPE_F16,  BITNET_TYPE_BF16,
                                           BITNET_TYPE_Q8_0, BITNET_TYPE_Q4_0, BITNET_TYPE_Q4_K,
                                           BITNET_TYPE_Q6_K, BITNET_TYPE_I2_S, BITNET_TYPE_TQ2_0};

}  // namespace neon_test
