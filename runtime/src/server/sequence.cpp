#include "sequence.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace bitnet::server {

Sequence::Sequence(std::shared_ptr<Job> job, const tok::Tokenizer& tokenizer)
    : job_(std::move(job)),
      tokenizer_(tokenizer),
      sampler_(job_->options.sampling),
      decoder_(tokenizer),
      stops_(job_->options.stop),
      history_(job_->prompt) {}

std::span<const int32_t> Sequence::unevaluated_prompt() const {
  return std::span<const int32_t>(job_->prompt).subspan(evaluated_);
}

bool Sequence::advance(std::span<const float> logits) {
  const int32_t id = sampler_.sample(logits, history_);
  history_.push_back(id);
  ++generated_;
  if (job_->logprobs >= 0) logprobs_.push_back(logprob_of(logits, id));
  const tok::VocabData& v = tokenizer_.vocab();
  if (job_->options.stop_at_end_tokens && ((v.eos && *v.eos == id) || (v.eot && *v.eot == id))) {
    finish("stop", true);
    return false;
  }
  bool stopped = false;
  emit(stops_.push(decoder_.push(id), stopped));
  if (stopped) {
    finish("stop", false);
    return false;
  }
  if (generated_ >= static_cast<size_t>(job_->options.max_tokens)) {
    finish("length", true);
    return false;
  }
  next_ = id;
  return true;
}

void Sequence::emit(std::string text) {
  if (text.empty()) return;
  job_->listener->on_text(text, logprobs_);
  logprobs_.clear();
}

void Sequence::finish(const char* reason, bool flush) {
  if (flush) {
    bool stopped = false;
    emit(stops_.push(decoder_.flush(), stopped));
    if (stopped)
      reason = "stop";
    else
      emit(stops_.rest());
  }
  if (!logprobs_.empty()) job_->listener->on_text("", logprobs_);
  job_->listener->on_done(
      reason, Usage{static_cast<int64_t>(job_->prompt.size()), static_cast<int64_t>(generated_)});
}

TokenLogprob Sequence::logprob_of(std::span<const float> logits, int32_t id) const {
  const float top = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float l : logits)
    sum += std::exp(static_cast<double>(l) - top);
  const double log_z = top + std::log(sum);
  auto lp = [&](int32_t i) { return static_cast<float>(logits[i] - log_z); };
  TokenLogprob out{tokenizer_.token_bytes(id), lp(id), {}};
  const size_t k = std::min(static_cast<size_t>(job_->logprobs), logits.size());
  if (k == 0) return out;
  std::vector<int32_t> ids(logits.size());
  std::iota(ids.begin(), ids.end(), 0);
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(k), ids.end(),
                    [&](int32_t a, int32_t b) {
                      return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
                    });
  for (size_t i = 0; i < k; ++i)
    out.top.emplace_back(tokenizer_.token_bytes(ids[i]), lp(ids[i]));
  return out;
}

}  // namespace bitnet::server
