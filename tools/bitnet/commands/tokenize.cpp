// `bitnet tokenize (--model M.gguf | --tokenizer tokenizer.json) (--text T | --jsonl)`: token ids
// and pieces of a text, or one {"ids": [...]} line per {"text": ...} line on stdin. With --chat,
// the text is a user turn (or the line's "messages") put through the model's chat template.
#include <bitnet/runtime/gguf/reader.hpp>
#include <bitnet/runtime/tokenizer/chat_template.hpp>
#include <bitnet/runtime/tokenizer/load.hpp>
#include <bitnet/runtime/tokenizer/tokenizer.hpp>
#include <bitnet/runtime/tokenizer_source/fetch.hpp>

#include <boost/json.hpp>

#include <iostream>

#include "../command.hpp"

namespace bitnet::cli {
namespace {

namespace json = boost::json;

struct Loaded {
  tok::Tokenizer tokenizer;
  std::string architecture;  // general.architecture of --model; empty for --tokenizer
};

Result<Loaded> load(const boost::program_options::variables_map& vm) {
  std::string arch;
  Result<tok::VocabData> v = [&]() -> Result<tok::VocabData> {
    if (vm.count("tokenizer")) {
      Result<tokenizer_source::SourcesConfig> config = tokenizer_source::load_sources_config();
      if (!config) return config.error();
      Result<std::filesystem::path> file = tokenizer_source::explicit_tokenizer_file(
          plugins::PluginHost::scan(), *config, vm["tokenizer"].as<std::string>());
      if (!file) return file.error();
      return tok::vocab_from_hf_file(*file);
    }
    Result<gguf::Reader> r = gguf::Reader::open(vm["model"].as<std::string>());
    if (!r) return r.error();
    if (const gguf::Value* a = r->find("general.architecture"); a && a->as_string())
      arch = *a->as_string();
    return tok::vocab_from_gguf(*r);
  }();
  if (!v) return v.error();
  Result<tok::Tokenizer> t = tok::Tokenizer::create(std::move(*v));
  if (!t) return t.error();
  return Loaded{std::move(*t), std::move(arch)};
}

// {"messages": [{"role": ..., "content": ...}, ...]}; an error names what is wrong.
Result<std::vector<tok::ChatMessage>> messages_of(const json::value& line) {
  const json::value* m = line.is_object() ? line.as_object().if_contains("messages") : nullptr;
  if (!m || !m->is_array())
    return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                      "with --chat each line needs \"messages\": [{\"role\": ..., "
                      "\"content\": ...}, ...]");
  std::vector<tok::ChatMessage> out;
  for (const json::value& e : m->as_array()) {
    const json::object* o = e.if_object();
    const json::value* role = o ? o->if_contains("role") : nullptr;
    const json::value* content = o ? o->if_contains("content") : nullptr;
    if (!role || !role->is_string() || !content || !content->is_string())
      return make_error(
          BITNET_STATUS_INVALID_ARGUMENT,
          "message " + std::to_string(out.size() + 1) + " needs string \"role\" and \"content\"");
    out.push_back({std::string(role->as_string()), std::string(content->as_string())});
  }
  return out;
}

}  // namespace

