// Every backend found besides cpu-generic is held to cpu-generic: each op and each weight type
// it claims, on fresh random inputs of awkward sizes (rows and columns that are not multiples
// of a vector or block), with an error bound per type; then whole generated models of the four
// architectures, teacher-forced, must pick cpu-generic's greedy token wherever that choice is
// not a near tie.
#include <bitnet/runtime/backend/backend.hpp>
#include <bitnet/runtime/backend/capabilities.hpp>
#include <bitnet/runtime/model/model.hpp>
#include <bitnet/runtime/model/session.hpp>
#include <bitnet/sdk/half.hpp>
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

bool ternary(int32_t t) {
  return t == BITNET_TYPE_I2_S || t == BITNET_TYPE_TQ2_0;
}

// Bound on max|candidate - reference| / max|reference|. Float weights: only the summation
// order differs. Ternary: the int8 activations are specified exactly (backend.h), so integer
// sums agree. Other quantised weights: a backend may quantise activations (to 8 bits per
// 32-element block, as llama.cpp does), about 1/254 of each term.
double op_bound(int32_t type) {
  switch (type) {
    case BITNET_TYPE_Q8_0:
    case BITNET_TYPE_Q4_0:
    case BITNET_TYPE_Q4_K:
    case BITNET_TYPE_Q6_K:
      return 1e-2;
    default:
      return 1e-5;
  }
}

// The same over a whole model's logits, errors compounding through the layers. Ternary
// matmuls and every other op are specified to the bit, so those models agree exactly.
double model_bound(int32_t type) {
  if (ternary(type)) return 1e-6;
  return op_bound(type) > 1e-3 ? 5e-2 : 1e-4;
}

template <class T>
void put(std::vector<std::byte>& out, T v) {
  const auto* p = reinterpret_cast<const std::byte*>(&v);
  out.insert(out.end(), p, p + sizeof v);
}

// Valid random data of `type` for `n` elements: random codes under small positive scales.
std::vector<std::byte> random_weights(int32_t type, int64_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> f(-1, 1), scale(0.002f, 0.02f);
  std::uniform_int_distribution<int> byte(0, 255), code(0, 2);
  std::vector<std::byte> out;
  auto bytes = [&](int count) {
    for (int i = 0; i < count; ++i)
      put(out, static_cast<uint8_t>(byte(rng)));
  };
  auto ternary_bytes = [&](int count) {
    for (int i = 0; i < count; ++i)
      put(out, static_cast<uint8_t>(code(rng) << 6 | code(rng) << 4 | code(rng) << 2 | code(rng)));
  };
  switch (type) {
    case BITNET_TYPE_F32:
      for (int64_t i = 0; i < n; ++i)
        put(out, f(rng));
      break;
    case BITNET_TYPE_F16:
      for (int64_t i = 0; i < n; ++i)
        put(out, sdk::f32_to_fp16(f(rng)));
      break;
    case BITNET_TYPE_BF16:
      for (int64_t i = 0; i < n; ++i)
        put(out, sdk::f32_to_bf16(f(rng)));
      break;
    case BITNET_TYPE_Q8_0:
    case BITNET_TYPE_Q4_0:
      for (int64_t b = 0; b < n / 32; ++b) {
        put(out, sdk::f32_to_fp16(scale(rng)));
        bytes(type == BITNET_TYPE_Q8_0 ? 32 : 16);
      }
      break;
    case BITNET_TYPE_Q4_K:
      for (int64_t b = 0; b < n / 256; ++b) {
        put(out, sdk::f32_to_fp16(scale(rng) / 16));
        put(out, sdk::f32_to_fp16(scale(rng) / 16));
        bytes(12 + 128);
      }
      break;
    case BITNET_TYPE_Q6_K:
      for (int64_t b = 0; b < n / 256; ++b) {
        bytes(128 + 64 + 16);
        put(out, sdk::f32_to_fp16(scale(rng) / 64));
      }
      break;
    case BITNET_TYPE_TQ2_0:
      for (int64_t b = 0; b < n / 256; ++b) {
        ternary_bytes(64);
        put(out, sdk::f32_to_fp16(scale(rng)));
      }
      break;
    case BITNET_TYPE_I2_S:
      ternary_bytes(static_cast<int>(n / 4));
      put(out, scale(rng));
      out.resize(out.size() + sdk::kI2sTailBytes - 4);
      break;
  }
  return out;
}

// One backend's copy of a graph's inputs and output.
struct Run {
  Backend backend;
  std::vector<BackendBuffer> buffers;
  std::vector<bitnet_tensor> leaves;
  bitnet_tensor node{};
};

