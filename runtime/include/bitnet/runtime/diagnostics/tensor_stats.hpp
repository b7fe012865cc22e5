// A summary of a tensor's values, the unit of traces and of the NaN/Inf check. Statistics cover
// the finite values only, so one NaN does not hide what the rest look like; the others are
// counted apart.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace bitnet::diagnostics {

struct TensorStats {
  double rms = 0, mean = 0, min = 0, max = 0;
  int64_t count = 0;
  int64_t nonfinite = 0;
  uint64_t hash = 0;  // FNV-1a of the float32 bytes: equal values give equal hashes
};

TensorStats tensor_stats(std::span<const float> values);

// 16 lowercase hex digits.
std::string hash_hex(uint64_t hash);

// ||b - a|| / max(||a||, ||b||): 0 for equal values, up to 2; infinite when either holds a
// NaN or an infinity where the other does not hold the same, or the sizes differ.
double relative_error(std::span<const float> a, std::span<const float> b);

}  // namespace bitnet::diagnostics
