// `bitnet tokenize (--model M.gguf | --tokenizer tokenizer.json) (--text T | --jsonl)`: token ids
// and pieces of a text, or one {"ids": [...]} line per {"text": ...} line on stdin.
#include <bitnet/runtime/gguf/reader.hpp>
#include <bitnet/runtime/tokenizer/load.hpp>
#include <bitnet/runtime/tokenizer/tokenizer.hpp>

#include <boost/json.hpp>

#include <iostream>

#include "../command.hpp"

namespace bitnet::cli {
namespace {

namespace json = boost::json;

Result<tok::Tokenizer> load(const boost::program_options::variables_map& vm) {
  Result<tok::VocabData> v = [&]() -> Result<tok::VocabData> {
    if (vm.count("tokenizer")) return tok::vocab_from_hf_file(vm["tokenizer"].as<std::string>());
    Result<gguf::Reader> r = gguf::Reader::open(vm["model"].as<std::string>());
    if (!r) return r.error();
    return tok::vocab_from_gguf(*r);
  }();
  if (!v) return v.error();
  return tok::Tokenizer::create(std::move(*v));
}

}  // namespace

int run_tokenize(const Args& args) {
  namespace po = boost::program_options;
  po::options_description options("options");
  options.add_options()("model,m", po::value<std::string>(),
                        "a GGUF file with an embedded tokenizer")(
      "tokenizer", po::value<std::string>(), "a HuggingFace tokenizer.json")(
      "text,t", po::value<std::string>(), "the text to tokenize")(
      "jsonl", "read {\"text\": ...} lines on stdin, write {\"ids\": [...]} lines")(
      "json", "print JSON instead of text")(
      "no-special", "add no BOS/EOS (by default they are added as the tokenizer says)")(
      "parse-special", "turn special-token text such as <|eot_id|> into that token");
  po::variables_map vm;
  if (!parse(args, "(--model M.gguf | --tokenizer tokenizer.json) (--text T | --jsonl) [options]",
             options, vm))
    return kExitOk;
  if (vm.count("model") == vm.count("tokenizer"))
    throw UsageError("give exactly one of --model and --tokenizer",
                     "run `bitnet tokenize --help` for the options");
  if (vm.count("text") == vm.count("jsonl"))
    throw UsageError("give exactly one of --text and --jsonl",
                     "run `bitnet tokenize --help` for the options");
  Result<tok::Tokenizer> t = load(vm);
  if (!t) {
    std::cerr << "bitnet tokenize: " << t.error().message << "\n";
    return kExitRuntimeError;
  }
  const tok::EncodeOptions opts{.add_special = vm.count("no-special") == 0,
                                .parse_special = vm.count("parse-special") > 0};
  if (vm.count("jsonl")) {
    std::string line;
    for (size_t n = 1; std::getline(std::cin, line); ++n) {
      boost::system::error_code ec;
      const json::value in = json::parse(line, ec);
      const json::value* text =
          !ec && in.is_object() ? in.as_object().if_contains("text") : nullptr;
      if (!text || !text->is_string()) {
        std::cerr << "bitnet tokenize: stdin line " << n
                  << " is not a JSON object with a string \"text\"\n";
        return kExitRuntimeError;
      }
      json::array ids;
      for (tok::TokenId id : t->encode(text->as_string(), opts))
        ids.push_back(id);
      std::cout << json::serialize(json::object{{"ids", std::move(ids)}}) << "\n";
    }
    return kExitOk;
  }
  const std::vector<tok::TokenId> ids = t->encode(vm["text"].as<std::string>(), opts);
  if (vm.count("json")) {
    json::array jids, pieces;
    for (tok::TokenId id : ids) {
      jids.push_back(id);
      pieces.push_back(json::string(t->piece(id)));
    }
    std::cout << json::serialize(
                     json::object{{"ids", std::move(jids)}, {"pieces", std::move(pieces)}})
              << "\n";
    return kExitOk;
  }
  for (tok::TokenId id : ids)
    std::cout << id << "\t" << t->piece(id) << "\n";
  return kExitOk;
}

}  // namespace bitnet::cli
