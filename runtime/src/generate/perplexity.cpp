#include <bitnet/runtime/generate/perplexity.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

namespace bitnet::generate {
namespace {

// -log softmax(logits)[target], in double so that long texts sum without drift.
double nll(std::span<const float> logits, int32_t target) {
  const float top = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float l : logits)
    sum += std::exp(static_cast<double>(l) - top);
  return std::log(sum) + top - logits[static_cast<size_t>(target)];
}

}  // namespace

Result<PerplexityResult> perplexity(model::Session& session, const tok::Tokenizer& tokenizer,
                                    std::string_view text, const PerplexityOptions& options) {
  // Special-token text in the file stays text, as in llama.cpp, which tokenises without
  // parsing specials.
  std::vector<int32_t> tokens = tokenizer.encode(text, {.add_special = false});
  const tok::VocabData& v = tokenizer.vocab();
  const std::optional<int32_t> bos = v.add_bos ? v.bos : std::nullopt;
  if (bos) tokens.insert(tokens.begin(), *bos);
  return perplexity(session, tokens, bos, options);
}

Result<PerplexityResult> perplexity(model::Session& session, std::span<const int32_t> tokens,
                                    std::optional<int32_t> bos, const PerplexityOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  PerplexityResult r;
  r.n_ctx = options.n_ctx ? options.n_ctx : session.n_ctx();
  r.tokens = static_cast<int64_t>(tokens.size());
  // Below 3 tokens the second half of a chunk predicts nothing.
  if (r.n_ctx < 3 || r.n_ctx > session.n_ctx())
    return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                      "a perplexity chunk of " + std::to_string(r.n_ctx) +
                          " tokens does not work: it needs 3 to " +
                          std::to_string(session.n_ctx()) + " (the session's context)");
  r.chunks = r.tokens / r.n_ctx;
  if (r.chunks == 0)
    return make_error(BITNET_STATUS_INVALID_ARGUMENT, "the text has " + std::to_string(r.tokens) +
                                                          " tokens, fewer than one chunk of " +
                                                          std::to_string(r.n_ctx) +
                                                          "; use a longer text or a smaller --ctx");
  const int64_t first = r.n_ctx / 2;
  const auto n_vocab = static_cast<size_t>(session.n_vocab());
  double sum = 0, sum_full = 0;
  for (int64_t c = 0; c < r.chunks; ++c) {
    std::vector<int32_t> chunk(tokens.begin() + c * r.n_ctx, tokens.begin() + (c + 1) * r.n_ctx);
    if (bos) chunk[0] = *bos;
    session.reset();
    Result<std::vector<float>> logits = session.eval(chunk, true);
    if (!logits) return logits.error();
    for (int64_t p = 0; p + 1 < r.n_ctx; ++p) {
      const double l = nll(std::span(*logits).subspan(static_cast<size_t>(p) * n_vocab, n_vocab),
                           chunk[static_cast<size_t>(p + 1)]);
      sum_full += l;
      if (p >= first) sum += l;
    }
    r.scored += r.n_ctx - 1 - first;
    r.scored_full += r.n_ctx - 1;
    if (options.progress) options.progress(c + 1, r.chunks, std::exp(sum / r.scored));
  }
  r.nll = sum / static_cast<double>(r.scored);
  r.nll_full = sum_full / static_cast<double>(r.scored_full);
  r.ppl = std::exp(r.nll);
  r.ppl_full = std::exp(r.nll_full);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace bitnet::generate
