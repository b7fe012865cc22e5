// `bitnet perplexity --model M --file TEXT [--ctx N] [--batch N] [--json]`: the model's
// perplexity on a text, chunked and scored as llama.cpp's perplexity tool does
// (runtime/include/bitnet/runtime/generate/perplexity.hpp says how).
#include <bitnet/runtime/generate/perplexity.hpp>

#include <boost/json.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "../command.hpp"
#include "model_setup.hpp"

namespace bitnet::cli {

namespace json = boost::json;

namespace {

void draw_progress(int64_t done, int64_t total, double ppl) {
  constexpr int kWidth = 30;
  const auto filled = static_cast<int>(done * kWidth / total);
  std::fprintf(stderr, "\r[%s%s] chunk %lld/%lld, perplexity %.4f",
               std::string(filled, '#').c_str(), std::string(kWidth - filled, '.').c_str(),
               static_cast<long long>(done), static_cast<long long>(total), ppl);
  if (done == total) std::fputc('\n', stderr);
  std::fflush(stderr);
}

}  // namespace

int run_perplexity(const Args& args) {
  namespace po = boost::program_options;
  po::options_description options("options");
  add_model_options(options);
  options.add_options()("file,f", po::value<std::string>(), "the text to score")(
      "json", "print one JSON record instead of text");
  po::variables_map vm;
  if (!parse(args, "--model M.gguf --file TEXT [--ctx N] [options]", options, vm)) return kExitOk;
  if (!vm.count("file")) throw UsageError("no text given", "add --file TEXT.txt");
  const std::string path = vm["file"].as<std::string>();
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) {
    std::cerr << "bitnet perplexity: " << path << ": cannot read the file\n";
    return kExitRuntimeError;
  }
  Result<LoadedModel> loaded = load_model(vm);
  if (!loaded) {
    std::cerr << "bitnet perplexity: " << loaded.error().message << "\n";
    return kExitRuntimeError;
  }
  generate::PerplexityOptions ppl_options;
  if (isatty(STDERR_FILENO)) ppl_options.progress = draw_progress;
  Result<generate::PerplexityResult> r =
      generate::perplexity(*loaded->session, *loaded->tokenizer, text.str(), ppl_options);
  if (!r) {
    std::cerr << "bitnet perplexity: " << r.error().message << "\n";
    return kExitRuntimeError;
  }
  if (vm.count("json")) {
    const double scored_tokens = static_cast<double>(r->chunks * r->n_ctx);
    json::object o{{"model", loaded->path},
                   {"file", path},
                   {"backend", loaded->model->backend_name()},
                   {"threads", loaded->threads},
                   {"ppl", r->ppl},
                   {"nll", r->nll},
                   {"ppl_full", r->ppl_full},
                   {"nll_full", r->nll_full},
                   {"tokens", r->tokens},
                   {"chunks", r->chunks},
                   {"ctx", r->n_ctx},
                   {"scored", r->scored},
                   {"scored_full", r->scored_full},
                   {"seconds", r->seconds},
                   {"tokens_per_s", r->seconds > 0 ? scored_tokens / r->seconds : 0.0}};
    std::cout << json::serialize(o) << "\n";
    return kExitOk;
  }
  std::printf(
      "perplexity %.4f over the second half of each chunk (as llama.cpp), %lld predictions\n",
      r->ppl, static_cast<long long>(r->scored));
  std::printf("perplexity %.4f over every prediction, %lld predictions\n", r->ppl_full,
              static_cast<long long>(r->scored_full));
  std::printf("%lld tokens, %lld chunks of %lld, %.2f s\n", static_cast<long long>(r->tokens),
              static_cast<long long>(r->chunks), static_cast<long long>(r->n_ctx), r->seconds);
  return kExitOk;
}

}  // namespace bitnet::cli
