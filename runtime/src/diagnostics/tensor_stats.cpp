#include <bitnet/runtime/diagnostics/tensor_stats.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace bitnet::diagnostics {

TensorStats tensor_stats(std::span<const float> values) {
  TensorStats s;
  s.count = static_cast<int64_t>(values.size());
  uint64_t h = 0xcbf29ce484222325ull;
  double sum = 0, sum_sq = 0;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (float v : values) {
    unsigned char bytes[sizeof v];
    std::memcpy(bytes, &v, sizeof v);
    for (unsigned char b : bytes)
      h = (h ^ b) * 0x100000001b3ull;
    if (!std::isfinite(v)) {
      ++s.nonfinite;
      continue;
    }
    sum += v;
    sum_sq += static_cast<double>(v) * v;
    lo = std::min<double>(lo, v);
    hi = std::max<double>(hi, v);
  }
  s.hash = h;
  const int64_t finite = s.count - s.nonfinite;
  if (finite > 0) {
    s.mean = sum / static_cast<double>(finite);
    s.rms = std::sqrt(sum_sq / static_cast<double>(finite));
    s.min = lo;
    s.max = hi;
  }
  return s;
}

std::string hash_hex(uint64_t hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, hash >>= 4)
    out[static_cast<size_t>(i)] = kDigits[hash & 15];
  return out;
}

double relative_error(std::span<const float> a, std::span<const float> b) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (a.size() != b.size()) return kInf;
  double diff = 0, norm_a = 0, norm_b = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const bool fa = std::isfinite(a[i]), fb = std::isfinite(b[i]);
    if (!fa || !fb) {
      // The same infinity on both sides agrees; NaN never equals anything.
      if (fa != fb || a[i] != b[i]) return kInf;
      continue;
    }
    const double d = static_cast<double>(b[i]) - a[i];
    diff += d * d;
    norm_a += static_cast<double>(a[i]) * a[i];
    norm_b += static_cast<double>(b[i]) * b[i];
  }
  const double scale = std::sqrt(std::max(norm_a, norm_b));
  if (diff == 0) return 0;
  return std::sqrt(diff) / scale;
}

}  // namespace bitnet::diagnostics
