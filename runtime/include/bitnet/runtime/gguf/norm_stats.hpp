// Statistics of a model's normalisation weights, per layer, to spot a broken conversion: a
// layer whose norm RMS is far from its siblings' (BitNet files have shipped with attn_norm
// weights 56x off) produces garbage long before anything else looks wrong.
#pragma once

#include <bitnet/runtime/gguf/reader.hpp>

#include <optional>
#include <string>
#include <vector>

namespace bitnet::gguf {

struct NormStats {
  std::string tensor;
  std::string kind;  // the name without "blk.N.", e.g. "attn_norm.weight"
  std::optional<int> layer;
  double rms = 0, mean = 0, min = 0, max = 0;
  double ratio_to_median = 1;  // this tensor's RMS over the median of its kind
  bool outlier = false;
};

// Tensors whose name contains "norm" and whose type is F32, F16 or BF16.
// `outlier_factor`: flag RMS above factor x median or below median / factor.
std::vector<NormStats> norm_stats(const Reader& file, double outlier_factor = 4.0);

}  // namespace bitnet::gguf