// The probe node of `op` over `type`, resized to awkward shapes and filled with random data.
struct Case {
  int32_t op, type;
  std::vector<std::vector<std::byte>> data;  // per source
  Probe probe;
  // `cols` activation rows for MUL_MAT: 1 and a few are decode, more are prefill, which fast
  // backends compute by other kernels.
  Case(int32_t op_, int32_t type_, int64_t cols, std::mt19937& rng)
      : op(op_), type(type_), probe(op_, type_) {
    bitnet_tensor& n = probe.node;
    if (op == BITNET_OP_MUL_MAT || op == BITNET_OP_GET_ROWS) {
      const int64_t block = sdk::type_traits(type)->block_elems;
      const int64_t k =
          type == BITNET_TYPE_I2_S ? 384 : std::max<int64_t>(block, 32) * 7 + (block == 1 ? 3 : 0);
      resize(probe.leaves[0], k, 37);
      if (op == BITNET_OP_MUL_MAT) {
        resize(probe.leaves[1], k, cols);
        resize(n, 37, cols);
      } else {
        resize(n, k, probe.leaves[1].ne[0]);
      }
    }
    for (int i = 0; i < BITNET_MAX_SRC && n.src[i]; ++i) {
      const bitnet_tensor& t = probe.leaves[i];
      const int64_t elems = t.ne[0] * t.ne[1] * t.ne[2] * t.ne[3];
      if (t.type == BITNET_TYPE_I32) {
        // Ids within the table; positions within the keys (8 of them in the probe).
        std::vector<std::byte> ids;
        const int64_t limit = op == BITNET_OP_GET_ROWS ? probe.leaves[0].ne[1] : 8;
        for (int64_t j = 0; j < elems; ++j)
          put(ids, static_cast<int32_t>(limit - 1 - j));
        data.push_back(std::move(ids));
      } else {
        data.push_back(random_weights(t.type, elems, rng));
      }
    }
  }
  static void resize(bitnet_tensor& t, int64_t ne0, int64_t ne1) {
    t.ne[0] = ne0;
    t.ne[1] = ne1;
    t.nb[1] = *sdk::row_bytes(t.type, ne0);
    t.nb[2] = t.nb[3] = t.nb[1] * static_cast<size_t>(ne1);
  }
  size_t out_bytes() const { return *sdk::tensor_bytes(probe.node.type, probe.node.ne, 4); }

  std::vector<float> run(const plugins::PluginRecord& plugin) {
    Backend backend = Backend::create(plugin).value();
    std::vector<BackendBuffer> buffers;
    bitnet_tensor leaves[BITNET_MAX_SRC];
    bitnet_tensor node = probe.node;
    for (size_t i = 0; i < data.size(); ++i) {
      leaves[i] = probe.leaves[i];
      buffers.push_back(backend.alloc(data[i].size()).value());
      BOOST_REQUIRE(buffers.back().upload(0, data[i].data(), data[i].size()));
      leaves[i].buffer = buffers.back().raw();
      node.src[i] = &leaves[i];
    }
    buffers.push_back(backend.alloc(out_bytes()).value());
    node.buffer = buffers.back().raw();
    BOOST_REQUIRE_MESSAGE(backend.supports(node), plugin.name << " refuses its own claim");
    const bitnet_tensor* nodes[] = {&node};
    auto r = backend.compute(nodes);
    BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
    std::vector<std::byte> raw(out_bytes());
    BOOST_REQUIRE(buffers.back().download(0, raw.data(), raw.size()));
    std::vector<float> out(raw.size() / sdk::type_traits(node.type)->block_bytes);
    for (size_t i = 0; i < out.size(); ++i) {
      if (node.type == BITNET_TYPE_F16) {
        uint16_t h;
        std::memcpy(&h, raw.data() + 2 * i, 2);
        out[i] = sdk::fp16_to_f32(h);
      } else {
        std::memcpy(&out[i], raw.data() + 4 * i, 4);
      }
    }
    return out;
  }
};

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
        for (int64_t cols : op.op == BITNET_OP_MUL_MAT ? std::vector<int64_t>{1, 5, 70}
                                                       : std::vector<int64_t>{5}) {
          BOOST_TEST_CONTEXT(p->name << " " << sdk::op_name(op.op) << " " << sdk::type_name(type)
                                     << " x" << cols) {
            Case c(op.op, type, cols, rng);
            const std::vector<float> want = c.run(*generic), got = c.run(*p);
            BOOST_REQUIRE_EQUAL(got.size(), want.size());
            double scale = 0, diff = 0;
            for (size_t i = 0; i < got.size(); ++i) {
              BOOST_REQUIRE(std::isfinite(got[i]));
              scale = std::max(scale, std::abs(double{want[i]}));
              diff = std::max(diff, std::abs(double{got[i]} - want[i]));
            }
            const int32_t weights = op.op == BITNET_OP_MUL_MAT ? type : BITNET_TYPE_F32;
            BOOST_TEST(diff <= op_bound(weights) * scale);
            BOOST_TEST_MESSAGE(p->name << " " << sdk::op_name(op.op) << " " << sdk::type_name(type)
                                       << " x" << cols << ": " << diff / scale);
            ++checked;
          }
        }
      }
    BOOST_TEST_MESSAGE(p->name << ": " << checked << " (op, type) pairs match cpu-generic");
    BOOST_TEST(checked > 0);
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
          const auto path = std::filesystem::temp_directory_path() /
                            ("bitnet-conformance-" + std::string(arch) + ".gguf");
          auto w = testing::random_model({.arch = arch,
                                          .seed = 5,
                                          .weight_type = type,
                                          .embedding_type = BITNET_TYPE_F16,
                                          .n_embd = 256,
                                          .n_ff = 512});
          BOOST_REQUIRE(w);
          BOOST_REQUIRE(w->write(path));
          auto ref = model::Model::load(path, host(), {.backend = "cpu-generic"}).value();
          auto cand = model::Model::load(path, host(), {.backend = p->name}).value();
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
            const double tie = 2 * model_bound(type);
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
          BOOST_TEST_MESSAGE(p->name << " " << arch << " " << sdk::type_name(type)
                                     << ": max relative logit difference " << worst << ", "
                                     << compared << " of 10 steps decided");
          BOOST_TEST(worst <= model_bound(type));
          // Block-quantised weights differ by a few percent, so fewer steps are decided.
          BOOST_TEST(compared >= (model_bound(type) > 1e-3 ? 2 : 8));
          std::filesystem::remove(path);
        }
      }
}

BOOST_AUTO_TEST_SUITE_END()
