// `bitnet run --model M --prompt P [...]`: one completion of a prompt, streamed to stdout; with
// --json a JSON record of what ran follows on the last line.
#include <bitnet/runtime/diagnostics/logits_file.hpp>
#include <bitnet/runtime/log.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <iostream>

#include "../command.hpp"
#include "model_setup.hpp"
#include "receipt.hpp"

namespace bitnet::cli {

namespace json = boost::json;

namespace {

// Teacher-forced logits of the prompt and what followed it, from a fresh start: what another
// tool computes for the same tokens. Not traced: the trace covers the generation.
Result<> dump_logits(const std::string& path, LoadedModel& m, const std::vector<int32_t>& prompt,
                     const std::vector<int32_t>& generated) {
  diagnostics::LogitsFile f;
  f.tokens = prompt;
  f.tokens.insert(f.tokens.end(), generated.begin(), generated.end());
  f.n_vocab = m.session->n_vocab();
  f.model = m.path;
  m.session->observe({});
  m.session->reset();
  Result<std::vector<float>> logits = m.session->eval(f.tokens, true);
  if (!logits) return logits.error();
  f.logits = std::move(*logits);
  return diagnostics::write_logits_file(path, f);
}

// What the model holds (weights, KV cache, scratch) and, for a device with memory of its own,
// how much of that memory is in use now, as the device counts it (this process and any other).
json::object memory_json(LoadedModel& loaded) {
  json::object m{{"weights_bytes", loaded.model->weights().bytes()},
                 {"kv_cache_bytes", loaded.session->kv_bytes()},
                 {"scratch_bytes", loaded.session->scratch_bytes()},
                 {"peak_rss_bytes", peak_rss_bytes()}};
  if (Result<BackendProps> p = loaded.model->backend().props(); p) {
    m["device"] = p->device_name;
    m["host_memory"] = p->host_memory;
    if (!p->host_memory && p->memory_total) {
      m["device_total_bytes"] = p->memory_total;
      m["device_used_bytes"] = p->memory_total - std::min(p->memory_free, p->memory_total);
    }
  }
  return m;
}

}  // namespace

int run_run(const Args& args) {
  namespace po = boost::program_options;
  po::options_description options("options");
  add_model_options(options);
  options.add_options()("prompt,p", po::value<std::string>(), "the text to continue")(
      "json", "after the text, print one JSON line: ids, text, timings")(
      "receipt", po::value<std::string>(),
      "write a JSON record of what ran to FILE: model SHA-256, backend and version, settings, "
      "ids, timings")("dump-logits", po::value<std::string>(),
                      "write the logits of every position of prompt and continuation to FILE, "
                      "for `bitnet crossval --reference`");
  add_sampling_options(options);
  po::variables_map vm;
  if (!parse(args, "[--model M.gguf] --prompt TEXT [options]", options, vm)) return kExitOk;
  if (!vm.count("prompt")) throw UsageError("no prompt given", "add --prompt TEXT");
  const generate::GenerateOptions gen = generation_options(vm);
  Result<LoadedModel> loaded = load_model(vm);
  if (!loaded) {
    std::cerr << "bitnet run: " << loaded.error().message << "\n";
    return kExitRuntimeError;
  }
  const std::string prompt = vm["prompt"].as<std::string>();
  const std::vector<int32_t> ids = loaded->tokenizer->encode(prompt);
  Result<generate::GenerateResult> r =
      generate::generate(*loaded->session, *loaded->tokenizer, ids, gen,
                         [](std::string_view t) { std::cout << t << std::flush; });
  std::cout << "\n" << std::flush;
  if (!r) {
    std::cerr << "bitnet run: " << r.error().message << "\n";
    return kExitRuntimeError;
  }
  const generate::Timings& t = r->timings;
  log::info("run", t.prompt_tokens, " prompt tokens at ", t.prompt_tokens_per_s(), " tok/s, ",
            t.generated_tokens, " generated at ", t.generate_tokens_per_s(), " tok/s (",
            loaded->model->backend_name(), ", ", loaded->threads, " threads)");
  if (vm.count("dump-logits"))
    if (Result<> d = dump_logits(vm["dump-logits"].as<std::string>(), *loaded, ids, r->generated);
        !d) {
      std::cerr << "bitnet run: " << d.error().message << "\n";
      return kExitRuntimeError;
    }
  if (vm.count("json") || vm.count("receipt")) {
    const generate::SamplingParams& s = gen.sampling;
    json::object o{{"model", loaded->path},
                   {"architecture", std::string(loaded->model->arch().name)},
                   {"backend", loaded->model->backend_name()},
                   {"threads", loaded->threads},
                   {"prompt_ids", json::value_from(ids)},
                   {"generated_ids", json::value_from(r->generated)},
                   {"text", r->text},
                   {"stop_reason", r->stop_reason},
                   {"sampling",
                    {{"greedy", s.greedy || s.temperature <= 0},
                     {"temperature", s.temperature},
                     {"top_k", s.top_k},
                     {"top_p", s.top_p},
                     {"min_p", s.min_p},
                     {"repeat_penalty", s.repeat_penalty},
                     {"seed", s.seed}}},
                   {"timings",
                    {{"prompt_tokens", t.prompt_tokens},
                     {"prompt_ms", t.prompt_ms},
                     {"prompt_tokens_per_s", t.prompt_tokens_per_s()},
                     {"generated_tokens", t.generated_tokens},
                     {"generate_ms", t.generate_ms},
                     {"generate_tokens_per_s", t.generate_tokens_per_s()}}},
                   {"memory", memory_json(*loaded)}};
    if (vm.count("json")) std::cout << json::serialize(o) << "\n";
    if (vm.count("receipt")) {
      json::object details{
          {"prompt", prompt}, {"max_tokens", gen.max_tokens}, {"stop", json::value_from(gen.stop)}};
      for (const char* key :
           {"prompt_ids", "generated_ids", "text", "stop_reason", "sampling", "timings"})
        details[key] = o[key];
      if (Result<> w = write_receipt(vm["receipt"].as<std::string>(), "run", loaded->path,
                                     *loaded->model, loaded->threads, std::move(details));
          !w) {
        std::cerr << "bitnet run: " << w.error().message << "\n";
        return kExitRuntimeError;
      }
    }
  }
  return kExitOk;
}

}  // namespace bitnet::cli
