// The quantised dot-product kernels, written once over a policy D whose D::dot(acc, a, b) adds
// the products of 16 int8 pairs into four int32 lanes. Included by quant_dot_sdot.cpp and
// quant_dot_plain.cpp inside an anonymous namespace, after <arm_neon.h> and
// quant_kernels.hpp, so each build is private to its file and no inline function compiled for
// SDOT can be picked by the linker for the plain path.

inline float fp16(const std::byte* p) {
  __fp16 h;
  __builtin_memcpy(&h, p, 2);
  return static_cast<float>(h);
}

inline int8x16_t load_s8(const void* p) {
  return vld1q_s8(static_cast<const int8_t*>(p));
}

inline uint8x16_t load_u8(const void* p) {
  return vld1q_u8(static_cast<const uint8_t*>(p));
}

// Elements 0..15 and 16..31 of a Q8_0 or Q4_0 block as int8 (Q4_0: the low then the high
// nibbles, minus 8).
template <int32_t T>
void unpack32(const std::byte* qs, int8x16_t& lo, int8x16_t& hi) {
  if constexpr (T == BITNET_TYPE_Q8_0) {
    lo = load_s8(qs);
    hi = load_s8(qs + 16);
  } else {
    const uint8x16_t b = load_u8(qs);
    const int8x16_t eight = vdupq_n_s8(8);
    lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(b, vdupq_n_u8(15))), eight);
    hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(b, 4)), eight);
  }
}

template <class D, int32_t T, int R>
void dot_q8_q4(const std::byte* w, int64_t k, const BlockView& a, int64_t n0, float* out) {
  float32x4_t acc[R];
  for (int r = 0; r < R; ++r)
    acc[r] = vdupq_n_f32(0);
  constexpr int64_t bytes = T == BITNET_TYPE_Q8_0 ? 34 : 18;
  for (int64_t b = 0; b < k / 32; ++b, w += bytes) {
    int8x16_t lo, hi;
    unpack32<T>(w + 2, lo, hi);
    const float dw = fp16(w);
    for (int r = 0; r < R; ++r) {
      const int8_t* x = a.row(n0 + r) + 32 * b;
      const int32x4_t p = D::dot(D::dot(vdupq_n_s32(0), lo, load_s8(x)), hi, load_s8(x + 16));
      acc[r] = vfmaq_n_f32(acc[r], vcvtq_f32_s32(p), dw * a.scales(n0 + r)[b]);
    }
  }
  for (int r = 0; r < R; ++r)
    out[r] = vaddvq_f32(acc[r]);
}

