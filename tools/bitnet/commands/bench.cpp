// `bitnet bench --model M`: prefill and decode speed on random token ids (no tokenizer needed),
// as llama-bench measures: one warm-up, then --repeats runs, reported as median and range,
// with the weight bytes each decoded token reads so decode speed reads as memory bandwidth.
#include <bitnet/runtime/model/model.hpp>
#include <bitnet/runtime/model/session.hpp>
#include <bitnet/runtime/thread_pool.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>

#include "../command.hpp"
#include "model_setup.hpp"
#include "receipt.hpp"

namespace bitnet::cli {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

struct Stats {
  double median = 0, min = 0, max = 0;
};

Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return {n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, v.front(), v.back()};
}

// Bytes of weights one decoded token reads: every tensor but the embedding table, of which a
// step reads one row, unless the table is also the output head.
uint64_t weight_bytes_per_token(const gguf::Reader& r) {
  const bool tied = r.tensor("output.weight") == nullptr;
  uint64_t total = 0;
  for (const gguf::TensorInfo& t : r.tensors())
    if (t.name != "token_embd.weight" || tied) total += t.bytes;
  return total;
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

int run_bench(const Args& args) {
  namespace po = boost::program_options;
  po::options_description options("options");
  options.add_options()("model,m", po::value<std::string>(), "the GGUF model")(
      "backend", po::value<std::string>(), "a backend plugin by name; default: the best ranked")(
      "threads,t", po::value<int>(), "worker threads (default: all cores)")(
      "prompt-tokens,p", po::value<int64_t>()->default_value(128), "prefill length")(
      "gen-tokens,n", po::value<int64_t>()->default_value(32), "decoded tokens per run")(
      "repeats,r", po::value<int>()->default_value(3), "measured runs (after one warm-up)")(
      "batch", po::value<int64_t>()->default_value(512), "prompt tokens evaluated per step")(
      "json", "print one JSON object")(
      "receipt", po::value<std::string>(),
      "write a JSON record of what ran to FILE: model SHA-256, backend and version, results");
  po::variables_map vm;
  if (!parse(args, "--model M.gguf [options]", options, vm)) return kExitOk;
  if (!vm.count("model")) throw UsageError("no model given", "add --model FILE.gguf");
  const int64_t p = vm["prompt-tokens"].as<int64_t>(), g = vm["gen-tokens"].as<int64_t>();
  const int repeats = vm["repeats"].as<int>();
  if (p < 1 || g < 1 || repeats < 1)
    throw UsageError("--prompt-tokens, --gen-tokens and --repeats must be at least 1");
  apply_threads(vm);
  model::ModelOptions mo;
  if (vm.count("backend")) mo.backend = vm["backend"].as<std::string>();
  mo.force_cpu = env_flag("BITNET_FORCE_CPU");
  mo.n_ctx = p + g;
  const std::string path = vm["model"].as<std::string>();
  Result<std::unique_ptr<model::Model>> m =
      model::Model::load(path, plugins::PluginHost::scan(), mo);
  if (!m) {
    std::cerr << "bitnet bench: " << m.error().message << "\n";
    return kExitRuntimeError;
  }
  Result<model::Session> s = model::Session::create(**m, p + g, vm["batch"].as<int64_t>());
  if (!s) {
    std::cerr << "bitnet bench: " << s.error().message << "\n";
    return kExitRuntimeError;
  }
  std::mt19937 rng(1);
  std::uniform_int_distribution<int32_t> id(0, static_cast<int32_t>(s->n_vocab() - 1));
  std::vector<int32_t> prompt(static_cast<size_t>(p));
  for (int32_t& t : prompt)
    t = id(rng);
  std::vector<double> prefill, decode;
  for (int run = 0; run <= repeats; ++run) {
    s->reset();
    auto t0 = Clock::now();
    if (Result<std::span<const float>> r = s->eval_view(prompt); !r) {
      std::cerr << "bitnet bench: " << r.error().message << "\n";
      return kExitRuntimeError;
    }
    const double tp = seconds_since(t0);
    t0 = Clock::now();
    for (int64_t i = 0; i < g; ++i) {
      const int32_t next = id(rng);
      if (Result<std::span<const float>> r = s->eval_view(std::span<const int32_t>(&next, 1)); !r) {
        std::cerr << "bitnet bench: " << r.error().message << "\n";
        return kExitRuntimeError;
      }
    }
    const double tg = seconds_since(t0);
    if (run == 0) continue;  // warm-up: page in the weights, size the scratch
    prefill.push_back(static_cast<double>(p) / tp);
    decode.push_back(static_cast<double>(g) / tg);
  }
  const Stats pp = stats(prefill), tg = stats(decode);
  const uint64_t bytes = weight_bytes_per_token((*m)->reader());
  const double gbps = static_cast<double>(bytes) * tg.median / 1e9;
  const int threads = thread_pool::max_threads();
  // Peak RSS against what has to be resident: the weights and the KV cache.
  const uint64_t rss = peak_rss_bytes();
  const uint64_t needed = (*m)->weights().bytes() + s->kv_bytes();
  if (vm.count("json") || vm.count("receipt")) {
    json::object o{
        {"model", path},
        {"backend", (*m)->backend_name()},
        {"threads", threads},
        {"prompt_tokens", p},
        {"gen_tokens", g},
        {"repeats", repeats},
        {"prefill_tokens_per_s", {{"median", pp.median}, {"min", pp.min}, {"max", pp.max}}},
        {"decode_tokens_per_s", {{"median", tg.median}, {"min", tg.min}, {"max", tg.max}}},
        {"weight_bytes_per_token", bytes},
        {"decode_read_gb_per_s", gbps},
        {"peak_rss_bytes", rss},
        {"weights_and_kv_bytes", needed}};
    if (vm.count("receipt"))
      if (Result<> w =
              write_receipt(vm["receipt"].as<std::string>(), "bench", path, **m, threads, o);
          !w) {
        std::cerr << "bitnet bench: " << w.error().message << "\n";
        return kExitRuntimeError;
      }
    if (vm.count("json")) {
      std::cout << json::serialize(o) << "\n";
      return kExitOk;
    }
  }
  std::printf("model    %s\nbackend  %s, %d threads\n", path.c_str(), (*m)->backend_name().c_str(),
              threads);
  std::printf("prefill  pp%lld: %.1f tok/s (%.1f .. %.1f over %d runs)\n",
              static_cast<long long>(p), pp.median, pp.min, pp.max, repeats);
  std::printf("decode   tg%lld: %.2f tok/s (%.2f .. %.2f)\n", static_cast<long long>(g), tg.median,
              tg.min, tg.max);
  std::printf("weights  %.3f GB read per token: %.1f GB/s at the median decode speed\n",
              static_cast<double>(bytes) / 1e9, gbps);
  std::printf("memory   peak RSS %.3f GB, %.2fx the weights and KV cache (%.3f GB)\n",
              static_cast<double>(rss) / 1e9,
              static_cast<double>(rss) / static_cast<double>(needed),
              static_cast<double>(needed) / 1e9);
  return kExitOk;
}

}  // namespace bitnet::cli
