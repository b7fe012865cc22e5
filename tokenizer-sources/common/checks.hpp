// What a source checks in a downloaded file before the host moves it into place: a
// tokenizer.json must parse and fit the model's embedding, a config must be a JSON object, a
// GGUF must start with its magic. A refusal is the reason, for the download's error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace bitnet_sources {

// Entries of a tokenizer.json's vocabulary: the highest id of model.vocab and added_tokens, + 1.
// A message when the file is not such a JSON document.
struct VocabCount {
  int64_t tokens = 0;
  std::string problem;
};
VocabCount count_tokenizer_json(const std::filesystem::path& file);

// Chooses the check by the file's name; n_vocab (0: unknown) bounds a tokenizer's size.
std::optional<std::string> check_file(const std::filesystem::path& file, const std::string& name,
                                      int64_t n_vocab);

}  // namespace bitnet_sources
