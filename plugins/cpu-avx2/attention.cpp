#include "attention.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include <immintrin.h>

#include "../cpu-generic/tensor_access.hpp"
#include "row_ranges.hpp"

#if BITNET_CPU_AVX512
// AVX-512VL's 32 vector registers hold the score chains and value lanes without spills.
#pragma GCC target("avx2,fma,f16c,avx512f,avx512vl")
#else
#pragma GCC target("avx2,fma,f16c")
#endif
// cpu-generic rounds each product and each sum separately; a fused multiply-add would not.
#pragma GCC optimize("fp-contract=off")

namespace bitnet::cpu_avx2 {
namespace {

using cpu_generic::f32_row;
using cpu_generic::kv_element;
using cpu_generic::row_ptr;

// Rows of the K and V copies converted to double for a prefill (no such bitnet type).
constexpr int32_t kF64 = -1;

// Elements i..i+3 of a K or V row of type T (F32 or F16) as floats.
template <int32_t T>
__m128 load4(const std::byte* row, int64_t i) {
  if constexpr (T == BITNET_TYPE_F32)
    return _mm_loadu_ps(reinterpret_cast<const float*>(row) + i);
  else
    return _mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + 2 * i)));
}

// Elements i..i+3 of a row of type T (F32, F16 or kF64) as doubles.
template <int32_t T>
__m256d load4d(const std::byte* row, int64_t i) {
  if constexpr (T == kF64)
    return _mm256_loadu_pd(reinterpret_cast<const double*>(row) + i);
  else
    return _mm256_cvtps_pd(load4<T>(row, i));
}

template <int32_t T>
double element(const std::byte* row, int64_t i) {
  if constexpr (T == kF64)
    return reinterpret_cast<const double*>(row)[i];
  else
    return kv_element(row, T, i);
}

// s plus q[d] * dimension d of four keys (rows row, row + stride, ...), for d = i..i+3 in order:
// one lane per key, each adding its products in dimension order as cpu-generic's chain does.
template <int32_t T>
[[gnu::always_inline]] inline __m256d add4(__m256d s, const std::byte* row, size_t stride,
                                           const double* q, int64_t i) {
  __m128 c0 = load4<T>(row, i), c1 = load4<T>(row + stride, i), c2 = load4<T>(row + 2 * stride, i),
         c3 = load4<T>(row + 3 * stride, i);
  _MM_TRANSPOSE4_PS(c0, c1, c2, c3);  // c_d now holds dimension i + d of the four keys
  s = _mm256_add_pd(s, _mm256_mul_pd(_mm256_set1_pd(q[i]), _mm256_cvtps_pd(c0)));
  s = _mm256_add_pd(s, _mm256_mul_pd(_mm256_set1_pd(q[i + 1]), _mm256_cvtps_pd(c1)));
  s = _mm256_add_pd(s, _mm256_mul_pd(_mm256_set1_pd(q[i + 2]), _mm256_cvtps_pd(c2)));
  return _mm256_add_pd(s, _mm256_mul_pd(_mm256_set1_pd(q[i + 3]), _mm256_cvtps_pd(c3)));
}

// s plus q[i] * dimension i of four keys.
template <int32_t T>
[[gnu::always_inline]] inline __m256d add1(__m256d s, const std::byte* row, size_t stride,
                                           const double* q, int64_t i) {
  return _mm256_add_pd(
      s, _mm256_mul_pd(_mm256_set1_pd(q[i]),
                       _mm256_setr_pd(kv_element(row, T, i), kv_element(row + stride, T, i),
                                      kv_element(row + 2 * stride, T, i),
                                      kv_element(row + 3 * stride, T, i))));
}

