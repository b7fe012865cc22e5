// One request's generation, advanced a token at a time by the scheduler: the sampler, the
// stream decoder and the stop strings of that request, and its log-probabilities.
#pragma once

#include <bitnet/runtime/generate/sampler.hpp>
#include <bitnet/runtime/generate/stop_matcher.hpp>
#include <bitnet/runtime/server/job.hpp>
#include <bitnet/runtime/tokenizer/tokenizer.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace bitnet::server {

class Sequence {
 public:
  Sequence(std::shared_ptr<Job> job, const tok::Tokenizer& tokenizer);

  Job& job() { return *job_; }
  // Prompt tokens not evaluated yet.
  std::span<const int32_t> unevaluated_prompt() const;
  void prompt_evaluated(size_t n) { evaluated_ += n; }
  bool prefilling() const { return evaluated_ < job_->prompt.size(); }
  // The token to evaluate in the next step once the prompt is in.
  std::span<const int32_t> next_token() const { return {&next_, 1}; }
  int64_t generated() const { return static_cast<int64_t>(generated_); }

  // Samples from the logits of the last evaluated token and hands the new text to the
  // listener. Returns false once the sequence has finished (the listener has been told).
  bool advance(std::span<const float> logits);

 private:
  void emit(std::string text);
  void finish(const char* reason, bool flush);
  TokenLogprob logprob_of(std::span<const float> logits, int32_t id) const;

  std::shared_ptr<Job> job_;
  const tok::Tokenizer& tokenizer_;
  generate::Sampler sampler_;
  tok::StreamDecoder decoder_;
  generate::StopMatcher stops_;
  std::vector<int32_t> history_;
  std::vector<TokenLogprob> logprobs_;  // of tokens whose text has not been handed over yet
  size_t evaluated_ = 0;
  size_t generated_ = 0;
  int32_t next_ = 0;
};

}  // namespace bitnet::server
