// `bitnet-tokenizer-bench --text FILE --tokenizer NAME=tokenizer.json ...`: load time and
// single-thread encode throughput per vocabulary, encoding the text line by line as a server
// would encode prompts. The first pass starts with an empty word cache; the second is warm.
#include <bitnet/runtime/tokenizer/load.hpp>
#include <bitnet/runtime/tokenizer/tokenizer.hpp>

#include <boost/program_options.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

namespace po = boost::program_options;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string text_path;
  std::vector<std::string> tokenizers;
  int loads = 5;
  po::options_description options("options");
  options.add_options()("help,h", "show this help")("text", po::value(&text_path)->required(),
                                                    "UTF-8 text, encoded one line at a time")(
      "tokenizer", po::value(&tokenizers)->required(), "NAME=path/to/tokenizer.json (repeatable)")(
      "loads", po::value(&loads)->default_value(loads), "loads timed per tokenizer (median)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, options), vm);
    if (vm.count("help")) {
      std::cout << "usage: bitnet-tokenizer-bench --text FILE --tokenizer NAME=PATH ...\n\n"
                << options << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "bitnet-tokenizer-bench: " << e.what() << "\n";
    return 2;
  }
  std::ifstream in(text_path);
  if (!in) {
    std::cerr << "bitnet-tokenizer-bench: cannot read " << text_path << "\n";
    return 1;
  }
  std::vector<std::string> lines;
  size_t bytes = 0;
  for (std::string line; std::getline(in, line);) {
    bytes += line.size() + 1;
    lines.push_back(line + "\n");
  }
  std::printf("text: %s, %.2f MB in %zu lines\n\n", text_path.c_str(), bytes / 1e6, lines.size());
  std::printf("%-10s %8s %10s %12s %12s %10s\n", "tokenizer", "vocab", "load ms", "cold MB/s",
              "warm MB/s", "tokens");
  for (const std::string& spec : tokenizers) {
    const size_t eq = spec.find('=');
    const std::string name = spec.substr(0, eq), path = spec.substr(eq + 1);
    std::vector<double> load_s;
    std::optional<bitnet::tok::Tokenizer> t;
    for (int i = 0; i < loads; ++i) {
      const auto start = Clock::now();
      auto v = bitnet::tok::vocab_from_hf_file(path);
      if (!v) {
        std::cerr << "bitnet-tokenizer-bench: " << v.error().message << "\n";
        return 1;
      }
      auto made = bitnet::tok::Tokenizer::create(std::move(*v));
      if (!made) {
        std::cerr << "bitnet-tokenizer-bench: " << made.error().message << "\n";
        return 1;
      }
      load_s.push_back(seconds_since(start));
      t.emplace(std::move(*made));
    }
    std::sort(load_s.begin(), load_s.end());
    double pass_s[2];
    size_t tokens = 0;
    for (double& s : pass_s) {
      tokens = 0;
      const auto start = Clock::now();
      for (const std::string& line : lines)
        tokens += t->encode(line, {.add_special = false}).size();
      s = seconds_since(start);
    }
    std::printf("%-10s %8zu %10.1f %12.1f %12.1f %10zu\n", name.c_str(), t->size(),
                load_s[load_s.size() / 2] * 1e3, bytes / 1e6 / pass_s[0], bytes / 1e6 / pass_s[1],
                tokens);
  }
  return 0;
}
