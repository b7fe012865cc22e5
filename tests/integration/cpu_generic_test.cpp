// cpu-generic through the host, as the runtime will use it: loaded from the build tree, data
// uploaded into its buffers, a graph computed, results downloaded and checked against plain
// loops written here on random inputs.
#include <bitnet/runtime/backend/backend.hpp>
#include <bitnet/runtime/backend/capabilities.hpp>
#include <bitnet/runtime/plugins/plugin_host.hpp>

#include <boost/test/unit_test.hpp>

#include <bitnet/sdk/types.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

using namespace bitnet;

namespace {

struct Fixture {
  plugins::PluginHost host =
      plugins::PluginHost::scan(plugins::HostOptions{{BITNET_BUILT_PLUGIN_DIR}});
  Backend backend =
      Backend::create(*host.choose(BITNET_PLUGIN_KIND_BACKEND, "cpu-generic").value()).value();
  std::mt19937 rng{1234};

  // An F32 tensor of shape ne, in its own buffer, filled with uniform random values.
  struct Tensor {
    BackendBuffer buffer;
    bitnet_tensor desc{};
    std::vector<float> host;
  };
  Tensor make(std::array<int64_t, 4> ne, bool fill = true) {
    Tensor t;
    t.desc.struct_size = sizeof(bitnet_tensor);
    t.desc.type = BITNET_TYPE_F32;
    size_t stride = sizeof(float);
    for (int i = 0; i < 4; ++i) {
      t.desc.ne[i] = ne[i];
      t.desc.nb[i] = stride;
      stride *= static_cast<size_t>(ne[i]);
    }
    t.host.resize(stride / sizeof(float));
    std::uniform_real_distribution<float> dist(-1.f, 1.f);
    if (fill)
      for (float& v : t.host)
        v = dist(rng);
    t.buffer = backend.alloc(stride).value();
    t.desc.buffer = t.buffer.raw();
    BOOST_REQUIRE(t.buffer.upload(0, t.host.data(), stride));
    return t;
  }
  // A tensor of any type from raw bytes (contiguous rows).
  Tensor make_raw(int32_t type, std::array<int64_t, 4> ne, const void* bytes, size_t size) {
    Tensor t;
    t.desc.struct_size = sizeof(bitnet_tensor);
    t.desc.type = type;
    for (int i = 0; i < 4; ++i)
      t.desc.ne[i] = ne[i];
    t.desc.nb[0] = sdk::type_traits(type)->block_bytes;
    t.desc.nb[1] = *sdk::row_bytes(type, ne[0]);
    for (int i = 2; i < 4; ++i)
      t.desc.nb[i] = t.desc.nb[i - 1] * static_cast<size_t>(ne[i - 1]);
    t.buffer = backend.alloc(size).value();
    t.desc.buffer = t.buffer.raw();
    BOOST_REQUIRE(t.buffer.upload(0, bytes, size));
    return t;
  }
  std::vector<float> run(Tensor& out) {
    const bitnet_tensor* nodes[] = {&out.desc};
    auto r = backend.compute(nodes);
    BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
    std::vector<float> got(out.host.size());
    BOOST_REQUIRE(out.buffer.download(0, got.data(), got.size() * sizeof(float)));
    return got;
  }
};

void check_close(const std::vector<float>& got, const std::vector<double>& want, double tol) {
  BOOST_REQUIRE_EQUAL(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    BOOST_REQUIRE_MESSAGE(std::abs(got[i] - want[i]) <= tol * (1 + std::abs(want[i])),
                          "element " << i << ": " << got[i] << " vs " << want[i]);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(cpu_generic, Fixture)

BOOST_AUTO_TEST_CASE(add_and_mul_broadcast_rows) {
  for (int32_t op : {BITNET_OP_ADD, BITNET_OP_MUL}) {
    Tensor a = make({37, 5, 3, 1});
    Tensor b = make({37, 1, 3, 1});
    Tensor out = make({37, 5, 3, 1}, false);
    out.desc.op = op;
    out.desc.src[0] = &a.desc;
    out.desc.src[1] = &b.desc;
    std::vector<double> want(out.host.size());
    for (int64_t i2 = 0; i2 < 3; ++i2)
      for (int64_t i1 = 0; i1 < 5; ++i1)
        for (int64_t i0 = 0; i0 < 37; ++i0) {
          const double x = a.host[(i2 * 5 + i1) * 37 + i0], y = b.host[i2 * 37 + i0];
          want[(i2 * 5 + i1) * 37 + i0] = op == BITNET_OP_ADD ? x + y : x * y;
        }
    check_close(run(out), want, 1e-6);
  }
}

BOOST_AUTO_TEST_CASE(scale_multiplies_by_its_parameter) {
  Tensor a = make({19, 7, 1, 1});
  Tensor out = make({19, 7, 1, 1}, false);
  out.desc.op = BITNET_OP_SCALE;
  out.desc.src[0] = &a.desc;
  out.desc.op_params[0] = -2.5f;
  std::vector<double> want(a.host.begin(), a.host.end());
  for (double& v : want)
    v *= -2.5;
  check_close(run(out), want, 1e-6);
}

BOOST_AUTO_TEST_CASE(mul_mat_with_grouped_batches) {
  // 2 weight matrices shared by 4 activation batches (as grouped-query attention does).
  const int64_t k = 67, m = 13, n = 3, wb = 2, xb = 4;
  Tensor w = make({k, m, wb, 1});
  Tensor x = make({k, n, xb, 1});
  Tensor out = make({m, n, xb, 1}, false);
  out.desc.op = BITNET_OP_MUL_MAT;
  out.desc.src[0] = &w.desc;
  out.desc.src[1] = &x.desc;
  std::vector<double> want(out.host.size());
  for (int64_t b = 0; b < xb; ++b)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t i = 0; i < m; ++i) {
        double acc = 0;
        for (int64_t p = 0; p < k; ++p)
          acc += double(w.host[((b / (xb / wb)) * m + i) * k + p]) * x.host[(b * n + j) * k + p];
        want[(b * n + j) * m + i] = acc;
      }
  check_close(run(out), want, 1e-5);
}

BOOST_AUTO_TEST_CASE(unsupported_nodes_are_refused_not_computed) {
  Tensor a = make({8, 2, 1, 1});
  Tensor b = make({9, 2, 1, 1});
  Tensor out = make({2, 2, 1, 1}, false);
  out.desc.op = BITNET_OP_MUL_MAT;
  out.desc.src[0] = &a.desc;
  out.desc.src[1] = &b.desc;
  BOOST_TEST(!backend.supports(out.desc));
  const bitnet_tensor* nodes[] = {&out.desc};
  auto r = backend.compute(nodes);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().message.find("inner dimensions differ") != std::string::npos,
             r.error().message);
  out.desc.op = 999;
  BOOST_TEST(!backend.supports(out.desc));
}

BOOST_AUTO_TEST_CASE(node_pointing_past_its_buffer_is_an_error) {
  Tensor a = make({16, 4, 1, 1});
  Tensor out = make({16, 4, 1, 1}, false);
  out.desc.op = BITNET_OP_SCALE;
  out.desc.src[0] = &a.desc;
  out.desc.name = "scaled";
  out.desc.offset = 64;
  const bitnet_tensor* nodes[] = {&out.desc};
  auto r = backend.compute(nodes);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().message.find("tensor scaled: ends at byte 320, past its buffer of 256") !=
                 std::string::npos,
             r.error().message);
}

