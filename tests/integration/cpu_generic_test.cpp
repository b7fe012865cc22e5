// cpu-generic through the host, as the runtime will use it: loaded from the build tree, data
// uploaded into its buffers, a graph computed, results downloaded and checked against plain
// loops written here on random inputs.
#include <bitnet/runtime/backend/backend.hpp>
#include <bitnet/runtime/backend/capabilities.hpp>
#include <bitnet/runtime/plugins/plugin_host.hpp>

#include <boost/test/unit_test.hpp>

#include <cmath>
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
  BOOST_REQUIRE_EQUAL(caps->ops.size(), 4u);
  for (const auto& op : caps->ops) {
    BOOST_REQUIRE_EQUAL(op.types.size(), 1u);
    BOOST_TEST(op.types[0] == BITNET_TYPE_F32);
  }
}

BOOST_AUTO_TEST_SUITE_END()
