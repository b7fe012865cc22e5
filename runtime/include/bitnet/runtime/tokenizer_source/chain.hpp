// The discovery chain: asks each step of the configured order (explicit, embedded, sibling,
// parent, dirs, cache, mirror:NAME..., hub) through its tokenizer-source plugin until one has
// the model's tokenizer, and keeps what every step said for `bitnet tokenizer where` and for
// the error when none does.
#pragma once

#include <bitnet/runtime/error.hpp>
#include <bitnet/runtime/gguf/reader.hpp>
#include <bitnet/runtime/plugins/plugin_host.hpp>
#include <bitnet/runtime/tokenizer/tokenizer.hpp>
#include <bitnet/runtime/tokenizer_source/config.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace bitnet::tokenizer_source {

// What the chain needs to know about the model, read once from its GGUF.
struct ModelFacts {
  std::filesystem::path path;
  std::string architecture;
  int64_t n_vocab = 0;          // rows of token_embd, else <arch>.vocab_size
  int64_t embedded_tokens = 0;  // entries of tokenizer.ggml.tokens
  std::string repo_id;          // general.source.huggingface.repository, when present
};
ModelFacts model_facts(const gguf::Reader& reader, const std::filesystem::path& path);

enum class Outcome { found, miss, error, skipped, not_asked };
std::string_view outcome_name(Outcome o);

struct Attempt {
  std::string step;  // explicit, embedded, ..., mirror:NAME, hub
  std::string plugin;
  Outcome outcome = Outcome::miss;
  std::string detail;  // what it found, or why not
};

struct FoundTokenizer {
  std::string step;
  int32_t format = 0;  // bitnet_tokenizer_format
  std::filesystem::path path, config_path;
  std::string origin;
};

struct Discovery {
  std::optional<FoundTokenizer> found;
  std::vector<Attempt> attempts;
  std::string cache_key;  // the known tokenizer the model maps to; empty when none
};

struct DiscoverOptions {
  std::filesystem::path explicit_path = {};  // --tokenizer
  bool allow_network = false;                // --auto-download, `bitnet tokenizer fetch`
  std::string revision = "main";
  bool ask_every_step = false;  // keep asking after a find, to show what else would answer
};

// Never fails as a whole: every step's outcome is in `attempts`. In strict mode the chain
// stops at the first step that errors.
Discovery discover(const plugins::PluginHost& host, const SourcesConfig& config,
                   const ModelFacts& model, const DiscoverOptions& options);

// One line per step: "  sibling (filesystem): miss: no tokenizer.json in /models".
std::string describe_attempts(const Discovery& d);

// The tokenizer of the step that won, loaded. Its vocabulary must fit the model's embedding
// (more tokens than rows is a mismatch): an error in strict mode, a warning otherwise. When
// the tokenizer is the model's own metadata, `model_reader` (the model already open) is read
// instead of opening the file a second time.
Result<tok::Tokenizer> load_found(const FoundTokenizer& found, const ModelFacts& model, bool strict,
                                  const gguf::Reader* model_reader = nullptr);

// discover + load_found, with an error listing every step when nothing was found.
Result<tok::Tokenizer> find_tokenizer(const plugins::PluginHost& host, const SourcesConfig& config,
                                      const ModelFacts& model, const DiscoverOptions& options,
                                      const gguf::Reader* model_reader = nullptr);

}  // namespace bitnet::tokenizer_source
