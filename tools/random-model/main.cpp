// `bitnet-random-model --arch ARCH --out FILE`: writes a small model with random weights of one
// of the known architectures, for tests, fuzzing seeds and benchmarks.
#include <bitnet/runtime/model/architecture.hpp>
#include <bitnet/sdk/types.hpp>

#include <boost/algorithm/string/case_conv.hpp>
#include <boost/program_options.hpp>

#include <iostream>

#include "random_model.hpp"

namespace po = boost::program_options;

namespace {

int32_t parse_type(const std::string& name) {
  for (const auto& t : bitnet::sdk::kTypeTraits)
    if (boost::algorithm::to_upper_copy(name) == t.name && bitnet::testing::can_generate(t.id))
      return t.id;
  throw po::error("unsupported tensor type '" + name +
                  "'; use F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q6_K, I2_S or TQ2_0");
}

}  // namespace

int main(int argc, char** argv) {
  bitnet::testing::RandomModelOptions o;
  std::string out, weights = "F32", embedding = "F32";
  po::options_description options("options");
  options.add_options()("help,h", "show this help")(
      "arch", po::value(&o.arch)->required(),
      ("architecture: " + bitnet::model::architecture_names()).c_str())(
      "out,o", po::value(&out)->required(), "the GGUF file to write")(
      "seed", po::value(&o.seed)->default_value(o.seed), "random seed")(
      "weights", po::value(&weights)->default_value(weights),
      "type of attention/feed-forward weights: F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q6_K, I2_S, "
      "TQ2_0")("embedding", po::value(&embedding)->default_value(embedding),
               "type of token_embd/output")("embd", po::value(&o.n_embd)->default_value(o.n_embd),
                                            "embedding size")(
      "layers", po::value(&o.n_layer)->default_value(o.n_layer), "blocks")(
      "heads", po::value(&o.n_head)->default_value(o.n_head), "attention heads")(
      "kv-heads", po::value(&o.n_head_kv)->default_value(o.n_head_kv), "key/value heads")(
      "ff", po::value(&o.n_ff)->default_value(o.n_ff), "feed-forward size")(
      "ctx", po::value(&o.n_ctx)->default_value(o.n_ctx), "context length")(
      "vocab", po::value(&o.n_vocab)->default_value(0),
      "vocabulary size (0: the small tokenizer's; more pads it with unused tokens)")(
      "untied", "write an output.weight instead of tying token_embd")(
      "no-tokenizer", "leave the tokenizer out of the file");
  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, options), vm);
    if (vm.count("help")) {
      std::cout << "usage: bitnet-random-model --arch ARCH --out FILE [options]\n\n"
                << options << "\n";
      return 0;
    }
    po::notify(vm);
    o.weight_type = parse_type(weights);
    o.embedding_type = parse_type(embedding);
    o.tied_output = vm.count("untied") == 0;
    o.embed_tokenizer = vm.count("no-tokenizer") == 0;
  } catch (const po::error& e) {
    std::cerr << "bitnet-random-model: " << e.what() << "\n";
    return 2;
  }
  bitnet::Result<bitnet::gguf::Writer> w = bitnet::testing::random_model(o);
  if (!w) {
    std::cerr << "bitnet-random-model: " << w.error().message << "\n";
    return 1;
  }
  if (bitnet::Result<> r = w->write(out); !r) {
    std::cerr << "bitnet-random-model: " << r.error().message << "\n";
    return 1;
  }
  return 0;
}
