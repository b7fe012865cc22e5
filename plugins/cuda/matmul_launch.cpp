#include "matmul_launch.hpp"

#include <bitnet/sdk/types.hpp>

#include <algorithm>

#include "buffer.hpp"
#include "tensor_util.hpp"

namespace bitnet::cuda {
namespace {

constexpr size_t kAlign = 256;

size_t round_up(size_t n) {
  return (n + kAlign - 1) / kAlign * kAlign;
}

}  // namespace

int8_t* scratch_q(const LaunchContext& ctx) {
  return reinterpret_cast<int8_t*>(ctx.scratch->data());
}

float* scratch_amax(const LaunchContext& ctx, int64_t n, int64_t k) {
  return reinterpret_cast<float*>(ctx.scratch->data() + round_up(static_cast<size_t>(n * k)));
}

namespace {

// Prefill products go to cuBLAS where it is loaded: I2_S exactly (int8 codes times the int8
// activations, int32 sums), block-quantised types in F16 (their error bound allows it), F16
// weights as they are stored (f16_mul_mat), F32 and BF16 weights in F32. Weights are unpacked
// kBlasChunk bytes of rows at a time.
constexpr int64_t kBlasRows = 8;  // more activation rows than the matvec kernels take
constexpr size_t kBlasChunk = size_t{64} << 20;

bool block_quantised(int32_t type) {
  return type == BITNET_TYPE_Q8_0 || type == BITNET_TYPE_Q4_0 || type == BITNET_TYPE_Q4_K ||
         type == BITNET_TYPE_Q6_K;
}

// F16 weights go to the tensor cores unconverted against the activations in two F16 parts,
// hi = f16(x) and lo = what that rounding lost (launch_rows_to_half): W*hi + W*lo summed in F32
// is within about 1e-6 of the F32 product, where F16 activations alone would miss it by 5e-4,
// past F16 weights' bound. Rows starting on 16-byte boundaries keep cuBLAS on its aligned
// kernels.
bool f16_in_place(const bitnet_tensor& w) {
  return w.type == BITNET_TYPE_F16 && w.nb[1] % 16 == 0;
}

bool blas_shape(const bitnet_tensor& node) {
  const bitnet_tensor &w = *node.src[0], &x = *node.src[1];
  return x.ne[1] > kBlasRows && w.type != BITNET_TYPE_TQ2_0 && flat(w) && flat(x) && flat(node) &&
         w.ne[0] % 8 == 0 && x.nb[1] % 4 == 0 && node.nb[1] % 4 == 0;
}

// Weight rows unpacked per cuBLAS call, so that neither they nor the int32 sums pass kBlasChunk.
int64_t blas_rows(const bitnet_tensor& node) {
  const int64_t k = node.src[0]->ne[0], n = node.src[1]->ne[1], m = node.src[0]->ne[1];
  const auto cap = static_cast<int64_t>(kBlasChunk / (4 * static_cast<size_t>(std::max(k, n))));
  return std::min(m, std::max<int64_t>(cap / 16 * 16, 16));
}

size_t blas_scratch(const bitnet_tensor& node) {
  const auto k = static_cast<size_t>(node.src[0]->ne[0]),
             n = static_cast<size_t>(node.src[1]->ne[1]);
  const auto mc = static_cast<size_t>(blas_rows(node));
  if (node.src[0]->type == BITNET_TYPE_I2_S)
    return round_up(n * k) + round_up(n * sizeof(float)) + round_up(mc * k) + n * mc * 4;
  if (f16_in_place(*node.src[0])) return round_up(n * k * 2) + n * k * 2;
  return round_up(n * k * 2) + mc * k * 4;
}

void f16_mul_mat(const bitnet_tensor& node, const LaunchContext& ctx) {
  const bitnet_tensor &w = *node.src[0], &x = *node.src[1];
  const int64_t m = w.ne[1], n = x.ne[1], k = w.ne[0];
  char* const hi = ctx.scratch->data();
  char* const lo = hi + round_up(static_cast<size_t>(n * k) * 2);
  launch_rows_to_half(reinterpret_cast<const float*>(device_data(x)), x.nb[1], n, k, hi, lo,
                      ctx.stream);
  const char* const w_data = device_data(w);
  auto* const d = reinterpret_cast<float*>(device_data(node));
  const auto lda = static_cast<int64_t>(w.nb[1] / 2), ldc = static_cast<int64_t>(node.nb[1] / 4);
  ctx.blas->gemm(CUDA_R_16F, w_data, lda, hi, k, d, ldc, m, n, k);
  ctx.blas->gemm(CUDA_R_16F, w_data, lda, lo, k, d, ldc, m, n, k, true, 1.0f / kHalfLoScale);
}

void blas_mul_mat(const bitnet_tensor& node, const LaunchContext& ctx, Quantized& held) {
  const bitnet_tensor &w = *node.src[0], &x = *node.src[1];
  const int64_t m = w.ne[1], n = x.ne[1], k = w.ne[0], mc = blas_rows(node);
  char* const w_data = device_data(w);
  char* const x_data = device_data(x);
  char* const d_data = device_data(node);
  char* const base = ctx.scratch->data();
  const auto* x_rows = reinterpret_cast<const float*>(x_data);
  if (w.type == BITNET_TYPE_I2_S) {
    if (!held.holds(x)) {
      launch_quantize_rows(x_rows, x.nb[1], n, k, scratch_q(ctx), scratch_amax(ctx, n, k),
                           ctx.stream);
      held = Quantized{x_data, k, n, x.nb[1]};
    }
    auto* codes = reinterpret_cast<int8_t*>(base + round_up(static_cast<size_t>(n * k)) +
                                            round_up(static_cast<size_t>(n) * 4));
    auto* sums = reinterpret_cast<int32_t*>(reinterpret_cast<char*>(codes) +
                                            round_up(static_cast<size_t>(mc * k)));
    const auto* scale = reinterpret_cast<const float*>(w_data + static_cast<size_t>(m) * w.nb[1]);
    for (int64_t m0 = 0; m0 < m; m0 += mc) {
      const int64_t rows_now = std::min(mc, m - m0);
      launch_i2s_to_int8(w_data + m0 * w.nb[1], w.nb[1], rows_now, k, codes, ctx.stream);
      ctx.blas->gemm(CUDA_R_8I, codes, k, scratch_q(ctx), k, sums, rows_now, rows_now, n, k);
      launch_scale_ternary(sums, rows_now, n, scale, scratch_amax(ctx, n, k),
                           reinterpret_cast<float*>(d_data) + m0, node.nb[1], ctx.stream);
    }
    return;
  }
  const bool half = block_quantised(w.type);
  // The F16 activations below overwrite the int8 rows that ternary matmuls keep in scratch.
  if (half || f16_in_place(w)) held = Quantized{};
  if (f16_in_place(w)) return f16_mul_mat(node, ctx);
  const void* xs = x_data;
  int64_t ldb = static_cast<int64_t>(x.nb[1] / 4);
  if (half) {
    launch_rows_to_half(x_rows, x.nb[1], n, k, base, nullptr, ctx.stream);
    xs = base;
    ldb = k;
  }
  char* const unpacked = base + round_up(static_cast<size_t>(n * k) * 2);
  for (int64_t m0 = 0; m0 < m; m0 += mc) {
    const int64_t rows_now = std::min(mc, m - m0);
    const char* rows_at = w_data + m0 * w.nb[1];
    int64_t lda = k;
    if (w.type == BITNET_TYPE_F32) {
      lda = static_cast<int64_t>(w.nb[1] / 4);
    } else {
      launch_weights_to(w.type, half, rows_at, w.nb[1], rows_now, k, unpacked, ctx.stream);
      rows_at = unpacked;
    }
    ctx.blas->gemm(half ? CUDA_R_16F : CUDA_R_32F, rows_at, lda, xs, ldb,
                   reinterpret_cast<float*>(d_data) + m0, static_cast<int64_t>(node.nb[1] / 4),
                   rows_now, n, k);
  }
}

}  // namespace

void launch_mul_mat(const bitnet_tensor& node, const LaunchContext& ctx, Quantized& held) {
  if (ctx.blas && blas_shape(node)) return blas_mul_mat(node, ctx, held);
  const bitnet_tensor &w = *node.src[0], &x = *node.src[1];
  char* const w_data = device_data(w);
  char* const x_data = device_data(x);
  char* const d_data = device_data(node);
  const auto* i2s_scale = reinterpret_cast<const float*>(
      w.type == BITNET_TYPE_I2_S ? w_data + static_cast<size_t>(rows(w)) * w.nb[1] : nullptr);
  const bool ternary = ternary_matmul(node);
  for (int64_t i3 = 0; i3 < x.ne[3]; ++i3)
    for (int64_t i2 = 0; i2 < x.ne[2]; ++i2) {
      const int64_t w2 = i2 / (x.ne[2] / w.ne[2]), w3 = i3 / (x.ne[3] / w.ne[3]);
      MatmulArgs a{};
      a.type = w.type;
      a.w = w_data + w2 * w.nb[2] + w3 * w.nb[3];
      a.w_stride = w.nb[1];
      a.i2s_scale = i2s_scale;
      a.x = reinterpret_cast<const float*>(x_data + i2 * x.nb[2] + i3 * x.nb[3]);
      a.x_stride = x.nb[1];
      a.dst = reinterpret_cast<float*>(d_data + i2 * node.nb[2] + i3 * node.nb[3]);
      a.dst_stride = node.nb[1];
      a.m = w.ne[1];
      a.n = x.ne[1];
      a.k = w.ne[0];
      if (!ternary) {
        launch_float_matmul(a, ctx.stream);
        continue;
      }
      if (!held.holds(x)) {
        launch_quantize_rows(a.x, a.x_stride, a.n, a.k, scratch_q(ctx), scratch_amax(ctx, a.n, a.k),
                             ctx.stream);
        held = flat(x) ? Quantized{x_data, a.k, a.n, x.nb[1]} : Quantized{};
      }
      launch_ternary_matmul(a, scratch_q(ctx), scratch_amax(ctx, a.n, a.k), ctx.stream);
    }
}

size_t mul_mat_scratch_bytes(const bitnet_tensor& node) {
  const size_t blas = blas_shape(node) ? blas_scratch(node) : 0;
  if (!ternary_matmul(node)) return blas;
  const auto n = static_cast<size_t>(node.src[1]->ne[1]);
  const auto k = static_cast<size_t>(node.src[0]->ne[0]);
  return std::max(blas, round_up(n * k) + n * sizeof(float));
}

}  // namespace bitnet::cuda
