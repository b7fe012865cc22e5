// The cuda backend beyond op conformance (which backend_conformance checks with
// BITNET_CONFORMANCE_BACKEND=cuda): it outranks the CPU backends unless BITNET_FORCE_CPU is
// set, repeats its results to the bit, keeps device memory flat over 100 generations and
// `bitnet run --json` reports that memory. Without a GPU the `cuda` suite prints SKIPPED (CTest
// marks it skipped) and the `cuda_absent` suite checks the fallback and the error instead.
#include <bitnet/runtime/model/model.hpp>
#include <bitnet/runtime/model/session.hpp>
#include <bitnet/runtime/plugins/plugin_host.hpp>
#include <bitnet/sdk/types.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "../integration/cli_runner.hpp"

using namespace bitnet;
using bitnet_test::contains;
using bitnet_test::run_cli;

namespace {

plugins::PluginHost& host() {
  static plugins::PluginHost h =
      plugins::PluginHost::scan(plugins::HostOptions{{BITNET_BUILT_PLUGIN_DIR}});
  return h;
}

const plugins::PluginRecord* cuda_record() {
  for (const plugins::PluginRecord& r : host().plugins())
    if (r.name == "cuda") return &r;
  return nullptr;
}

bool gpu_present() {
  const plugins::PluginRecord* r = cuda_record();
  BOOST_REQUIRE_MESSAGE(r, "the cuda plugin was not built into " BITNET_BUILT_PLUGIN_DIR);
  return r->loaded;
}

bool skip_without_gpu() {
  if (gpu_present()) return false;
  std::cout << "SKIPPED: no GPU is present (cuda: " << cuda_record()->rejection << ")" << std::endl;
  return true;
}

std::filesystem::path model_file(const char* arch, int32_t type) {
  const auto path =
      std::filesystem::temp_directory_path() /
      ("bitnet-cuda-test-" + std::string(arch) + "-" + std::to_string(type) + ".gguf");
  bitnet_test::write_random_model(path, {.arch = arch,
                                         .seed = 11,
                                         .weight_type = type,
                                         .embedding_type = BITNET_TYPE_F16,
                                         .n_embd = 256,
                                         .n_ff = 512});
  return path;
}

// Logits of a 12-token prompt, then of 20 greedy steps, all concatenated. The steps read them
// through eval_view, in place where the backend allows (the cuda backend's host mirror).
std::vector<float> greedy_logits(model::Model& m) {
  model::Session s = model::Session::create(m, 64, 8).value();
  std::vector<int32_t> prompt = {1, 5, 9, 200, 17, 3, 3, 42, 77, 8, 120, 6};
  std::vector<float> all, logits = s.eval(prompt).value();
  for (int step = 0; step < 20; ++step) {
    all.insert(all.end(), logits.begin(), logits.end());
    const auto next =
        static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    const std::span<const float> viewed = s.eval_view(std::span<const int32_t>(&next, 1)).value();
    logits.assign(viewed.begin(), viewed.end());
  }
  return all;
}

uint64_t device_free(model::Model& m) {
  return m.backend().props().value().memory_free;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cuda)

BOOST_AUTO_TEST_CASE(outranks_cpu_backends_unless_forced_to_cpu) {
  if (skip_without_gpu()) return;
  BOOST_TEST(host().ranked(BITNET_PLUGIN_KIND_BACKEND).front()->name == "cuda");
  const auto path = model_file("llama", BITNET_TYPE_Q8_0);
  auto on_gpu = model::Model::load(path, host(), {}).value();
  BOOST_TEST(on_gpu->backend_name() == "cuda");
  BOOST_TEST(!on_gpu->backend().props().value().host_memory);
  auto forced = model::Model::load(path, host(), {.backend = "", .force_cpu = true}).value();
  BOOST_TEST(forced->backend_name() != "cuda");
  BOOST_TEST(forced->backend().props().value().host_memory);
}

BOOST_AUTO_TEST_CASE(results_repeat_to_the_bit) {
  if (skip_without_gpu()) return;
  for (int32_t type : {BITNET_TYPE_I2_S, BITNET_TYPE_Q4_0, BITNET_TYPE_F16}) {
    BOOST_TEST_CONTEXT(sdk::type_name(type)) {
      const auto path = model_file(type == BITNET_TYPE_I2_S ? "bitnet-b1.58" : "llama", type);
      auto a = model::Model::load(path, host(), {.backend = "cuda"}).value();
      auto b = model::Model::load(path, host(), {.backend = "cuda", .deterministic = true}).value();
      const std::vector<float> first = greedy_logits(*a), again = greedy_logits(*a),
                               other = greedy_logits(*b);
      BOOST_TEST(!first.empty());
      BOOST_TEST(std::equal(first.begin(), first.end(), again.begin(), again.end()));
      BOOST_TEST(std::equal(first.begin(), first.end(), other.begin(), other.end()));
    }
  }
}

BOOST_AUTO_TEST_CASE(device_memory_stays_flat_over_100_generations) {
  if (skip_without_gpu()) return;
  const auto path = model_file("bitnet-b1.58", BITNET_TYPE_I2_S);
  auto m = model::Model::load(path, host(), {.backend = "cuda"}).value();
  greedy_logits(*m);
  const uint64_t after_first = device_free(*m);
  for (int i = 1; i < 100; ++i)
    greedy_logits(*m);
  const uint64_t after_last = device_free(*m);
  BOOST_TEST_MESSAGE("free after 1 generation: " << after_first << ", after 100: " << after_last);
  // Each generation's session holds a KV cache and scratch of several hundred KiB: one kept
  // per generation would take tens of MiB.
  BOOST_TEST(after_last + (2u << 20) >= after_first);
}

BOOST_AUTO_TEST_CASE(run_json_reports_device_memory) {
  if (skip_without_gpu()) return;
  const auto path = model_file("llama", BITNET_TYPE_Q4_0);
  const bitnet_test::Run r =
      run_cli("run --model '" + path.string() + "' --prompt hello --max-tokens 4 --json");
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  const std::string last = r.out.substr(r.out.rfind("\n{") + 1);
  const boost::json::object o = boost::json::parse(last.substr(0, last.find('\n'))).as_object();
  BOOST_TEST(o.at("backend").as_string() == "cuda");
  const boost::json::object& mem = o.at("memory").as_object();
  BOOST_TEST(!mem.at("host_memory").as_bool());
  BOOST_TEST(mem.at("device_used_bytes").as_int64() >= mem.at("weights_bytes").as_int64());
  BOOST_TEST(mem.at("device_total_bytes").as_int64() > mem.at("device_used_bytes").as_int64());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cuda_absent)

BOOST_AUTO_TEST_CASE(falls_back_to_cpu_and_refuses_backend_cuda) {
  if (gpu_present()) {
    std::cout << "SKIPPED: a GPU is present, so the no-GPU behaviour cannot be seen" << std::endl;
    return;
  }
  BOOST_TEST(cuda_record()->score == 0);
  BOOST_TEST(!cuda_record()->score_reason.empty());
  const auto path = model_file("llama", BITNET_TYPE_Q8_0);
  const bitnet_test::Run fallback =
      run_cli("run --model '" + path.string() + "' --prompt hello --max-tokens 2");
  BOOST_TEST(fallback.exit_code == 0, fallback.out);
  BOOST_TEST(contains(fallback.out, "backend cuda is not used ("), fallback.out);
  const bitnet_test::Run refused =
      run_cli("run --model '" + path.string() + "' --prompt hello --max-tokens 2 --backend cuda");
  BOOST_TEST(refused.exit_code != 0);
  BOOST_TEST(contains(refused.out, "backend 'cuda' cannot be used: score 0 on this machine"),
             refused.out);
}

BOOST_AUTO_TEST_SUITE_END()
