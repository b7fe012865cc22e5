#include "ternary_prefill.hpp"

#include <bitnet/sdk/plugin.hpp>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include <immintrin.h>

#include "../cpu-generic/tensor_access.hpp"
#include "../cpu-generic/weights.hpp"
#include "i2s_vnni.hpp"
#include "ternary_acts.hpp"
#include "tq2_vnni.hpp"

namespace bitnet::cpu_avx2 {
namespace {

// Panels [p_begin, p_end) of the weight rows at w_rows against every activation row.
template <class Panel>
void run_panels(const bitnet_tensor& dst, const bitnet_tensor& w, const std::byte* w_rows,
                const TernaryActs& a, float scale, int64_t i2, int64_t i3, int64_t p_begin,
                int64_t p_end) {
  const int64_t m_count = w.ne[1];
  const size_t stride = w.nb[1];
  Panel panel;
  float out[kActGroup * kPanelRows];
  for (int64_t p = p_begin; p < p_end; ++p) {
    const int64_t m0 = p * kPanelRows;
    const int rows = static_cast<int>(std::min<int64_t>(kPanelRows, m_count - m0));
    panel.pack(w_rows + m0 * static_cast<int64_t>(stride), stride, rows, w.ne[0]);
    // The next panel's rows (contiguous) are fetched a share per group while this one computes:
    // read only when packed, they would stall the pack on memory.
    const std::byte* next = w_rows + (m0 + kPanelRows) * static_cast<int64_t>(stride);
    const int64_t next_bytes = std::clamp<int64_t>(m_count - m0 - kPanelRows, 0, kPanelRows) *
                               static_cast<int64_t>(stride);
    const int64_t share = (next_bytes / a.groups() + 63) / 64 * 64;
    for (int64_t g = 0; g < a.groups(); ++g) {
      for (int64_t off = g * share; off < std::min(next_bytes, (g + 1) * share); off += 64)
        _mm_prefetch(reinterpret_cast<const char*>(next + off), _MM_HINT_T0);
      const int r_count = static_cast<int>(std::min<int64_t>(kActGroup, a.n - g * kActGroup));
      if constexpr (std::is_same_v<Panel, I2sPanel>)
        panel.dot(a, g, r_count, scale, out);
      else
        panel.dot(a, g, r_count, out);
      for (int r = 0; r < r_count; ++r)
        std::memcpy(cpu_generic::f32_row(dst, g * kActGroup + r, i2, i3) + m0, out + r * kPanelRows,
                    static_cast<size_t>(rows) * sizeof(float));
    }
  }
}

}  // namespace

void ternary_prefill(const bitnet_tensor& dst) {
  const bitnet_tensor &w = *dst.src[0], &x = *dst.src[1];
  const float scale = w.type == BITNET_TYPE_I2_S ? cpu_generic::i2s_scale(w) : 0;
  const auto panels = static_cast<size_t>((w.ne[1] + kPanelRows - 1) / kPanelRows);
  const size_t grain = cpu_generic::balanced_grain(panels);
  TernaryActs a;
  for (int64_t i3 = 0; i3 < x.ne[3]; ++i3)
    for (int64_t i2 = 0; i2 < x.ne[2]; ++i2) {
      prepare_ternary_acts(x, i2, i3, a);
      const std::byte* w_rows = cpu_generic::weight_batch(w, x, i2, i3);
      sdk::plugin_host().parallel_for(0, panels, grain, [&](size_t b, size_t e) {
        const auto pb = static_cast<int64_t>(b), pe = static_cast<int64_t>(e);
        if (w.type == BITNET_TYPE_I2_S)
          run_panels<I2sPanel>(dst, w, w_rows, a, scale, i2, i3, pb, pe);
        else
          run_panels<Tq2Panel>(dst, w, w_rows, a, scale, i2, i3, pb, pe);
      });
    }
}

}  // namespace bitnet::cpu_avx2
