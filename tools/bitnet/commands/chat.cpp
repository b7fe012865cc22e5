// `bitnet chat --model M`: a conversation on stdin/stdout through the model's chat template.
// Each turn re-renders the whole conversation and evaluates only what the KV cache does not
// already hold. `/reset` forgets the conversation, `/exit` (or end of input) leaves.
#include <bitnet/runtime/tokenizer/chat_template.hpp>

#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "../command.hpp"
#include "model_setup.hpp"

namespace bitnet::cli {

int run_chat(const Args& args) {
  namespace po = boost::program_options;
  po::options_description options("options");
  add_model_options(options);
  options.add_options()("system", po::value<std::string>(), "a system message to start with")(
      "chat-template", po::value<std::string>(),
      ("the chat format: " + tok::chat_format_names() +
       "; default: the tokenizer's chat_template, else the architecture's")
          .c_str());
  add_sampling_options(options);
  po::variables_map vm;
  if (!parse(args, "[--model M.gguf] [--system TEXT] [options]", options, vm)) return kExitOk;
  const generate::GenerateOptions gen = generation_options(vm);
  Result<LoadedModel> loaded = load_model(vm);
  if (!loaded) {
    std::cerr << "bitnet chat: " << loaded.error().message << "\n";
    return kExitRuntimeError;
  }
  const tok::Tokenizer& tokenizer = *loaded->tokenizer;
  Result<tok::ChatTemplate> tmpl = tok::choose_chat_template(
      vm.count("chat-template") ? vm["chat-template"].as<std::string>() : "", tokenizer.vocab(),
      loaded->model->arch().name);
  if (!tmpl) {
    std::cerr << "bitnet chat: " << tmpl.error().message << "\n";
    return kExitRuntimeError;
  }
  std::vector<tok::ChatMessage> start;
  if (vm.count("system")) start.push_back({"system", vm["system"].as<std::string>()});
  std::vector<tok::ChatMessage> messages = start;
  std::vector<int32_t> cached;  // the tokens whose keys and values the session holds
  const bool interactive = isatty(STDIN_FILENO);
  if (interactive) std::cerr << "chat: /reset starts over, /exit leaves\n";
  std::string line;
  while (true) {
    if (interactive) std::cerr << "> " << std::flush;
    if (!std::getline(std::cin, line) || line == "/exit") break;
    if (line == "/reset") {
      messages = start;
      cached.clear();
      loaded->session->reset();
      continue;
    }
    if (line.empty()) continue;
    messages.push_back({"user", line});
    Result<std::vector<int32_t>> ids = tok::encode_chat(tokenizer, *tmpl, messages, true);
    if (!ids) {
      std::cerr << "bitnet chat: " << ids.error().message << "\n";
      return kExitRuntimeError;
    }
    const size_t common =
        std::mismatch(cached.begin(), cached.end(), ids->begin(), ids->end()).first -
        cached.begin();
    // Evaluate at least one token so there are logits to sample from.
    const size_t keep = std::min(common, ids->size() - 1);
    loaded->session->truncate(static_cast<int64_t>(keep));
    cached.assign(ids->begin(), ids->begin() + static_cast<std::ptrdiff_t>(keep));
    const std::span<const int32_t> fresh(ids->data() + keep, ids->size() - keep);
    Result<generate::GenerateResult> r =
        generate::generate(*loaded->session, tokenizer, fresh, gen,
                           [](std::string_view t) { std::cout << t << std::flush; });
    std::cout << "\n" << std::flush;
    if (!r) {
      std::cerr << "bitnet chat: " << r.error().message << "\n";
      return kExitRuntimeError;
    }
    cached.insert(cached.end(), fresh.begin(), fresh.end());
    // The last sampled token was never evaluated, so the cache ends before it.
    cached.insert(cached.end(), r->generated.begin(),
                  r->generated.end() - (r->generated.empty() ? 0 : 1));
    loaded->session->truncate(static_cast<int64_t>(cached.size()));
    messages.push_back({"assistant", r->text});
  }
  return kExitOk;
}

}  // namespace bitnet::cli
