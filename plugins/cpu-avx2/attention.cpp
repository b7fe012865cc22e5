#include "attention.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <immintrin.h>

#include "../cpu-generic/tensor_access.hpp"

#pragma GCC target("avx2,fma,f16c")
// cpu-generic rounds each product and each sum separately; a fused multiply-add would not.
#pragma GCC optimize("fp-contract=off")

namespace bitnet::cpu_avx2 {
namespace {

using cpu_generic::f32_row;
using cpu_generic::kv_element;
using cpu_generic::row_ptr;

// Elements i..i+3 of a K or V row (F32 or F16) as floats.
__m128 load4(const std::byte* row, int32_t type, int64_t i) {
  if (type == BITNET_TYPE_F32) return _mm_loadu_ps(reinterpret_cast<const float*>(row) + i);
  return _mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + 2 * i)));
}

// q . k for keys j..j+4G-1, one lane per key, each lane adding its products in dimension order
// as cpu-generic's single chain does. The chains are latency-bound (one add per dimension), so
// G groups of four keys keep G chains in flight.
template <int G>
void scores(const double* q, const bitnet_tensor& k, int64_t kvh, int64_t j, int64_t hd,
            double* out) {
  const std::byte* rows[G][4];
  __m256d s[G];
  for (int g = 0; g < G; ++g) {
    for (int r = 0; r < 4; ++r)
      rows[g][r] = row_ptr(k, kvh, j + 4 * g + r);
    s[g] = _mm256_setzero_pd();
  }
  int64_t i = 0;
  for (; i + 4 <= hd; i += 4)
    for (int g = 0; g < G; ++g) {
      __m128 c0 = load4(rows[g][0], k.type, i), c1 = load4(rows[g][1], k.type, i),
             c2 = load4(rows[g][2], k.type, i), c3 = load4(rows[g][3], k.type, i);
      _MM_TRANSPOSE4_PS(c0, c1, c2, c3);  // c_d now holds dimension i + d of the four keys
      const __m128 dims[4] = {c0, c1, c2, c3};
      for (int d = 0; d < 4; ++d)
        s[g] =
            _mm256_add_pd(s[g], _mm256_mul_pd(_mm256_set1_pd(q[i + d]), _mm256_cvtps_pd(dims[d])));
    }
  for (; i < hd; ++i)
    for (int g = 0; g < G; ++g)
      s[g] = _mm256_add_pd(s[g], _mm256_mul_pd(_mm256_set1_pd(q[i]),
                                               _mm256_setr_pd(kv_element(rows[g][0], k.type, i),
                                                              kv_element(rows[g][1], k.type, i),
                                                              kv_element(rows[g][2], k.type, i),
                                                              kv_element(rows[g][3], k.type, i))));
  for (int g = 0; g < G; ++g)
    _mm256_storeu_pd(out + 4 * g, s[g]);
}

// acc[i] = sum over keys j, in order, of p[j] * v_j[i]. Lanes are dimensions here: each adds the
// keys in order, as cpu-generic does. 32 dimensions at a time stay in registers across all keys
// (kept in memory, each key's add waited for the previous key's store).
void weigh_values(const bitnet_tensor& v, int64_t kvh, const std::vector<double>& p, int64_t hd,
                  double* acc) {
  const auto n = static_cast<int64_t>(p.size());
  int64_t i = 0;
  for (; i + 32 <= hd; i += 32) {
    __m256d a[8];
    for (auto& e : a)
      e = _mm256_setzero_pd();
    for (int64_t j = 0; j < n; ++j) {
      const std::byte* vr = row_ptr(v, kvh, j);
      const __m256d pj = _mm256_set1_pd(p[static_cast<size_t>(j)]);
      for (int c = 0; c < 8; ++c)
        a[c] =
            _mm256_add_pd(a[c], _mm256_mul_pd(pj, _mm256_cvtps_pd(load4(vr, v.type, i + 4 * c))));
    }
    for (int c = 0; c < 8; ++c)
      _mm256_storeu_pd(acc + i + 4 * c, a[c]);
  }
  for (int64_t j = 0; j < n; ++j) {
    const std::byte* vr = row_ptr(v, kvh, j);
    const double pj = p[static_cast<size_t>(j)];
    int64_t d = i;
    for (; d + 4 <= hd; d += 4)
      _mm256_storeu_pd(
          acc + d,
          _mm256_add_pd(_mm256_loadu_pd(acc + d),
                        _mm256_mul_pd(_mm256_set1_pd(pj), _mm256_cvtps_pd(load4(vr, v.type, d)))));
    for (; d < hd; ++d)
      acc[d] += pj * kv_element(vr, v.type, d);
  }
}

}  // namespace

void attention(const bitnet_tensor& dst) {
  const bitnet_tensor &q = *dst.src[0], &k = *dst.src[1], &v = *dst.src[2];
  const auto* pos = reinterpret_cast<const int32_t*>(sdk::host_data(*dst.src[3]));
  const int64_t hd = q.ne[0], n_kv = k.ne[2], group = q.ne[1] / k.ne[1];
  for (int64_t t = 0; t < q.ne[2]; ++t)
    if (pos[t] < 0 || pos[t] >= n_kv)
      cpu_generic::bad_input(dst, "query " + std::to_string(t) + " is at position " +
                                      std::to_string(pos[t]) + ", outside the " +
                                      std::to_string(n_kv) + " keys given");
  const double scale = dst.op_params[0];
  cpu_generic::for_rows(dst, [&](int64_t head, int64_t t, int64_t) {
    const float* qf = f32_row(q, head, t);
    const int64_t kvh = head / group, n = pos[t] + 1;
    std::vector<double> qd(qf, qf + hd), p(static_cast<size_t>(n)), acc(static_cast<size_t>(hd));
    int64_t j = 0;
    for (; j + 16 <= n; j += 16)
      scores<4>(qd.data(), k, kvh, j, hd, p.data() + j);
    for (; j + 4 <= n; j += 4)
      scores<1>(qd.data(), k, kvh, j, hd, p.data() + j);
    for (; j < n; ++j) {
      const std::byte* kr = row_ptr(k, kvh, j);
      double s = 0;
      for (int64_t i = 0; i < hd; ++i)
        s += qd[static_cast<size_t>(i)] * kv_element(kr, k.type, i);
      p[static_cast<size_t>(j)] = s;
    }
    double mx = -INFINITY;
    for (double& e : p)
      mx = std::max(mx, e *= scale);
    double sum = 0;
    for (double& e : p)
      sum += (e = std::exp(e - mx));
    weigh_values(v, kvh, p, hd, acc.data());
    float* out = f32_row(dst, head, t);
    for (int64_t i = 0; i < hd; ++i)
      out[i] = static_cast<float>(acc[static_cast<size_t>(i)] / sum);
  });
}

}  // namespace bitnet::cpu_avx2
