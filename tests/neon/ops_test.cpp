// Op conformance on arm64: cpu-neon claims exactly the (op, type) pairs cpu-generic claims, and
// computes each of them like cpu-generic on random inputs of awkward sizes (rows and columns
// that are not multiples of a vector or block; 1 to 4 activation rows per weight pass). The
// bounds are backend_conformance's, tightened to exact equality where the op is specified to
// the bit (ternary matmuls, and every op cpu-neon takes from cpu-generic's code).
#include <bitnet/sdk/half.hpp>
#include <bitnet/sdk/ops.hpp>
#include <bitnet/sdk/types.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "plugin_loader.hpp"
#include "random_data.hpp"

using namespace neon_test;

namespace {

bool is_block_quant(int32_t t) {
  return t == BITNET_TYPE_Q8_0 || t == BITNET_TYPE_Q4_0 || t == BITNET_TYPE_Q4_K ||
         t == BITNET_TYPE_Q6_K;
}

// max|neon - generic| / max|generic| allowed: activations quantised per 32-element block cost
// about 1/254 of each term; float weights differ only in summation order.
double bound(int32_t op, int32_t type) {
  if (op != BITNET_OP_MUL_MAT) return 0;
  if (is_block_quant(type)) return 1e-2;
  if (type == BITNET_TYPE_I2_S || type == BITNET_TYPE_TQ2_0) return 0;
  return 1e-5;
}

// runtime/src/backend/capabilities.cpp's probe node of (op, type), resized as
// backend_conformance resizes it, with its sources filled with random data.
struct Case {
  bitnet_tensor leaves[BITNET_MAX_SRC];
  bitnet_tensor node;
  std::vector<std::vector<std::byte>> data;

  // MUL_MAT multiplies `n_act` activation rows in each of `batch` batches by one weight matrix.
  Case(int32_t op, int32_t type, int64_t n_act = 5, int64_t batch = 1) {
    constexpr int32_t f32 = BITNET_TYPE_F32, i32 = BITNET_TYPE_I32;
    for (bitnet_tensor& l : leaves)
      l = tensor(f32, {1});
    leaves[0] = tensor(type, {256, 4});
    node = tensor(f32, {256, 4});
    int n_src = 1;
    switch (op) {
      case BITNET_OP_ADD:
      case BITNET_OP_MUL:
        leaves[1] = tensor(f32, {256, 1});
        n_src = 2;
        break;
      case BITNET_OP_SCALE:
        node.op_params[0] = 1.5f;
        break;
      case BITNET_OP_MUL_MAT:
      case BITNET_OP_GET_ROWS: {
        const int64_t block = bitnet::sdk::type_traits(type)->block_elems;
        const int64_t k = type == BITNET_TYPE_I2_S
                              ? 384
                              : std::max<int64_t>(block, 32) * 7 + (block == 1 ? 3 : 0);
        leaves[0] = tensor(type, {k, 37});
        leaves[1] = op == BITNET_OP_MUL_MAT ? tensor(f32, {k, n_act, batch}) : tensor(i32, {3});
        node = op == BITNET_OP_MUL_MAT ? tensor(f32, {37, n_act, batch}) : tensor(f32, {k, 3});
        n_src = 2;
        break;
      }
      case BITNET_OP_RMS_NORM:
        node.op_params[0] = 1e-5f;
        break;
      case BITNET_OP_ROPE:
        leaves[0] = tensor(type, {64, 4, 2});
        leaves[1] = tensor(i32, {2});
        node = tensor(f32, {64, 4, 2});
        node.op_params[0] = 64;
        node.op_params[1] = 10000;
        node.op_params[2] = BITNET_ROPE_NEOX;
        n_src = 2;
        break;
      case BITNET_OP_ATTENTION:
        leaves[0] = tensor(type, {64, 4, 2});
        leaves[1] = leaves[2] = tensor(f32, {64, 2, 8});
        leaves[3] = tensor(i32, {2});
        node = tensor(f32, {64, 4, 2});
        node.op_params[0] = 0.125f;
        n_src = 4;
        break;
      case BITNET_OP_GLU:
        leaves[1] = tensor(f32, {256, 4});
        node.op_params[0] = BITNET_GLU_RELU_SQR;
        n_src = 2;
        break;
      case BITNET_OP_CPY:
        leaves[0] = tensor(f32, {256, 4});
        node = tensor(type, {256, 4});
        break;
    }
    node.op = op;
    node.name = "probe";
    for (int i = 0; i < n_src; ++i)
      node.src[i] = &leaves[i];
  }

  void fill(std::mt19937& rng) {
    for (int i = 0; i < BITNET_MAX_SRC && node.src[i]; ++i) {
      const bitnet_tensor& t = leaves[i];
      const int64_t elems = t.ne[0] * t.ne[1] * t.ne[2] * t.ne[3];
      if (t.type != BITNET_TYPE_I32) {
        data.push_back(random_weights(t.type, elems, rng));
        continue;
      }
      // Row ids within the table, positions within the 8 keys.
      const int64_t limit = node.op == BITNET_OP_GET_ROWS ? leaves[0].ne[1] : 8;
      std::vector<std::byte> ids;
      for (int64_t j = 0; j < elems; ++j) {
        const auto v = static_cast<int32_t>(limit - 1 - 2 * j);
        const auto* p = reinterpret_cast<const std::byte*>(&v);
        ids.insert(ids.end(), p, p + 4);
      }
      data.push_back(std::move(ids));
    }
  }