// Q4_K: eight 32-element sub-blocks per 256, each with a 6-bit scale and min; the mins
// multiply the activation block sums.
template <class D, int R>
void dot_q4_k(const std::byte* w, int64_t k, const BlockView& a, int64_t n0, float* out) {
  float32x4_t acc[R];
  float mins[R] = {};
  for (int r = 0; r < R; ++r)
    acc[r] = vdupq_n_f32(0);
  const uint8x16_t m4 = vdupq_n_u8(15);
  for (int64_t b = 0; b < k / 256; ++b, w += 144) {
    const float d = fp16(w), dmin = fp16(w + 2);
    const auto* sc = reinterpret_cast<const uint8_t*>(w + 4);
    for (int j = 0; j < 8; ++j) {
      const int scale = j < 4 ? sc[j] & 63 : (sc[j + 4] & 15) | ((sc[j - 4] >> 6) << 4);
      const int min = j < 4 ? sc[j + 4] & 63 : (sc[j + 4] >> 4) | ((sc[j] >> 6) << 4);
      const std::byte* qs = w + 16 + 32 * (j / 2);
      const uint8x16_t b0 = load_u8(qs), b1 = load_u8(qs + 16);
      const int8x16_t q0 = vreinterpretq_s8_u8(j % 2 ? vshrq_n_u8(b0, 4) : vandq_u8(b0, m4));
      const int8x16_t q1 = vreinterpretq_s8_u8(j % 2 ? vshrq_n_u8(b1, 4) : vandq_u8(b1, m4));
      const int64_t blk = b * 8 + j;
      for (int r = 0; r < R; ++r) {
        const int8_t* x = a.row(n0 + r) + 32 * blk;
        const int32x4_t p = D::dot(D::dot(vdupq_n_s32(0), q0, load_s8(x)), q1, load_s8(x + 16));
        const float dx = a.scales(n0 + r)[blk];
        acc[r] = vfmaq_n_f32(acc[r], vcvtq_f32_s32(p), d * static_cast<float>(scale) * dx);
        mins[r] += dmin * static_cast<float>(min) * dx * static_cast<float>(a.sums(n0 + r)[blk]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    out[r] = vaddvq_f32(acc[r]) - mins[r];
}

// Q6_K: per 128 elements 64 bytes of low nibbles and 32 of high bit pairs; an int8 scale per
// 16 elements.
template <class D, int R>
void dot_q6_k(const std::byte* w, int64_t k, const BlockView& a, int64_t n0, float* out) {
  float32x4_t acc[R];
  for (int r = 0; r < R; ++r)
    acc[r] = vdupq_n_f32(0);
  const uint8x16_t m4 = vdupq_n_u8(15), m2 = vdupq_n_u8(3);
  const int8x16_t bias = vdupq_n_s8(32);
  for (int64_t b = 0; b < k / 256; ++b, w += 210) {
    const float d = fp16(w + 208);
    const auto* sc = reinterpret_cast<const int8_t*>(w + 192);
    for (int half = 0; half < 2; ++half) {
      const std::byte* ql = w + 64 * half;
      const uint8x16_t qh[2] = {load_u8(w + 128 + 32 * half), load_u8(w + 144 + 32 * half)};
      for (int g = 0; g < 4; ++g) {
        int8x16_t q[2];
        for (int i = 0; i < 2; ++i) {
          const uint8x16_t l4 = load_u8(ql + 32 * (g & 1) + 16 * i);
          const uint8x16_t nib = g >> 1 ? vshrq_n_u8(l4, 4) : vandq_u8(l4, m4);
          const uint8x16_t hi =
              vandq_u8(vshlq_u8(qh[i], vdupq_n_s8(static_cast<int8_t>(-2 * g))), m2);
          q[i] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(nib, vshlq_n_u8(hi, 4))), bias);
        }
        const int32_t s0 = sc[8 * half + 2 * g], s1 = sc[8 * half + 2 * g + 1];
        const int64_t blk = b * 8 + half * 4 + g;
        for (int r = 0; r < R; ++r) {
          const int8_t* x = a.row(n0 + r) + 32 * blk;
          const int32x4_t p0 = D::dot(vdupq_n_s32(0), q[0], load_s8(x));
          const int32x4_t p1 = D::dot(vdupq_n_s32(0), q[1], load_s8(x + 16));
          const int32x4_t p = vmlaq_n_s32(vmulq_n_s32(p0, s0), p1, s1);
          acc[r] = vfmaq_n_f32(acc[r], vcvtq_f32_s32(p), d * a.scales(n0 + r)[blk]);
        }
      }
    }
  }
  for (int r = 0; r < R; ++r)
    out[r] = vaddvq_f32(acc[r]);
}

// The four 2-bit codes of each byte, as int8 values 0..2 (shift 6, 4, 2, 0).
inline void codes4(uint8x16_t b, int8x16_t c[4]) {
  const uint8x16_t m3 = vdupq_n_u8(3);
  c[0] = vreinterpretq_s8_u8(vshrq_n_u8(b, 6));
  c[1] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(b, 4), m3));
  c[2] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(b, 2), m3));
  c[3] = vreinterpretq_s8_u8(vandq_u8(b, m3));
}

// I2_S: 128 elements in 32 bytes, element 32g+j of a block in byte j at shift 6-2g, code c
// meaning c-1; sum (c-1)*x = sum c*x - sum x.
template <class D, int R>
void dot_i2_s(const std::byte* w, int64_t k, float scale, const RowView& a, int64_t n0,
              float* out) {
  // Two accumulators per row (first and second 16 of each group): two dependency chains.
  int32x4_t acc[R][2];
  for (int r = 0; r < R; ++r)
    acc[r][0] = acc[r][1] = vdupq_n_s32(0);
  for (int64_t b = 0; b < k / 128; ++b) {
    int8x16_t lo[4], hi[4];
    codes4(load_u8(w + 32 * b), lo);
    codes4(load_u8(w + 32 * b + 16), hi);
    for (int r = 0; r < R; ++r) {
      const int8_t* x = a.row(n0 + r) + 128 * b;
      for (int g = 0; g < 4; ++g) {
        acc[r][0] = D::dot(acc[r][0], lo[g], load_s8(x + 32 * g));
        acc[r][1] = D::dot(acc[r][1], hi[g], load_s8(x + 32 * g + 16));
      }
    }
  }
  // The same double arithmetic as cpu-generic, so the two agree to the bit.
  for (int r = 0; r < R; ++r) {
    const int32_t dot = vaddvq_s32(vaddq_s32(acc[r][0], acc[r][1])) - a.total(n0 + r);
    out[r] = static_cast<float>(static_cast<double>(scale) * dot * a.step(n0 + r));
  }
}

