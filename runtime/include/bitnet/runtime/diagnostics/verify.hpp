// The checks of `bitnet verify`: is a model that "produces garbage" let down by its file, its
// tokenizer or an op? One verdict each, as compat-check reports them.
#pragma once

#include <bitnet/runtime/gguf/reader.hpp>
#include <bitnet/runtime/model/compat_check.hpp>
#include <bitnet/runtime/model/model.hpp>
#include <bitnet/runtime/model/session.hpp>
#include <bitnet/runtime/tokenizer/tokenizer.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace bitnet::diagnostics {

// The tokenizer's size against the embedding's rows and, when the model file carries its own
// vocabulary and the tokenizer came from elsewhere, token by token against it.
model::Check vocabulary_check(const tok::Tokenizer& t, const gguf::Reader& model_file,
                              int64_t n_vocab);
// BOS, EOS and end-of-turn ids inside the embedding, an end token to stop at, and the same ids
// as the model file's tokenizer.ggml.*_token_id.
model::Check special_tokens_check(const tok::Tokenizer& t, const gguf::Reader& model_file,
                                  int64_t n_vocab);
// A prompt starting with BOS twice (its text began with the BOS token's and the tokenizer added
// one) is a WARN.
model::Check prompt_bos_check(const tok::Tokenizer& t, std::span<const int32_t> prompt);
// gguf::norm_stats: a layer's norm weight 4x off its siblings' median is a WARN, 32x (no
// trained model varies that much; broken conversions do) or NaN/Inf/all-zero a FAIL.
model::Check norm_weights_check(const gguf::Reader& model_file);

struct ProbeResult {
  std::vector<int32_t> generated;
  // "non-finite values" (every op output of every position), "logits" (not all equal, entropy
  // within bounds), "repetition" (not one token over and over).
  std::vector<model::Check> checks;
};

// Greedy generation of up to max_tokens (>= 1) after `prompt` from an empty session, stopping
// at an end token, with every op output looked at.
Result<ProbeResult> generation_probe(model::Model& m, model::Session& s, const tok::Tokenizer& t,
                                     std::span<const int32_t> prompt, int32_t max_tokens);

}  // namespace bitnet::diagnostics