// p[j] = q . k_j for the n keys of K head kvh. The chains are latency-bound (one add per
// dimension), so four chains of four keys run together; named, not in an array, so they stay in
// registers.
template <int32_t T>
void scores(const double* q, const bitnet_tensor& k, int64_t kvh, int64_t n, int64_t hd,
            double* p) {
  const size_t stride = k.nb[2], s4 = 4 * stride;
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const std::byte* row = row_ptr(k, kvh, j);
    __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 4 <= hd; i += 4) {
      s0 = add4<T>(s0, row, stride, q, i);
      s1 = add4<T>(s1, row + s4, stride, q, i);
      s2 = add4<T>(s2, row + 2 * s4, stride, q, i);
      s3 = add4<T>(s3, row + 3 * s4, stride, q, i);
    }
    for (; i < hd; ++i) {
      s0 = add1<T>(s0, row, stride, q, i);
      s1 = add1<T>(s1, row + s4, stride, q, i);
      s2 = add1<T>(s2, row + 2 * s4, stride, q, i);
      s3 = add1<T>(s3, row + 3 * s4, stride, q, i);
    }
    _mm256_storeu_pd(p + j, s0);
    _mm256_storeu_pd(p + j + 4, s1);
    _mm256_storeu_pd(p + j + 8, s2);
    _mm256_storeu_pd(p + j + 12, s3);
  }
  for (; j + 4 <= n; j += 4) {
    const std::byte* row = row_ptr(k, kvh, j);
    __m256d s = _mm256_setzero_pd();
    int64_t i = 0;
    for (; i + 4 <= hd; i += 4)
      s = add4<T>(s, row, stride, q, i);
    for (; i < hd; ++i)
      s = add1<T>(s, row, stride, q, i);
    _mm256_storeu_pd(p + j, s);
  }
  for (; j < n; ++j) {
    const std::byte* kr = row_ptr(k, kvh, j);
    double s = 0;
    for (int64_t i = 0; i < hd; ++i)
      s += q[i] * kv_element(kr, T, i);
    p[j] = s;
  }
}

// acc[i] = sum over keys j, in order, of p[j] * v_j[i], v_j at base + j * stride. Lanes are
// dimensions here: each adds the keys in order, as cpu-generic does. 32 dimensions at a time stay
// in registers across all keys (kept in memory, each key's add waited for the previous key's
// store).
template <int32_t T>
void weigh_values(const std::byte* base, size_t stride, const std::vector<double>& p, int64_t hd,
                  double* acc) {
  const auto n = static_cast<int64_t>(p.size());
  int64_t i = 0;
  for (; i + 32 <= hd; i += 32) {
    __m256d a[8];
    for (auto& e : a)
      e = _mm256_setzero_pd();
    for (int64_t j = 0; j < n; ++j) {
      const std::byte* vr = base + j * stride;
      const __m256d pj = _mm256_set1_pd(p[static_cast<size_t>(j)]);
      for (int c = 0; c < 8; ++c)
        a[c] = _mm256_add_pd(a[c], _mm256_mul_pd(pj, load4d<T>(vr, i + 4 * c)));
    }
    for (int c = 0; c < 8; ++c)
      _mm256_storeu_pd(acc + i + 4 * c, a[c]);
  }
  for (int64_t j = 0; j < n; ++j) {
    const std::byte* vr = base + j * stride;
    const double pj = p[static_cast<size_t>(j)];
    int64_t d = i;
    for (; d + 4 <= hd; d += 4)
      _mm256_storeu_pd(acc + d, _mm256_add_pd(_mm256_loadu_pd(acc + d),
                                              _mm256_mul_pd(_mm256_set1_pd(pj), load4d<T>(vr, d))));
    for (; d < hd; ++d)
      acc[d] += pj * element<T>(vr, d);
  }
}

// K and V of every KV head converted to double once for all the queries of a prefill (each key
// serves every query after it): keys transposed, kt[h][d][j] with rows padded with zeros to
// whole blocks of kKeyBlock, so dimension d of four keys is one load with neither conversion
// nor shuffle; values as rows, vd[h][j][d].
constexpr int64_t kKeyBlock = 32;

// Row `row` (F32 or F16) of hd elements as floats.
void to_floats(const std::byte* row, int32_t type, int64_t hd, float* out) {
  if (type == BITNET_TYPE_F32) {
    std::copy_n(reinterpret_cast<const float*>(row), hd, out);
    return;
  }
  int64_t d = 0;
  for (; d + 4 <= hd; d += 4)
    _mm_storeu_ps(out + d, load4<BITNET_TYPE_F16>(row, d));
  for (; d < hd; ++d)
    out[d] = kv_element(row, type, d);
}

struct KvDoubles {
  int64_t n = 0, stride = 0, hd = 0;
  std::vector<double> kt, vd;

