#include <bitnet/types.h>
#include <bitnet/runtime/gguf/norm_stats.hpp>
#include <bitnet/sdk/half.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

namespace bitnet::gguf {
namespace {

float element(const std::byte* p, int32_t type, size_t i) {
  switch (type) {
    case BITNET_TYPE_F32: {
      float f;
      std::memcpy(&f, p + 4 * i, 4);
      return f;
    }
    case BITNET_TYPE_F16:
    case BITNET_TYPE_BF16: {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      return type == BITNET_TYPE_F16 ? sdk::fp16_to_f32(h) : sdk::bf16_to_f32(h);
    }
  }
  return 0;
}

// "blk.12.attn_norm.weight" -> layer 12, kind "attn_norm.weight".
void split_name(const std::string& name, std::optional<int>& layer, std::string& kind) {
  kind = name;
  if (name.rfind("blk.", 0) != 0) return;
  const size_t dot = name.find('.', 4);
  if (dot == std::string::npos) return;
  try {
    layer = std::stoi(name.substr(4, dot - 4));
    kind = name.substr(dot + 1);
  } catch (...) {
    layer.reset();
  }
}

}  // namespace

std::vector<NormStats> norm_stats(const Reader& file, double outlier_factor) {
  std::vector<NormStats> out;
  for (const TensorInfo& t : file.tensors()) {
    if (t.name.find("norm") == std::string::npos) continue;
    if (t.type != BITNET_TYPE_F32 && t.type != BITNET_TYPE_F16 && t.type != BITNET_TYPE_BF16)
      continue;
    NormStats s;
    s.tensor = t.name;
    split_name(t.name, s.layer, s.kind);
    const std::byte* p = file.data(t).data();
    const size_t n = static_cast<size_t>(t.elements());
    double sum = 0, sum_sq = 0;
    s.min = std::numeric_limits<double>::infinity();
    s.max = -s.min;
    for (size_t i = 0; i < n; ++i) {
      const double v = element(p, t.type, i);
      sum += v;
      sum_sq += v * v;
      s.min = std::min(s.min, v);
      s.max = std::max(s.max, v);
    }
    s.mean = sum / static_cast<double>(n);
    s.rms = std::sqrt(sum_sq / static_cast<double>(n));
    out.push_back(std::move(s));
  }
  std::map<std::string, std::vector<double>> by_kind;
  for (const NormStats& s : out)
    by_kind[s.kind].push_back(s.rms);
  for (NormStats& s : out) {
    std::vector<double>& v = by_kind[s.kind];
    if (v.size() < 3) continue;  // a median of fewer than three says nothing
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    const double median = v[v.size() / 2];
    if (median <= 0) continue;
    s.ratio_to_median = s.rms / median;
    s.outlier = s.ratio_to_median > outlier_factor || s.ratio_to_median < 1.0 / outlier_factor;
  }
  return out;
}

}  // namespace bitnet::gguf
