#include <iostream>

#include "command.hpp"

namespace bitnet::cli {

int run_bench(const Args& args);
int run_cache(const Args& args);
int run_chat(const Args& args);
int run_compat_check(const Args& args);
int run_convert(const Args& args);
int run_crossval(const Args& args);
int run_inspect(const Args& args);
int run_perplexity(const Args& args);
int run_plugins(const Args& args);
int run_pull(const Args& args);
int run_run(const Args& args);
int run_serve(const Args& args);
int run_tokenize(const Args& args);
int run_tokenizer(const Args& args);
int run_trace(const Args& args);
int run_verify(const Args& args);

std::span<const Command> commands() {
  static constexpr Command kCommands[] = {
      {"bench", "prefill and decode speed of a model, with the weight bytes read per token",
       &run_bench},
      {"cache", "what the sources downloaded: `bitnet cache list|verify|clean [--older-than DAYS]`",
       &run_cache},
      {"chat", "talk with a model through its chat template: /reset, /exit", &run_chat},
      {"compat-check",
       "check that this installation can run a GGUF model: PASS/WARN/FAIL per check",
       &run_compat_check},
      {"convert", "a HF checkpoint folder (config.json, safetensors, tokenizer.json) to GGUF",
       &run_convert},
      {"crossval",
       "the same tokens teacher-forced on several backends (or against a logits file), compared "
       "position by position and op by op",
       &run_crossval},
      {"inspect", "show a GGUF file's header, metadata, tensors and norm statistics", &run_inspect},
      {"perplexity", "a model's perplexity on a text file, chunked as llama.cpp does",
       &run_perplexity},
      {"plugins", "list the plugins found, their status, scores and capabilities", &run_plugins},
      {"pull", "a model file from the mirrors or the hub: `bitnet pull REPO [--file F.gguf]`",
       &run_pull},
      {"run", "generate a continuation of a prompt: `bitnet run --model M --prompt TEXT`",
       &run_run},
      {"serve", "an OpenAI-compatible HTTP server: `bitnet serve --model M [--port 8080]`",
       &run_serve},
      {"tokenize", "text to token ids and pieces with a model's or a tokenizer.json's tokenizer",
       &run_tokenize},
      {"tokenizer",
       "where a model's tokenizer comes from, and fetching it: `bitnet tokenizer "
       "where|fetch|pre-download`",
       &run_tokenizer},
      {"trace", "compare two op-output traces: `bitnet trace diff A B`", &run_trace},
      {"verify",
       "is the file, the tokenizer or an op to blame for garbage? PASS/WARN/FAIL per check",
       &run_verify},
  };
  return kCommands;
}

bool parse(const Args& args, std::string_view usage,
           boost::program_options::options_description& options,
           boost::program_options::variables_map& vm,
           const boost::program_options::positional_options_description* positional) {
  namespace po = boost::program_options;
  options.add_options()("help,h", "show this help");
  po::command_line_parser parser(args.argv);
  parser.options(options);
  if (positional) parser.positional(*positional);
  po::store(parser.run(), vm);
  if (vm.count("help")) {
    std::cout << "usage: bitnet " << args.command << " " << usage << "\n\n" << options << "\n";
    return false;
  }
  po::notify(vm);
  return true;
}

}  // namespace bitnet::cli
