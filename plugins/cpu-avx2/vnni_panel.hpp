// Shared by the ternary prefill kernels (i2s_vnni.cpp, tq2_vnni.cpp), included after their
// AVX-512 target pragma: the transpose that packs weight rows into a panel.
#pragma once

#include <immintrin.h>

namespace bitnet::cpu_avx2 {

// out[j] = dword j of every one of the 16 rows, row i in lane i: the panel's 16 lines from 64
// bytes of each row, by unpacks within 128-bit lanes and then 128-bit lane shuffles (64 shuffles
// for 256 dwords, against a gather per line that costs several times that here).
inline void transpose16(const __m512i (&rows)[16], __m512i (&out)[16]) {
  __m512i b[4][4];  // b[j][q]: within lane l, dword 4l + j of rows 4q .. 4q + 3
  for (int q = 0; q < 4; ++q) {
    const __m512i a0 = _mm512_unpacklo_epi32(rows[4 * q], rows[4 * q + 1]);
    const __m512i a1 = _mm512_unpackhi_epi32(rows[4 * q], rows[4 * q + 1]);
    const __m512i a2 = _mm512_unpacklo_epi32(rows[4 * q + 2], rows[4 * q + 3]);
    const __m512i a3 = _mm512_unpackhi_epi32(rows[4 * q + 2], rows[4 * q + 3]);
    b[0][q] = _mm512_unpacklo_epi64(a0, a2);
    b[1][q] = _mm512_unpackhi_epi64(a0, a2);
    b[2][q] = _mm512_unpacklo_epi64(a1, a3);
    b[3][q] = _mm512_unpackhi_epi64(a1, a3);
  }
  for (int j = 0; j < 4; ++j) {
    const __m512i u0 = _mm512_shuffle_i32x4(b[j][0], b[j][1], 0x44);
    const __m512i u1 = _mm512_shuffle_i32x4(b[j][0], b[j][1], 0xee);
    const __m512i u2 = _mm512_shuffle_i32x4(b[j][2], b[j][3], 0x44);
    const __m512i u3 = _mm512_shuffle_i32x4(b[j][2], b[j][3], 0xee);
    out[j] = _mm512_shuffle_i32x4(u0, u2, 0x88);
    out[4 + j] = _mm512_shuffle_i32x4(u0, u2, 0xdd);
    out[8 + j] = _mm512_shuffle_i32x4(u1, u3, 0x88);
    out[12 + j] = _mm512_shuffle_i32x4(u1, u3, 0xdd);
  }
}

}  // namespace bitnet::cpu_avx2