BOOST_AUTO_TEST_CASE(capabilities_come_from_the_backend) {
  auto caps = query_capabilities(*host.choose(BITNET_PLUGIN_KIND_BACKEND).value());
  BOOST_REQUIRE(caps);
  BOOST_TEST(caps->devices == 1);
  BOOST_TEST(caps->props.host_memory);
  BOOST_TEST(caps->props.alignment == 64u);
  BOOST_TEST(caps->props.memory_total > 0u);
  BOOST_REQUIRE_EQUAL(caps->ops.size(), size_t{BITNET_OP_COUNT - 1});
  const std::vector<int32_t> weights = {BITNET_TYPE_F32,  BITNET_TYPE_F16,   BITNET_TYPE_Q4_0,
                                        BITNET_TYPE_Q8_0, BITNET_TYPE_Q4_K,  BITNET_TYPE_Q6_K,
                                        BITNET_TYPE_BF16, BITNET_TYPE_TQ2_0, BITNET_TYPE_I2_S};
  for (const auto& op : caps->ops) {
    BOOST_TEST_CONTEXT(op.op) {
      if (op.op == BITNET_OP_MUL_MAT || op.op == BITNET_OP_GET_ROWS)
        BOOST_TEST(op.types == weights, boost::test_tools::per_element());
      else if (op.op == BITNET_OP_CPY)
        BOOST_TEST(op.types == std::vector<int32_t>({BITNET_TYPE_F32, BITNET_TYPE_F16}),
                   boost::test_tools::per_element());
      else
        BOOST_TEST(op.types == std::vector<int32_t>{BITNET_TYPE_F32},
                   boost::test_tools::per_element());
    }
  }
}

