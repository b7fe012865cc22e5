// Logits of a token sequence, for comparing runtimes: `bitnet run --dump-logits FILE` writes it
// and `bitnet crossval --reference FILE` reads it, whichever tool wrote it. The format:
//   one line of JSON, ended by '\n':
//     {"format":"bitnet-logits","version":1,"n_vocab":V,"tokens":[t0,t1,...]}
//   then one row of V little-endian float32 per token: row i holds the logits computed after
//   reading tokens[0..i] (its prediction of token i+1), teacher-forced.
// Any other header keys are kept but not read ("model", "tool", ...).
#pragma once

#include <bitnet/runtime/error.hpp>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace bitnet::diagnostics {

struct LogitsFile {
  int64_t n_vocab = 0;
  std::vector<int32_t> tokens;
  std::vector<float> logits;  // tokens.size() rows of n_vocab
  std::string model;          // the "model" header key, when present
  std::span<const float> row(size_t i) const {
    return std::span<const float>(logits).subspan(i * static_cast<size_t>(n_vocab),
                                                  static_cast<size_t>(n_vocab));
  }
};

// `file.model`, when set, goes into the header as "model", for people reading it.
Result<> write_logits_file(const std::filesystem::path& path, const LogitsFile& file);
// Checks the header, that the rows fill the rest of the file exactly, and the token ids.
Result<LogitsFile> read_logits_file(const std::filesystem::path& path);

}  // namespace bitnet::diagnostics
