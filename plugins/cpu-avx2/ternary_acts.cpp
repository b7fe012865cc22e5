#include "ternary_acts.hpp"

#include <bitnet/sdk/plugin.hpp>

#include <algorithm>
#include <cstring>

#include <immintrin.h>

#include "../cpu-generic/tensor_access.hpp"

#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl")
// GCC 12's own 512-bit extract and insert intrinsics start from an undefined register, which
// its -Wuninitialized reports at every use of the 512-bit reductions and extracts.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace bitnet::cpu_avx2 {
namespace {

// One row: q = clamp(round-to-nearest-even(x * 127 / amax), -128, 127), as backend.h specifies
// (amax floored at 1e-5), written to its slot of the group; block sums and the total into sums.
void quantize_row(const float* x, int64_t k, int8_t* group_row, int32_t* sums, double& step) {
  __m512 m = _mm512_setzero_ps();
  for (int64_t i = 0; i < k; i += 16)
    m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(x + i)));
  const float amax = std::max(_mm512_reduce_max_ps(m), 1e-5f);
  const __m512 mul = _mm512_set1_ps(127.0f / amax);
  const int64_t blocks = (k + 255) / 256;
  int32_t total = 0;
  for (int64_t b = 0; b < blocks; ++b) {
    __m512i s = _mm512_setzero_si512();
    for (int64_t i = 256 * b; i < std::min(k, 256 * (b + 1)); i += 16) {
      // cvtps rounds to nearest even (the MXCSR default), like nearbyint.
      const __m512i v = _mm512_max_epi32(
          _mm512_min_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + i), mul)),
                           _mm512_set1_epi32(127)),
          _mm512_set1_epi32(-128));
      s = _mm512_add_epi32(s, v);
      alignas(16) uint32_t words[4];
      _mm_store_si128(reinterpret_cast<__m128i*>(words), _mm512_cvtepi32_epi8(v));
      for (int t = 0; t < 4; ++t)
        std::memcpy(group_row + (i / 4 + t) * 4 * kActGroup, &words[t], 4);
    }
    sums[b] = _mm512_reduce_add_epi32(s);
    total += sums[b];
  }
  sums[blocks] = total;
  step = static_cast<double>(amax) / 127.0;
}

}  // namespace

void prepare_ternary_acts(const bitnet_tensor& x, int64_t i2, int64_t i3, TernaryActs& out) {
  out.k = x.ne[0];
  out.n = x.ne[1];
  out.q.assign(static_cast<size_t>(out.groups() * kActGroup * out.k), 0);
  out.step.resize(static_cast<size_t>(out.n));
  out.sums.resize(static_cast<size_t>(out.n * (out.blocks() + 1)));
  sdk::plugin_host().parallel_for(0, static_cast<size_t>(out.groups()), 1, [&](size_t b, size_t e) {
    for (auto g = static_cast<int64_t>(b); g < static_cast<int64_t>(e); ++g)
      for (int64_t r = g * kActGroup; r < std::min(out.n, (g + 1) * kActGroup); ++r)
        quantize_row(cpu_generic::f32_row(x, r, i2, i3), out.k,
                     out.q.data() + g * kActGroup * out.k + 4 * (r % kActGroup),
                     out.sums.data() + r * (out.blocks() + 1), out.step[static_cast<size_t>(r)]);
  });
}

}  // namespace bitnet::cpu_avx2
