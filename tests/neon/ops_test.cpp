// Op conformance on arm64: cpu-neon claims exactly the (op, type) pairs cpu-generic claims, and
// computes each of them like cpu-generic on backend_conformance's cases (tests/support/op_case:
// rows and columns that are not multiples of a vector or block), here with 1 to 4 activation
// rows per weight pass and the rope and GLU modes the probe leaves out. The bounds are
// backend_conformance's, tightened to exact equality where the op is specified to the bit
// (ternary matmuls, and every op cpu-neon takes from cpu-generic's code).
#include <bitnet/runtime/backend/probe.hpp>
#include <bitnet/sdk/ops.hpp>
#include <bitnet/sdk/types.hpp>

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <string>
#include <utility>

#include "op_case.hpp"
#include "plugin_loader.hpp"

using namespace neon_test;
using bitnet_test::OpCase;

namespace {

double bound(int32_t op, int32_t type) {
  if (op != BITNET_OP_MUL_MAT || bitnet_test::ternary(type)) return 0;
  return bitnet_test::op_bound(type);
}

// The probe's modes are the most common ones; the models cpu-neon runs also take these.
void other_modes(bitnet_tensor& node) {
  if (node.op == BITNET_OP_SCALE) node.op_params[0] = 1.5f;
  if (node.op == BITNET_OP_ROPE) node.op_params[2] = BITNET_ROPE_NEOX;
  if (node.op == BITNET_OP_GLU) node.op_params[0] = BITNET_GLU_RELU_SQR;
}

std::vector<float> run(const OpCase& c, Device& d) {
  bitnet_tensor srcs[BITNET_MAX_SRC];
  bitnet_tensor out = c.probe.node;
  for (size_t i = 0; i < c.data.size(); ++i) {
    srcs[i] = c.probe.leaves[i];
    srcs[i].buffer = d.alloc(c.data[i].size());
    d.upload(srcs[i].buffer, 0, c.data[i].data(), c.data[i].size());
    out.src[i] = &srcs[i];
  }
  out.buffer = d.alloc(c.out_bytes());
  d.compute({&out});
  std::vector<std::byte> raw(c.out_bytes());
  d.download(out.buffer, 0, raw.data(), raw.size());
  return c.values(raw);
}

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

// The runtime's own probes (runtime/src/backend/probe.cpp), asked as query_capabilities asks.
BOOST_AUTO_TEST_CASE(cpu_neon_claims_what_cpu_generic_claims) {
  Device neon(plugin("cpu-neon")), generic(plugin("cpu-generic"));
  int claimed = 0;
  for (int32_t op = BITNET_OP_NONE + 1; op < BITNET_OP_COUNT; ++op)
    for (const auto& t : bitnet::sdk::kTypeTraits) {
      const bitnet::Probe p(op, t.id);
      BOOST_TEST(neon.supports(p.node) == generic.supports(p.node), bitnet::sdk::op_name(op)
                                                                        << " " << t.name);
      claimed += generic.supports(p.node);
    }
  BOOST_TEST(claimed >= 2 * 9 + 8);
}

BOOST_AUTO_TEST_CASE(every_op_and_type_matches_cpu_generic) {
  Device neon(plugin("cpu-neon")), generic(plugin("cpu-generic"));
  std::mt19937 rng(2024);
  int checked = 0;
  for (int32_t op = BITNET_OP_NONE + 1; op < BITNET_OP_COUNT; ++op)
    for (const auto& t : bitnet::sdk::kTypeTraits) {
      if (!generic.supports(bitnet::Probe(op, t.id).node)) continue;
      // Activation rows: 4 + 1, 4 + 3, 2, and 3 in each of two batches sharing the weights.
      const std::vector<std::pair<int64_t, int64_t>> shapes =
          op == BITNET_OP_MUL_MAT
              ? std::vector<std::pair<int64_t, int64_t>>{{5, 1}, {7, 1}, {2, 1}, {3, 2}}
              : std::vector<std::pair<int64_t, int64_t>>{{5, 1}};
      for (const auto& [n_act, batch] : shapes) {
        const std::string what = std::string(bitnet::sdk::op_name(op)) + " " + std::string(t.name) +
                                 " x" + std::to_string(n_act) + "x" + std::to_string(batch);
        BOOST_TEST_CONTEXT(what) {
          OpCase c(op, t.id, rng, n_act, batch);
          other_modes(c.probe.node);
          const double error = bitnet_test::relative_error(run(c, neon), run(c, generic));
          BOOST_TEST(error <= bound(op, t.id));
          BOOST_TEST_MESSAGE(what << ": " << error);
          ++checked;
        }
      }
    }
  BOOST_TEST_MESSAGE(checked << " cases match cpu-generic");
  BOOST_TEST(checked >= 2 * 9 + 8);
}

BOOST_AUTO_TEST_SUITE_END()