  std::vector<float> run(Device& d) {
    bitnet_tensor srcs[BITNET_MAX_SRC];
    bitnet_tensor out = node;
    for (size_t i = 0; i < data.size(); ++i) {
      srcs[i] = leaves[i];
      srcs[i].buffer = d.alloc(data[i].size());
      d.upload(srcs[i].buffer, 0, data[i].data(), data[i].size());
      out.src[i] = &srcs[i];
    }
    out.buffer = d.alloc(bytes_of(out));
    d.compute({&out});
    std::vector<std::byte> raw(bytes_of(out));
    d.download(out.buffer, 0, raw.data(), raw.size());
    const size_t n = raw.size() / bitnet::sdk::type_traits(out.type)->block_bytes;
    std::vector<float> values(n);
    for (size_t i = 0; i < n; ++i) {
      if (out.type == BITNET_TYPE_F16) {
        uint16_t h;
        std::memcpy(&h, raw.data() + 2 * i, 2);
        values[i] = bitnet::sdk::fp16_to_f32(h);
      } else {
        std::memcpy(&values[i], raw.data() + 4 * i, 4);
      }
    }
    return values;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(ops)

BOOST_AUTO_TEST_CASE(cpu_neon_runs_the_kernel_path_this_cpu_has) {
  const Plugin& neon = plugin("cpu-neon");
  BOOST_TEST_MESSAGE("cpu-neon scores " << neon.score << ": " << neon.reason);
  BOOST_REQUIRE_MESSAGE(neon.score > plugin("cpu-generic").score, neon.reason);
  const std::string name = Device(neon).name();
  BOOST_TEST_MESSAGE("cpu-neon device: " << name);
  const char* expect = std::getenv("NEON_EXPECT_SDOT");
  BOOST_REQUIRE_MESSAGE(expect, "set NEON_EXPECT_SDOT to 1 or 0 (what the emulated CPU has)");
  const bool sdot = name.find("no SDOT") == std::string::npos;
  BOOST_TEST(sdot == (std::string(expect) == "1"));
}

BOOST_AUTO_TEST_CASE(cpu_neon_claims_what_cpu_generic_claims) {
  Device neon(plugin("cpu-neon")), generic(plugin("cpu-generic"));
  int claimed = 0;
  for (int32_t op = BITNET_OP_NONE + 1; op < BITNET_OP_COUNT; ++op)
    for (const auto& t : bitnet::sdk::kTypeTraits) {
      const Case c(op, t.id);
      BOOST_TEST(neon.supports(c.node) == generic.supports(c.node), bitnet::sdk::op_name(op)
                                                                        << " " << t.name);
      claimed += generic.supports(c.node);
    }
  BOOST_TEST(claimed >= 2 * 9 + 8);
}

BOOST_AUTO_TEST_CASE(every_op_and_type_matches_cpu_generic) {
  Device neon(plugin("cpu-neon")), generic(plugin("cpu-generic"));
  std::mt19937 rng(2024);
  int checked = 0;
  for (int32_t op = BITNET_OP_NONE + 1; op < BITNET_OP_COUNT; ++op)
    for (const auto& t : bitnet::sdk::kTypeTraits) {
      if (!generic.supports(Case(op, t.id).node)) continue;
      // Activation rows: 4 + 1, 4 + 3, 2, and 3 in each of two batches sharing the weights.
      const std::vector<std::pair<int64_t, int64_t>> shapes =
          op == BITNET_OP_MUL_MAT
              ? std::vector<std::pair<int64_t, int64_t>>{{5, 1}, {7, 1}, {2, 1}, {3, 2}}
              : std::vector<std::pair<int64_t, int64_t>>{{5, 1}};
      for (const auto& [n_act, batch] : shapes) {
        const std::string what = std::string(bitnet::sdk::op_name(op)) + " " + std::string(t.name) +
                                 " x" + std::to_string(n_act) + "x" + std::to_string(batch);
        BOOST_TEST_CONTEXT(what) {
          Case c(op, t.id, n_act, batch);
          c.fill(rng);
          const std::vector<float> want = c.run(generic), got = c.run(neon);
          BOOST_REQUIRE_EQUAL(got.size(), want.size());
          double scale = 0, diff = 0;
          for (size_t i = 0; i < got.size(); ++i) {
            BOOST_REQUIRE(std::isfinite(got[i]));
            scale = std::max(scale, std::abs(double{want[i]}));
            diff = std::max(diff, std::abs(double{got[i]} - want[i]));
          }
          BOOST_REQUIRE(scale > 0);
          BOOST_TEST(diff <= bound(op, t.id) * scale);
          BOOST_TEST_MESSAGE(what << ": " << diff / scale);
          ++checked;
        }
      }
    }
  BOOST_TEST_MESSAGE(checked << " cases match cpu-generic");
  BOOST_TEST(checked >= 2 * 9 + 8);
}

BOOST_AUTO_TEST_SUITE_END()