// TQ2_0: per 256 elements 64 bytes of codes, element 32*(4h+l)+m in byte 32h+m at shift 2l,
// then the fp16 block scale.
template <class D, int R>
void dot_tq2_0(const std::byte* w, int64_t k, const RowView& a, int64_t n0, float* out) {
  double acc[R] = {};
  const uint8x16_t m3 = vdupq_n_u8(3);
  for (int64_t b = 0; b < k / 256; ++b, w += 66) {
    int32x4_t s[R][2];  // two dependency chains per row, as in dot_i2_s
    for (int r = 0; r < R; ++r)
      s[r][0] = s[r][1] = vdupq_n_s32(0);
    for (int h = 0; h < 2; ++h) {
      const uint8x16_t bytes[2] = {load_u8(w + 32 * h), load_u8(w + 32 * h + 16)};
      for (int l = 0; l < 4; ++l) {
        const int8_t shift = static_cast<int8_t>(-2 * l);
        const int8x16_t c0 =
            vreinterpretq_s8_u8(vandq_u8(vshlq_u8(bytes[0], vdupq_n_s8(shift)), m3));
        const int8x16_t c1 =
            vreinterpretq_s8_u8(vandq_u8(vshlq_u8(bytes[1], vdupq_n_s8(shift)), m3));
        for (int r = 0; r < R; ++r) {
          const int8_t* x = a.row(n0 + r) + 256 * b + 32 * (4 * h + l);
          s[r][0] = D::dot(s[r][0], c0, load_s8(x));
          s[r][1] = D::dot(s[r][1], c1, load_s8(x + 16));
        }
      }
    }
    const double d = fp16(w + 64);
    for (int r = 0; r < R; ++r)
      acc[r] += d * static_cast<double>(vaddvq_s32(vaddq_s32(s[r][0], s[r][1])) -
                                        a.block_sums(n0 + r)[b]);
  }
  for (int r = 0; r < R; ++r)
    out[r] = static_cast<float>(acc[r] * a.step(n0 + r));
}

// Kernel<R>::run for R = 1..4, chosen by the run-time row count.
template <template <int> class Kernel, class... Args>
void by_rows(int r, Args... args) {
  switch (r) {
    case 4:
      return Kernel<4>::run(args...);
    case 3:
      return Kernel<3>::run(args...);
    case 2:
      return Kernel<2>::run(args...);
    default:
      return Kernel<1>::run(args...);
  }
}

template <class D, int32_t T>
struct Q8Q4 {
  template <int R>
  struct K {
    static void run(const std::byte* w, int64_t k, const BlockView* a, int64_t n0, float* out) {
      dot_q8_q4<D, T, R>(w, k, *a, n0, out);
    }
  };
};

template <class D>
struct Kernels {
  template <int R>
  struct Q4K {
    static void run(const std::byte* w, int64_t k, const BlockView* a, int64_t n0, float* out) {
      dot_q4_k<D, R>(w, k, *a, n0, out);
    }
  };
  template <int R>
  struct Q6K {
    static void run(const std::byte* w, int64_t k, const BlockView* a, int64_t n0, float* out) {
      dot_q6_k<D, R>(w, k, *a, n0, out);
    }
  };
  template <int R>
  struct I2S {
    static void run(const std::byte* w, int64_t k, float s, const RowView* a, int64_t n0,
                    float* out) {
      dot_i2_s<D, R>(w, k, s, *a, n0, out);
    }
  };
  template <int R>
  struct TQ2 {
    static void run(const std::byte* w, int64_t k, const RowView* a, int64_t n0, float* out) {
      dot_tq2_0<D, R>(w, k, *a, n0, out);
    }
  };
};

template <class D>
QuantKernels table() {
  using K = Kernels<D>;
  QuantKernels t{};
  t.q8_0 = [](const std::byte* w, int64_t k, const BlockView& a, int64_t n0, int r, float* out) {
    by_rows<Q8Q4<D, BITNET_TYPE_Q8_0>::template K>(r, w, k, &a, n0, out);
  };
  t.q4_0 = [](const std::byte* w, int64_t k, const BlockView& a, int64_t n0, int r, float* out) {
    by_rows<Q8Q4<D, BITNET_TYPE_Q4_0>::template K>(r, w, k, &a, n0, out);
  };
  t.q4_k = [](const std::byte* w, int64_t k, const BlockView& a, int64_t n0, int r, float* out) {
    by_rows<K::template Q4K>(r, w, k, &a, n0, out);
  };
  t.q6_k = [](const std::byte* w, int64_t k, const BlockView& a, int64_t n0, int r, float* out) {
    by_rows<K::template Q6K>(r, w, k, &a, n0, out);
  };
  t.i2_s = [](const std::byte* w, int64_t k, float s, const RowView& a, int64_t n0, int r,
              float* out) { by_rows<K::template I2S>(r, w, k, s, &a, n0, out); };
  t.tq2_0 = [](const std::byte* w, int64_t k, const RowView& a, int64_t n0, int r, float* out) {
    by_rows<K::template TQ2>(r, w, k, &a, n0, out);
  };
  return t;
}
