// Every backend found besides cpu-generic is held to cpu-generic: each op and each weight type
// it claims, on fresh random inputs of awkward sizes (rows and columns that are not multiples
// of a vector or block), with an error bound per type; then whole generated models of the four
// architectures, teacher-forced, must pick cpu-generic's greedy token wherever that choice is
// not a near tie.
#include <bitnet/runtime/backend/backend.hpp>
#include <bitnet/runtime/backend/capabilities.hpp>
#include <bitnet/runtime/model/model.hpp>
#include <bitnet/runtime/model/session.hpp>
#include <bitnet/sdk/ops.hpp>
#include <bitnet/sdk/types.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include "op_case.hpp"
#include "random_model.hpp"

using namespace bitnet;

namespace {

plugins::PluginHost& host() {
  static plugins::PluginHost h =
      plugins::PluginHost::scan(plugins::HostOptions{{BITNET_BUILT_PLUGIN_DIR}});
  return h;
}

// BITNET_CONFORMANCE_BACKEND names the one backend to check (the gpu label's runs set it to
// cuda); unset, every backend that loaded here besides cpu-generic.
const char* only_backend() {
  const char* name = std::getenv("BITNET_CONFORMANCE_BACKEND");
  return name && *name ? name : nullptr;
}

std::vector<const plugins::PluginRecord*> candidates() {
  std::vector<const plugins::PluginRecord*> out;
  for (const plugins::PluginRecord* p : host().ranked(BITNET_PLUGIN_KIND_BACKEND))
    if (p->name != "cpu-generic" && (!only_backend() || p->name == only_backend()))
      out.push_back(p);
  return out;
}

// True, after printing the line CTest's SKIP_REGULAR_EXPRESSION looks for, when the backend
// the run was asked to check cannot run on this machine (the cuda backend without a GPU).
bool skip_unavailable() {
  if (!only_backend() || !candidates().empty()) return false;
  Result<const plugins::PluginRecord*> p =
      host().choose(BITNET_PLUGIN_KIND_BACKEND, only_backend());
  std::cout << "SKIPPED: backend " << only_backend() << " cannot run on this machine ("
            << (p ? "it loaded but was not ranked" : p.error().message) << ")" << std::endl;
  return true;
}

// Runs a case's node on one backend and returns its output.
std::vector<float> run(const bitnet_test::OpCase& c, const plugins::PluginRecord& plugin) {
  Backend backend = Backend::create(plugin).value();
  std::vector<BackendBuffer> buffers;
  bitnet_tensor leaves[BITNET_MAX_SRC];
  bitnet_tensor node = c.probe.node;
  for (size_t i = 0; i < c.data.size(); ++i) {
    leaves[i] = c.probe.leaves[i];
    buffers.push_back(backend.alloc(c.data[i].size()).value());
    BOOST_REQUIRE(buffers.back().upload(0, c.data[i].data(), c.data[i].size()));
    leaves[i].buffer = buffers.back().raw();
    node.src[i] = &leaves[i];
  }
  buffers.push_back(backend.alloc(c.out_bytes()).value());
  node.buffer = buffers.back().raw();
  BOOST_REQUIRE_MESSAGE(backend.supports(node), plugin.name << " refuses its own claim");
  const bitnet_tensor* nodes[] = {&node};
  auto r = backend.compute(nodes);
  BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  std::vector<std::byte> raw(c.out_bytes());
  BOOST_REQUIRE(buffers.back().download(0, raw.data(), raw.size()));
  return c.values(raw);
}

// A generated model of `arch` with `type` weights on `candidate` against cpu-generic: a prompt
// of 12, then 10 teacher-forced decode steps, every step's logits within the model bound and the
// clearly decided steps picking cpu-generic's token.
void compare_model(const plugins::PluginRecord& candidate, const char* arch, int32_t type,
                   int64_t n_ff, int64_t n_rot = 0, int64_t n_embd = 256, int64_t n_head = 4,
                   int64_t n_head_kv = 2) {
  // The process id keeps parallel runs (the cpu and gpu labels) off each other's file.
  const auto path =
      std::filesystem::temp_directory_path() /
      ("bitnet-conformance-" + std::to_string(::getpid()) + "-" + std::string(arch) + ".gguf");
  auto w = testing::random_model({.arch = arch,
                                  .seed = 5,
                                  .weight_type = type,
                                  .embedding_type = BITNET_TYPE_F16,
                                  .n_embd = n_embd,
                                  .n_head = n_head,
                                  .n_head_kv = n_head_kv,
                                  .n_ff = n_ff,
                                  .n_rot = n_rot});
  BOOST_REQUIRE(w);
  BOOST_REQUIRE(w->write(path));
  auto ref = model::Model::load(path, host(), {.backend = "cpu-generic"}).value();
  auto cand = model::Model::load(path, host(), {.backend = candidate.name}).value();
  auto rs = model::Session::create(*ref, 64, 4).value();
  auto cs = model::Session::create(*cand, 64, 4).value();
  // A prompt of 12 (more than a decode kernel takes at once), then 10 teacher-forced
  // steps on the reference's choice.
  std::vector<int32_t> tokens = {1, 7, 42, 99, 5, 17, 3, 11, 23, 64, 8, 2};
  std::vector<float> rl = rs.eval(tokens).value(), cl = cs.eval(tokens).value();
  int compared = 0;
  double worst = 0;
  for (int step = 0; step < 10; ++step) {
    std::vector<float> sorted = rl;
    std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<>());
    float scale = 0, diff = 0;
    for (size_t i = 0; i < rl.size(); ++i) {
      scale = std::max(scale, std::abs(rl[i]));
      diff = std::max(diff, std::abs(rl[i] - cl[i]));
    }
    worst = std::max(worst, double{diff / scale});
    // Where the two best are further apart than twice the allowed error, the
    // candidate must pick the same token.
    const double tie = 2 * bitnet_test::model_bound(type);
    const auto pick = [](const std::vector<float>& v) {
      return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
    };
    const int32_t next = pick(rl);
    if (sorted[0] - sorted[1] > tie * scale) {
      BOOST_TEST(pick(cl) == next, "step " << step);
      ++compared;
    }
    rl = rs.eval(std::span<const int32_t>(&next, 1)).value();
    cl = cs.eval(std::span<const int32_t>(&next, 1)).value();
  }
  BOOST_TEST_MESSAGE(candidate.name << " " << arch << " " << sdk::type_name(type)
                                    << ": max relative logit difference " << worst << ", "
                                    << compared << " of 10 steps decided");
  BOOST_TEST(worst <= bitnet_test::model_bound(type));
  // Block-quantised weights differ by a few percent, so fewer steps are decided.
  BOOST_TEST(compared >= (bitnet_test::model_bound(type) > 1e-3 ? 2 : 8));
  std::filesystem::remove(path);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(backend_conformance)

BOOST_AUTO_TEST_CASE(every_claimed_op_and_type_matches_cpu_generic) {
  const plugins::PluginRecord* generic =
      host().choose(BITNET_PLUGIN_KIND_BACKEND, "cpu-generic").value();
  if (skip_unavailable()) return;
  if (candidates().empty()) BOOST_TEST_MESSAGE("no backend besides cpu-generic to check");
  std::mt19937 rng(2024);
  for (const plugins::PluginRecord* p : candidates()) {
    const BackendCapabilities caps = query_capabilities(*p).value();
    int checked = 0;
    for (const OpSupport& op : caps.ops)
      for (int32_t type : op.types) {
        for (int64_t n_act : op.op == BITNET_OP_MUL_MAT     ? std::vector<int64_t>{1, 5, 70}
                             : op.op == BITNET_OP_ATTENTION ? std::vector<int64_t>{5, 40}
                                                            : std::vector<int64_t>{5}) {
          // 1 and a few activation rows are decode, more are prefill: fast backends take
          // different kernels for each. Attention over 40 keys runs cpu-avx2's blocks of 16.
          BOOST_TEST_CONTEXT(p->name << " " << sdk::op_name(op.op) << " " << sdk::type_name(type)
                                     << " x" << n_act) {
            const bitnet_test::OpCase c(op.op, type, rng, n_act);
            const double error = bitnet_test::relative_error(run(c, *p), run(c, *generic));
            const int32_t weights = op.op == BITNET_OP_MUL_MAT ? type : BITNET_TYPE_F32;
            BOOST_TEST(error <= bitnet_test::op_bound(weights));
            BOOST_TEST_MESSAGE(p->name << " " << sdk::op_name(op.op) << " " << sdk::type_name(type)
                                       << " x" << n_act << ": " << error);
            ++checked;
          }
        }
      }
    BOOST_TEST_MESSAGE(p->name << ": " << checked << " (op, type) pairs match cpu-generic");
    BOOST_TEST(checked > 0);
  }
}

// The row-wise ops on shapes the probes do not have: rows whose length is no multiple of a
// vector (and a single row, and rows shorter than a vector), enough rows for a backend to split
// them over threads, more than two dims, every broadcast of ADD's and MUL's src1, RMS_NORM with
// and without its weight, both GLU kinds, and values far outside the probes' range where that
// takes other paths (SiLU's exp over its whole range, F16 subnormals). Within the F32 op bound
// for every backend, and equal to the bit for the CPU ones.
BOOST_AUTO_TEST_CASE(row_ops_of_awkward_shapes_match_cpu_generic) {
  const plugins::PluginRecord* generic =
      host().choose(BITNET_PLUGIN_KIND_BACKEND, "cpu-generic").value();
  if (skip_unavailable()) return;
  std::mt19937 rng(99);
  for (const plugins::PluginRecord* p : candidates()) {
    // src0's values multiplied by `factor`, then its first few set to `extremes`.
    const auto check = [&](const std::string& name, int32_t op, int32_t type,
                           std::initializer_list<int64_t> shape,
                           std::initializer_list<int64_t> src1, float param, float factor = 1,
                           std::vector<float> extremes = {}) {
      bitnet_test::OpCase c(op, type, rng, shape, src1, param);
      std::vector<std::byte>& raw = c.data[0];
      for (size_t i = 0; i + 4 <= raw.size(); i += 4) {
        float v;
        std::memcpy(&v, raw.data() + i, 4);
        v = i / 4 < extremes.size() ? extremes[i / 4] : v * factor;
        std::memcpy(raw.data() + i, &v, 4);
      }
      BOOST_TEST_CONTEXT(p->name << " " << name) {
        const double error = bitnet_test::relative_error(run(c, *p), run(c, *generic));
        BOOST_TEST_MESSAGE(p->name << " " << name << ": " << error);
        BOOST_TEST(error <= bitnet_test::op_bound(BITNET_TYPE_F32));
        // The CPU backends compute these ops as cpu-generic does, so that ternary models agree
        // to model_bound: to the bit, but for SiLU's exp (libm's against a vector one).
        const bool silu = op == BITNET_OP_GLU && param == static_cast<float>(BITNET_GLU_SILU);
        if (p->name.starts_with("cpu-") && !silu) BOOST_TEST(error == 0);
      }
    };
    constexpr int32_t f32 = BITNET_TYPE_F32;
    for (int32_t op : {BITNET_OP_ADD, BITNET_OP_MUL}) {
      const std::string name(sdk::op_name(op));
      check(name + " [1003,70] by [1003]", op, f32, {1003, 70}, {1003}, 0);
      check(name + " [1003,7,3] by [1003,7]", op, f32, {1003, 7, 3}, {1003, 7}, 0);
      check(name + " [1003,7,3] by [59,1,3]", op, f32, {1003, 7, 3}, {59, 1, 3}, 0);
      check(name + " [1003,7,3] by [1,7]", op, f32, {1003, 7, 3}, {1, 7}, 0);
      check(name + " [13,5] by [13,5]", op, f32, {13, 5}, {13, 5}, 0);
    }
    check("SCALE [1003,70]", BITNET_OP_SCALE, f32, {1003, 70}, {}, 0.37f);
    check("SCALE [7,3]", BITNET_OP_SCALE, f32, {7, 3}, {}, -3.0f);
    check("CPY F32 [1003,70]", BITNET_OP_CPY, f32, {1003, 70}, {}, 0);
    check("CPY F16 [1003,7,3]", BITNET_OP_CPY, BITNET_TYPE_F16, {1003, 7, 3}, {}, 0);
    check("CPY F16 [1003,70] subnormal", BITNET_OP_CPY, BITNET_TYPE_F16, {1003, 70}, {}, 0, 1e-4f);
    for (int kind : {BITNET_GLU_SILU, BITNET_GLU_RELU_SQR}) {
      const std::string name = kind == BITNET_GLU_SILU ? "GLU SiLU" : "GLU ReLU-squared";
      check(name + " [1003,70]", BITNET_OP_GLU, f32, {1003, 70}, {1003, 70}, kind);
      check(name + " [1024,70]", BITNET_OP_GLU, f32, {1024, 70}, {1024, 70}, kind);
      check(name + " [1003,7,3] wide", BITNET_OP_GLU, f32, {1003, 7, 3}, {1003, 7, 3}, kind, 90,
            {-800, -745, -709.5f, -100, 0, -0.0f, 38, 41, 100});
      check(name + " [6]", BITNET_OP_GLU, f32, {6}, {6}, kind);
    }
    for (float eps : {1e-5f, 1e-6f}) {
      check("RMS_NORM [1003,70] by [1003]", BITNET_OP_RMS_NORM, f32, {1003, 70}, {1003}, eps);
      check("RMS_NORM [1003,7,3]", BITNET_OP_RMS_NORM, f32, {1003, 7, 3}, {}, eps);
      check("RMS_NORM [2560] by [2560]", BITNET_OP_RMS_NORM, f32, {2560}, {2560}, eps);
      check("RMS_NORM [5,6] by [5]", BITNET_OP_RMS_NORM, f32, {5, 6}, {5}, eps);
    }
  }
}

// Against cpu-generic the block-quantised types only agree to the int8 activation rounding
// (about 5e-3, bound 1e-2), which would hide a kernel error of 0.1%. cpu-avx2 and cpu-avx512
// quantise the activations identically, so their integer sums are equal and only the float
// order of the per-block scaling may differ: cpu-avx512's VNNI decode kernels and prefill tiles
// are held to cpu-avx2's row kernels that tightly.
BOOST_AUTO_TEST_CASE(cpu_avx512_block_kernels_match_cpu_avx2_on_the_same_int8_activations) {
  if (only_backend()) return;  // a run for one named backend (the gpu label) checks only that
  Result<const plugins::PluginRecord*> avx2 = host().choose(BITNET_PLUGIN_KIND_BACKEND, "cpu-avx2");
  Result<const plugins::PluginRecord*> avx512 =
      host().choose(BITNET_PLUGIN_KIND_BACKEND, "cpu-avx512");
  if (!avx2 || !avx512) {
    BOOST_TEST_MESSAGE("cpu-avx2 and cpu-avx512 do not both run on this machine: not compared");
    return;
  }
  std::mt19937 rng(77);
  // The probes' widths (7 blocks) and, for decode, widths of whole line-read groups, which the
  // Q4_0 and Q8_0 decode kernels take a path of their own for.
  const std::pair<int64_t, int64_t> shapes[] = {{1, 0}, {5, 0}, {70, 0}, {1, 512}, {1, 8192}};
  for (int32_t type : {BITNET_TYPE_Q8_0, BITNET_TYPE_Q4_0, BITNET_TYPE_Q4_K, BITNET_TYPE_Q6_K})
    for (const auto& [n_act, k] : shapes) {
      BOOST_TEST_CONTEXT(sdk::type_name(type) << " x" << n_act << " k " << k) {
        const bitnet_test::OpCase c(BITNET_OP_MUL_MAT, type, rng, n_act, 1, k);
        const double error = bitnet_test::relative_error(run(c, **avx512), run(c, **avx2));
        BOOST_TEST_MESSAGE("cpu-avx512 against cpu-avx2 " << sdk::type_name(type) << " x" << n_act
                                                          << " k " << k << ": " << error);
        BOOST_TEST(error <= 1e-5);
      }
    }
}

BOOST_AUTO_TEST_CASE(generated_models_pick_cpu_generic_greedy_tokens) {
  if (skip_unavailable()) return;
  if (candidates().empty()) BOOST_TEST_MESSAGE("no backend besides cpu-generic to check");
  for (const plugins::PluginRecord* p : candidates())
    for (const char* arch : {"llama", "bitnet-b1.58", "qwen2", "phi3"})
      for (int32_t type : {BITNET_TYPE_F16, BITNET_TYPE_Q8_0, BITNET_TYPE_Q4_0, BITNET_TYPE_Q4_K,
                           BITNET_TYPE_Q6_K, BITNET_TYPE_I2_S, BITNET_TYPE_TQ2_0}) {
        BOOST_TEST_CONTEXT(p->name << " " << arch << " " << sdk::type_name(type)) {
          compare_model(*p, arch, type, 512);
        }
      }
}

// RoPE over half of each 64-wide head, in both pair layouts (llama's adjacent pairs, BitNet's
// (i, i + dims/2)): cuda rotates q and k, and writes the KV cache, as the q/k/v matvec stores
// its rows, and orders the rows so that each warp holds whole pairs and the rows past the
// rotated dims.
BOOST_AUTO_TEST_CASE(partial_rotary_models_pick_cpu_generic_greedy_tokens) {
  if (skip_unavailable()) return;
  for (const plugins::PluginRecord* p : candidates())
    for (const auto& [arch, type] :
         {std::pair{"llama", BITNET_TYPE_Q4_0}, std::pair{"llama", BITNET_TYPE_F16},
          std::pair{"bitnet-b1.58", BITNET_TYPE_I2_S}}) {
      BOOST_TEST_CONTEXT(p->name << " " << arch << " " << sdk::type_name(type)) {
        compare_model(*p, arch, type, 512, 32);
      }
    }
}

// Matmuls at widths every block divides, which the probes' widths avoid: cuda multiplies
// decode rows of block-quantised weights over int8 activations from weight rows staged in
// 16-byte chunks (a width of 8192 is an FFN down's), and prefill (70 activation rows) through
// cuBLAS on converted operands (rows a multiple of 8 elements, more than 8 of them); no other
// op-level check reaches those paths.
BOOST_AUTO_TEST_CASE(matmuls_at_block_widths_match_cpu_generic) {
  const plugins::PluginRecord* generic =
      host().choose(BITNET_PLUGIN_KIND_BACKEND, "cpu-generic").value();
  if (skip_unavailable()) return;
  std::mt19937 rng(113);
  const std::pair<int64_t, int64_t> shapes[] = {{1, 512}, {1, 8192}, {70, 512}};
  for (const plugins::PluginRecord* p : candidates())
    for (const OpSupport& op : query_capabilities(*p).value().ops)
      if (op.op == BITNET_OP_MUL_MAT)
        for (int32_t type : op.types)
          for (const auto& [n_act, k] : shapes) {
            BOOST_TEST_CONTEXT(p->name << " " << sdk::type_name(type) << " k " << k << " x"
                                       << n_act) {
              const bitnet_test::OpCase c(BITNET_OP_MUL_MAT, type, rng, n_act, 1, k);
              const double error = bitnet_test::relative_error(run(c, *p), run(c, *generic));
              BOOST_TEST(error <= bitnet_test::op_bound(type));
              // The CPU backends' ternary kernels sum in integers and scale in double, in the
              // reference's order or (cpu-avx512's TQ2_0 decode, lane by lane) in one whose
              // partial sums are exact at these scales.
              const bool ternary = type == BITNET_TYPE_I2_S || type == BITNET_TYPE_TQ2_0;
              if (ternary && p->name.starts_with("cpu-")) BOOST_TEST(error == 0);
              BOOST_TEST_MESSAGE(p->name << " MUL_MAT " << sdk::type_name(type) << " k " << k
                                         << " x" << n_act << ": " << error);
            }
          }
}

// Batch-1 ternary matmuls as wide as real models' rows (2B4T's FFN down is 6912; 20608 is more
// than one pass of cuda's decode kernel holds), alone and, in a model, after the RMS_NORM that
// cuda computes inside the matmul: fast kernels take other paths at these widths than at the
// probes' 384.
BOOST_AUTO_TEST_CASE(wide_ternary_rows_match_cpu_generic) {
  const plugins::PluginRecord* generic =
      host().choose(BITNET_PLUGIN_KIND_BACKEND, "cpu-generic").value();
  if (skip_unavailable()) return;
  std::mt19937 rng(91);
  for (const plugins::PluginRecord* p : candidates()) {
    for (int64_t k : {6912, 20608})
      for (int64_t n_act : {1, 5}) {
        BOOST_TEST_CONTEXT(p->name << " I2_S k " << k << " x" << n_act) {
          const bitnet_test::OpCase c(BITNET_OP_MUL_MAT, BITNET_TYPE_I2_S, rng, n_act, 1, k);
          const double error = bitnet_test::relative_error(run(c, *p), run(c, *generic));
          BOOST_TEST(error <= bitnet_test::op_bound(BITNET_TYPE_I2_S));
          BOOST_TEST_MESSAGE(p->name << " I2_S k " << k << " x" << n_act << ": " << error);
        }
      }
    BOOST_TEST_CONTEXT(p->name << " bitnet-b1.58 I2_S n_ff 6912") {
      compare_model(*p, "bitnet-b1.58", BITNET_TYPE_I2_S, 6912);
    }
    // Rows enough for cuda's decode matvecs to launch grids of more than a block an SM for the
    // q/k/v (with the ROPE and cache-write epilogue), o (with the residual ADD) and FFN down,
    // as real models' widths do; the 256-wide models never do.
    BOOST_TEST_CONTEXT(p->name << " bitnet-b1.58 I2_S n_embd 2304") {
      compare_model(*p, "bitnet-b1.58", BITNET_TYPE_I2_S, 512, 0, 2304, 18, 6);
    }
  }
}

// Prefill attention as models run it: the head dims of real models, an F16 cache, grouped
// heads, more queries and keys than a fast kernel's tile takes (and counts that are not
// multiples of it), after a past of 80 tokens; and queries in no order, some seeing a single key.
BOOST_AUTO_TEST_CASE(prefill_attention_of_model_shapes_matches_cpu_generic) {
  const plugins::PluginRecord* generic =
      host().choose(BITNET_PLUGIN_KIND_BACKEND, "cpu-generic").value();
  if (skip_unavailable()) return;
  std::mt19937 rng(17);
  std::vector<int32_t> after_past(70), scattered(45);
  for (int32_t t = 0; t < 70; ++t)
    after_past[t] = 80 + t;
  for (int32_t t = 0; t < 45; ++t)
    scattered[t] = (t * 37) % 150;
  for (const plugins::PluginRecord* p : candidates())
    for (int64_t head_dim : {64, 128})
      for (int32_t kv_type : {BITNET_TYPE_F16, BITNET_TYPE_F32})
        for (const auto* positions : {&after_past, &scattered}) {
          BOOST_TEST_CONTEXT(p->name << " head_dim " << head_dim << " " << sdk::type_name(kv_type)
                                     << " keys, " << positions->size() << " queries") {
            const bitnet_test::OpCase c(rng, {head_dim, 8, 2, 150, kv_type, *positions});
            const double error = bitnet_test::relative_error(run(c, *p), run(c, *generic));
            BOOST_TEST_MESSAGE(p->name << " ATTENTION head_dim " << head_dim << " "
                                       << sdk::type_name(kv_type) << " x" << positions->size()
                                       << ": " << error);
            BOOST_TEST(error <= bitnet_test::op_bound(BITNET_TYPE_F32));
          }
        }
}

BOOST_AUTO_TEST_SUITE_END()