int run_tokenize(const Args& args) {
  namespace po = boost::program_options;
  po::options_description options("options");
  options.add_options()("model,m", po::value<std::string>(),
                        "a GGUF file with an embedded tokenizer")(
      "tokenizer", po::value<std::string>(),
      "a HuggingFace tokenizer.json, or an https:// URL of one")("text,t", po::value<std::string>(),
                                                                 "the text to tokenize")(
      "jsonl", "read {\"text\": ...} lines on stdin, write {\"ids\": [...]} lines")(
      "json", "print JSON instead of text")(
      "no-special", "add no BOS/EOS (by default they are added as the tokenizer says)")(
      "parse-special", "turn special-token text such as <|eot_id|> into that token")(
      "chat", "tokenize a chat prompt: --text is a user turn; --jsonl lines hold \"messages\"")(
      "system", po::value<std::string>(), "with --chat --text: a system turn before it")(
      "chat-template", po::value<std::string>(),
      ("the chat format (implies --chat): " + tok::chat_format_names() +
       "; default: the tokenizer's chat_template, else the architecture's")
          .c_str());
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
  const bool chat = vm.count("chat") || vm.count("chat-template");
  if (!chat && vm.count("system"))
    throw UsageError("--system belongs to a chat prompt", "add --chat");
  if (vm.count("system") && vm.count("jsonl"))
    throw UsageError(
        "--system goes with --text; with --jsonl put a system message first in "
        "each line's \"messages\"");
  if (chat && (vm.count("no-special") || vm.count("parse-special")))
    throw UsageError("--no-special and --parse-special do not apply to chat prompts",
                     "the chat template decides where special tokens go");
  Result<Loaded> loaded = load(vm);
  if (!loaded) {
    std::cerr << "bitnet tokenize: " << loaded.error().message << "\n";
    return kExitRuntimeError;
  }
  const tok::Tokenizer& t = loaded->tokenizer;
  tok::ChatTemplate tmpl;
  if (chat) {
    const std::string name = vm.count("chat-template") ? vm["chat-template"].as<std::string>() : "";
    Result<tok::ChatTemplate> chosen =
        tok::choose_chat_template(name, t.vocab(), loaded->architecture);
    if (!chosen) {
      std::cerr << "bitnet tokenize: " << chosen.error().message << "\n";
      return kExitRuntimeError;
    }
    tmpl = std::move(*chosen);
  }
  const tok::EncodeOptions opts{.add_special = vm.count("no-special") == 0,
                                .parse_special = vm.count("parse-special") > 0};
  // The prompt text (for --json) and its ids.
  auto encode = [&](const std::vector<tok::ChatMessage>& messages, std::string_view text,
                    std::string& prompt) -> Result<std::vector<tok::TokenId>> {
    if (!chat) {
      prompt = text;
      return t.encode(text, opts);
    }
    Result<tok::RenderedChat> r = tok::render_chat(tmpl, messages, true, t.vocab());
    if (!r) return r.error();
    prompt = r->text;
    return tok::encode_rendered_chat(t, *r);
  };

  std::string prompt;
  if (vm.count("jsonl")) {
    auto line_ids = [&](std::string_view line) -> Result<std::vector<tok::TokenId>> {
      boost::system::error_code ec;
      const json::value in = json::parse(line, ec);
      if (ec) return make_error(BITNET_STATUS_INVALID_ARGUMENT, "it is not JSON");
      if (chat) {
        Result<std::vector<tok::ChatMessage>> messages = messages_of(in);
        if (!messages) return messages.error();
        return encode(*messages, {}, prompt);
      }
      const json::value* text = in.is_object() ? in.as_object().if_contains("text") : nullptr;
      if (!text || !text->is_string())
        return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                          "it is not a JSON object with a string \"text\"");
      return encode({}, text->as_string(), prompt);
    };
    std::string line;
    for (size_t n = 1; std::getline(std::cin, line); ++n) {
      const Result<std::vector<tok::TokenId>> ids = line_ids(line);
      if (!ids) {
        std::cerr << "bitnet tokenize: stdin line " << n << ": " << ids.error().message << "\n";
        return kExitRuntimeError;
      }
      std::cout << json::serialize(json::object{{"ids", json::value_from(*ids)}}) << "\n";
    }
    return kExitOk;
  }
  std::vector<tok::ChatMessage> messages;
  if (vm.count("system")) messages.push_back({"system", vm["system"].as<std::string>()});
  messages.push_back({"user", vm["text"].as<std::string>()});
  Result<std::vector<tok::TokenId>> ids = encode(messages, vm["text"].as<std::string>(), prompt);
  if (!ids) {
    std::cerr << "bitnet tokenize: " << ids.error().message << "\n";
    return kExitRuntimeError;
  }
  if (vm.count("json")) {
    json::array pieces;
    for (tok::TokenId id : *ids)
      pieces.push_back(json::string(t.piece(id)));
    json::object out{{"ids", json::value_from(*ids)}, {"pieces", std::move(pieces)}};
    if (chat) {
      out["prompt"] = prompt;
      out["chat_template"] = tok::chat_format_name(tmpl.format);
    }
    std::cout << json::serialize(out) << "\n";
    return kExitOk;
  }
  for (tok::TokenId id : *ids)
    std::cout << id << "\t" << t.piece(id) << "\n";
  return kExitOk;
}

}  // namespace bitnet::cli
