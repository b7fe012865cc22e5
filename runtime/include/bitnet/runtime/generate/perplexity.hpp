// Perplexity of a model on a text, computed as llama.cpp's `perplexity` tool does so figures can
// be compared: the text is tokenised once (BOS first when the tokenizer adds one), cut into
// non-overlapping chunks of n_ctx tokens (a shorter tail is dropped), each chunk evaluated from
// an empty context with its first token replaced by BOS, and only predictions in the second half
// of each chunk counted, where every prediction sees at least n_ctx/2 tokens of context. The
// figure over every prediction of a chunk is reported beside it.
#pragma once

#include <bitnet/runtime/error.hpp>
#include <bitnet/runtime/model/session.hpp>
#include <bitnet/runtime/tokenizer/tokenizer.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>

namespace bitnet::generate {

struct PerplexityOptions {
  int64_t n_ctx = 0;  // tokens per chunk; 0: the session's context
  // After each chunk: chunks done, chunks in all, the perplexity so far.
  std::function<void(int64_t, int64_t, double)> progress;
};

struct PerplexityResult {
  double ppl = 0;       // exp(nll)
  double nll = 0;       // mean negative log-likelihood over the second halves, in nats
  double ppl_full = 0;  // exp(nll_full)
  double nll_full = 0;  // the same over every prediction of every chunk
  int64_t tokens = 0;   // tokens of the text, BOS included
  int64_t chunks = 0;
  int64_t n_ctx = 0;
  int64_t scored = 0;       // predictions in nll
  int64_t scored_full = 0;  // predictions in nll_full
  double seconds = 0;
};

// Tokenises `text` and scores it.
Result<PerplexityResult> perplexity(model::Session& session, const tok::Tokenizer& tokenizer,
                                    std::string_view text, const PerplexityOptions& options);

// Scores tokens already made; `bos`, when set, replaces the first token of every chunk.
Result<PerplexityResult> perplexity(model::Session& session, std::span<const int32_t> tokens,
                                    std::optional<int32_t> bos, const PerplexityOptions& options);

}  // namespace bitnet::generate
