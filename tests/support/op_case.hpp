// Op conformance cases shared by backend_conformance (every backend, through the runtime) and
// the arm64 harness (cpu-neon over the bare C ABI): the runtime's probe node of (op, type)
// resized to awkward shapes, valid random data for its sources, and the bounds a backend is
// held to against cpu-generic. Needs only sdk/ and runtime/src/backend/probe.cpp, so the cross
// build compiles it as it is.
#pragma once

#include <bitnet/runtime/backend/probe.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <vector>

namespace bitnet_test {

bool block_quantised(int32_t type);
bool ternary(int32_t type);

// Bound on max|candidate - reference| / max|reference| for one matmul with `weights`. Float
// weights: only the summation order differs. Ternary: the int8 activations are specified
// exactly (backend.h), so integer sums agree. Other quantised weights: a backend may quantise
// activations (to 8 bits per 32-element block, as llama.cpp does), about 1/254 of each term.
double op_bound(int32_t weights);

// The same over a whole model's logits, errors compounding through the layers. Ternary matmuls
// and every other op are specified to the bit, so those models agree up to the F16 output
// head's summation order.
double model_bound(int32_t weights);

// Valid random data of `type` for `n` elements: random codes under small positive scales, float
// values; values about `typical` in size.
std::vector<std::byte> random_weights(int32_t type, int64_t n, std::mt19937& rng,
                                      float typical = 0.5f);

size_t bytes_of(const bitnet_tensor& t);

// The probe node of `op` over `type` with its sources filled with random data. MUL_MAT and
// GET_ROWS get rows and columns that are not multiples of a vector or block; MUL_MAT multiplies
// `n_act` activation rows in each of `batch` batches by one weight matrix. ATTENTION with
// `n_act` above the probe's 8 keys gets that many keys and 8 queries (a prefill), at the last
// positions two apart. A MUL_MAT or GET_ROWS with `k` has rows of k elements instead (a width a
// kernel takes another path for).
struct OpCase {
  OpCase(int32_t op, int32_t type, std::mt19937& rng, int64_t n_act = 5, int64_t batch = 1,
         int64_t k = 0);
  // A row-wise op (ADD, MUL, SCALE, GLU, CPY, RMS_NORM) over src0 `shape`, its src1 (ADD's,
  // MUL's, GLU's: required; RMS_NORM's weight: optional) shaped `src1` ({}: none), `param` as
  // op_params[0] (GLU's kind, RMS_NORM's epsilon, SCALE's factor).
  OpCase(int32_t op, int32_t type, std::mt19937& rng, std::initializer_list<int64_t> shape,
         std::initializer_list<int64_t> src1, float param);
  // ATTENTION of one query per position over `keys` keys of `kv_type` (F16 as a model's cache
  // holds them, or F32), `heads` query heads sharing `kv_heads`.
  struct Attention {
    int64_t head_dim, heads, kv_heads, keys;
    int32_t kv_type;
    std::vector<int32_t> positions;
  };
  OpCase(std::mt19937& rng, const Attention& a);
  bitnet::Probe probe;
  std::vector<std::vector<std::byte>> data;  // per source of probe.node

  size_t out_bytes() const { return bytes_of(probe.node); }
  // The node's output (F32 or F16) as floats.
  std::vector<float> values(const std::vector<std::byte>& raw) const;

 private:
  void fill(std::mt19937& rng);
};

// max|got - want| / max|want|; infinite where the sizes differ, `got` holds a value that is not
// finite, or `want` is all zeros (a case that could not fail).
double relative_error(const std::vector<float>& got, const std::vector<float>& want);

}  // namespace bitnet_test