// The ternary matmul as backend.h specifies it, written out here: per activation row
// a = max(max|x|, 1e-5), q = nearbyint(x * (127 / a)) in float, clamped; the I2_S codes of a
// 128-element block sit in byte j at shifts 6, 4, 2, 0 for elements j, j+32, j+64, j+96.
BOOST_AUTO_TEST_CASE(i2_s_mul_mat_quantises_activations_per_row) {
  const int64_t k = 384, m = 7, n = 5;
  std::uniform_int_distribution<int> code(0, 2);
  std::vector<int8_t> w(static_cast<size_t>(k * m));
  std::vector<uint8_t> packed(static_cast<size_t>(k * m / 4) + 32, 0);
  for (int64_t e = 0; e < k * m; ++e) {
    const int c = code(rng);
    w[e] = static_cast<int8_t>(c - 1);
    const int64_t block = e / 128, j = e % 32, g = (e % 128) / 32;
    packed[block * 32 + j] |= static_cast<uint8_t>(c << (6 - 2 * g));
  }
  const float scale = 0.37f;
  std::memcpy(&packed[k * m / 4], &scale, sizeof scale);
  Tensor wt = make_raw(BITNET_TYPE_I2_S, {k, m, 1, 1}, packed.data(), packed.size());
  Tensor x = make({k, n, 1, 1});
  for (int64_t i = 0; i < k; ++i)  // one row of zeros: the 1e-5 floor keeps it finite
    x.host[static_cast<size_t>(2 * k + i)] = 0;
  BOOST_REQUIRE(x.buffer.upload(0, x.host.data(), x.host.size() * sizeof(float)));
  Tensor out = make({m, n, 1, 1}, false);
  out.desc.op = BITNET_OP_MUL_MAT;
  out.desc.src[0] = &wt.desc;
  out.desc.src[1] = &x.desc;
  BOOST_REQUIRE(backend.supports(out.desc));
  std::vector<double> want(static_cast<size_t>(m * n));
  for (int64_t j = 0; j < n; ++j) {
    float a = 1e-5f;
    for (int64_t i = 0; i < k; ++i)
      a = std::max(a, std::fabs(x.host[j * k + i]));
    for (int64_t r = 0; r < m; ++r) {
      int64_t dot = 0;
      for (int64_t i = 0; i < k; ++i)
        dot +=
            w[r * k + i] * static_cast<int64_t>(std::clamp(
                               std::nearbyint(x.host[j * k + i] * (127.0f / a)), -128.0f, 127.0f));
      want[j * m + r] = static_cast<double>(dot) * a / 127.0 * scale;
    }
  }
  check_close(run(out), want, 1e-6);
}

BOOST_AUTO_TEST_CASE(out_of_range_ids_and_positions_are_errors) {
  Tensor table = make({8, 4, 1, 1});
  const int32_t bad_ids[] = {1, 4};
  Tensor ids = make_raw(BITNET_TYPE_I32, {2, 1, 1, 1}, bad_ids, sizeof bad_ids);
  Tensor rows = make({8, 2, 1, 1}, false);
  rows.desc.op = BITNET_OP_GET_ROWS;
  rows.desc.src[0] = &table.desc;
  rows.desc.src[1] = &ids.desc;
  rows.desc.name = "embed";
  const bitnet_tensor* nodes[] = {&rows.desc};
  auto r = backend.compute(nodes);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().message.find("embed: row id 4 at index 1 is outside the table's 4 rows") !=
                 std::string::npos,
             r.error().message);

  Tensor q = make({8, 2, 1, 1}), kv = make({8, 1, 3, 1});
  const int32_t bad_pos[] = {3};
  Tensor pos = make_raw(BITNET_TYPE_I32, {1, 1, 1, 1}, bad_pos, sizeof bad_pos);
  q.desc.ne[1] = 2;
  q.desc.ne[2] = 1;
  Tensor att = make({8, 2, 1, 1}, false);
  att.desc.op = BITNET_OP_ATTENTION;
  att.desc.src[0] = &q.desc;
  att.desc.src[1] = att.desc.src[2] = &kv.desc;
  att.desc.src[3] = &pos.desc;
  att.desc.op_params[0] = 1.0f;
  nodes[0] = &att.desc;
  r = backend.compute(nodes);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().message.find("position 3, outside the 3 keys given") != std::string::npos,
             r.error().message);
}

BOOST_AUTO_TEST_SUITE_END()
