// Tokenizers the runtime knows by a model's architecture and vocabulary size, so that a GGUF
// without an embedded tokenizer still finds one: a cache key (the folder under the cache) and
// a HuggingFace repository that holds it without authentication.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace bitnet::tokenizer_source {

struct KnownTokenizer {
  std::string_view architecture;  // general.architecture
  int64_t n_vocab;                // rows of token_embd
  std::string_view cache_key;     // e.g. "llama3-128k"
  std::string_view repo;          // where hub and mirrors fetch it from
};

std::span<const KnownTokenizer> known_tokenizers();
const KnownTokenizer* find_known_tokenizer(std::string_view architecture, int64_t n_vocab);

}  // namespace bitnet::tokenizer_source