  // The heads split over the threads where there is enough to convert.
  KvDoubles(const bitnet_tensor& k, const bitnet_tensor& v, int64_t keys)
      : n(keys),
        stride((keys + kKeyBlock - 1) / kKeyBlock * kKeyBlock),
        hd(k.ne[0]),
        kt(static_cast<size_t>(k.ne[1] * hd * stride)),
        vd(static_cast<size_t>(k.ne[1] * hd * n)) {
    for_ranges(k.ne[1], 2 * n * hd, 1, [&](int64_t h_begin, int64_t h_end) {
      std::vector<float> kf(static_cast<size_t>(hd));
      for (int64_t h = h_begin; h < h_end; ++h)
        for (int64_t j = 0; j < n; ++j) {
          to_floats(row_ptr(k, h, j), k.type, hd, kf.data());
          for (int64_t d = 0; d < hd; ++d)
            kt[static_cast<size_t>((h * hd + d) * stride + j)] = kf[static_cast<size_t>(d)];
          double* vr = vd.data() + (h * n + j) * hd;
          to_floats(row_ptr(v, h, j), v.type, hd, kf.data());
          std::copy_n(kf.data(), hd, vr);
        }
    });
  }
  const double* keys(int64_t h) const { return kt.data() + h * hd * stride; }
  const std::byte* values(int64_t h) const {
    return reinterpret_cast<const std::byte*>(vd.data() + h * n * hd);
  }
};

// p[j] = q . k_j for the keys of kt ([d][j], rows of `stride`), in dimension order per key, for
// j below `count` rounded up to a whole block (p has room): eight chains of four keys.
void scores_t(const double* q, const double* kt, int64_t stride, int64_t count, int64_t hd,
              double* p) {
  for (int64_t j = 0; j < count; j += kKeyBlock) {
    __m256d s[kKeyBlock / 4];
    for (auto& e : s)
      e = _mm256_setzero_pd();
    for (int64_t d = 0; d < hd; ++d) {
      const __m256d qd = _mm256_set1_pd(q[d]);
      const double* col = kt + d * stride + j;
      for (int c = 0; c < kKeyBlock / 4; ++c)
        s[c] = _mm256_add_pd(s[c], _mm256_mul_pd(qd, _mm256_loadu_pd(col + 4 * c)));
    }
    for (int c = 0; c < kKeyBlock / 4; ++c)
      _mm256_storeu_pd(p + j + 4 * c, s[c]);
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
  // In a prefill each key is read by every query after it, of every head of its group: convert
  // them once where that is at least 8 reads per key (a decode, 1 query, keeps the direct path).
  std::optional<KvDoubles> kv;
  if (q.ne[2] * group >= 8) kv.emplace(k, v, *std::max_element(pos, pos + q.ne[2]) + 1);
  cpu_generic::for_rows(dst, [&](int64_t head, int64_t t, int64_t) {
    const float* qf = f32_row(q, head, t);
    const int64_t kvh = head / group, n = pos[t] + 1;
    std::vector<double> qd(qf, qf + hd), p(static_cast<size_t>(n)), acc(static_cast<size_t>(hd));
    if (kv) {
      p.resize(static_cast<size_t>((n + kKeyBlock - 1) / kKeyBlock * kKeyBlock));
      scores_t(qd.data(), kv->keys(kvh), kv->stride, n, hd, p.data());
      p.resize(static_cast<size_t>(n));
    } else if (k.type == BITNET_TYPE_F32)
      scores<BITNET_TYPE_F32>(qd.data(), k, kvh, n, hd, p.data());
    else
      scores<BITNET_TYPE_F16>(qd.data(), k, kvh, n, hd, p.data());
    double mx = -INFINITY;
    for (double& e : p)
      mx = std::max(mx, e *= scale);
    double sum = 0;
    for (double& e : p)
      sum += (e = std::exp(e - mx));
    const std::byte* v0 = row_ptr(v, kvh, 0);
    if (kv)
      weigh_values<kF64>(kv->values(kvh), static_cast<size_t>(hd) * sizeof(double), p, hd,
                         acc.data());
    else if (v.type == BITNET_TYPE_F32)
      weigh_values<BITNET_TYPE_F32>(v0, v.nb[2], p, hd, acc.data());
    else
      weigh_values<BITNET_TYPE_F16>(v0, v.nb[2], p, hd, acc.data());
    float* out = f32_row(dst, head, t);
    for (int64_t i = 0; i < hd; ++i)
      out[i] = static_cast<float>(acc[static_cast<size_t>(i)] / sum);
  });
}

}  // namespace bitnet::cpu_avx2
