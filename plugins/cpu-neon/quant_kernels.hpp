// Dot products of quantised weight rows with quantised activation rows, in two builds of one
// source (quant_dot.hpp): with the dot-product extension (SDOT, quant_dot_sdot.cpp, the only
// file compiled for Armv8.2-A+dotprod) and with plain Armv8.0 NEON (quant_dot_plain.cpp). The
// backend picks one table at run time from AT_HWCAP.
#pragma once

#include <cstddef>
#include <cstdint>

#include "activations.hpp"

namespace bitnet::cpu_neon {

// Each kernel dots one weight row of k elements with activation rows n0 .. n0 + r - 1
// (r is 1 to 4) and writes r floats to out.
struct QuantKernels {
  using Block = void (*)(const std::byte* w, int64_t k, const BlockView& a, int64_t n0, int r,
                         float* out);
  Block q8_0, q4_0, q4_k, q6_k;
  // I2_S: `scale` is the tensor's; the result matches cpu-generic to the bit.
  void (*i2_s)(const std::byte* w, int64_t k, float scale, const RowView& a, int64_t n0, int r,
               float* out);
  // TQ2_0: the same arithmetic as cpu-generic, so also bit-exact.
  void (*tq2_0)(const std::byte* w, int64_t k, const RowView& a, int64_t n0, int r, float* out);
};

const QuantKernels& sdot_kernels();
const QuantKernels& plain_kernels();

}  // namespace bitnet::cpu_neon
