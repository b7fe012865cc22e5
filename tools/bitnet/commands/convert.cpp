// `bitnet convert --input DIR --out FILE.gguf [--type T] [--arch A] [--quantize-ternary]`: a HF
// checkpoint folder to a GGUF file the runtime runs (runtime/include/bitnet/runtime/convert/).
#include <bitnet/runtime/convert/convert.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <utility>

#include "../command.hpp"

namespace bitnet::cli {

int run_convert(const Args& args) {
  namespace po = boost::program_options;
  po::options_description options("options");
  options.add_options()("input,i", po::value<std::string>(),
                        "the checkpoint folder: config.json, model.safetensors (or its "
                        "index and shards), tokenizer.json")("out,o", po::value<std::string>(),
                                                             "the GGUF file to write")(
      "type", po::value<std::string>()->default_value("f16"),
      "attention and feed-forward weights: f16, f32, q8_0, q4_0, i2_s or tq2_0 (the ternary types "
      "need "
      "ternary weights; norms and biases stay F32, the embedding F16 unless f32)")(
      "arch", po::value<std::string>(),
      "the runtime architecture (llama, bitnet-b1.58, qwen2, phi3) when config.json's "
      "architectures names a class with one of their layouts")(
      "quantize-ternary",
      "BitNet b1.58: ternarise the latent weights as HF's BitNet does (per tensor, scale "
      "mean|W|); with i2_s or tq2_0 the file computes what the trained model does");
  po::variables_map vm;
  if (!parse(args, "--input DIR --out FILE.gguf [--type T] [options]", options, vm)) return kExitOk;
  if (!vm.count("input")) throw UsageError("no checkpoint given", "add --input DIR");
  if (!vm.count("out")) throw UsageError("no output given", "add --out FILE.gguf");
  static constexpr std::pair<std::string_view, int32_t> kTypes[] = {
      {"f16", BITNET_TYPE_F16},   {"f32", BITNET_TYPE_F32},   {"q8_0", BITNET_TYPE_Q8_0},
      {"q4_0", BITNET_TYPE_Q4_0}, {"i2_s", BITNET_TYPE_I2_S}, {"tq2_0", BITNET_TYPE_TQ2_0}};
  convert::ConvertOptions o;
  o.input = vm["input"].as<std::string>();
  o.output = vm["out"].as<std::string>();
  const std::string type = vm["type"].as<std::string>();
  const auto* known = std::find_if(std::begin(kTypes), std::end(kTypes),
                                   [&](const auto& t) { return t.first == type; });
  if (known == std::end(kTypes))
    throw UsageError("--type " + type + " is not known", "use f16, f32, q8_0, q4_0, i2_s or tq2_0");
  o.weight_type = known->second;
  if (vm.count("arch")) o.arch = vm["arch"].as<std::string>();
  o.quantize_ternary = vm.count("quantize-ternary") > 0;
  if (isatty(STDERR_FILENO))
    o.progress = [](size_t i, size_t n, const std::string& name) {
      std::fprintf(stderr, "\r\033[K[%zu/%zu] %s", i + 1, n, name.c_str());
      if (i + 1 == n) std::fputc('\n', stderr);
      std::fflush(stderr);
    };
  Result<convert::ConvertReport> r = convert::convert(o);
  if (!r) {
    std::cerr << "bitnet convert: " << r.error().message << "\n";
    return kExitRuntimeError;
  }
  std::cout << "wrote " << o.output.string() << ": " << r->arch << " from " << r->hf_class << ", "
            << r->n_layer << " layers, " << r->n_vocab << " embedding rows, "
            << (r->tied_output ? "output tied to the embedding" : "separate output") << ", "
            << (r->tokenizer_tokens ? std::to_string(r->tokenizer_tokens) + "-token tokenizer"
                                    : std::string("no tokenizer"))
            << "\n"
            << r->tensors << " tensors:";
  for (const auto& [t, n] : r->tensors_by_type)
    std::cout << " " << n << " " << t;
  std::cout << ", " << r->file_bytes << " bytes\n";
  return kExitOk;
}

}  // namespace bitnet::cli
