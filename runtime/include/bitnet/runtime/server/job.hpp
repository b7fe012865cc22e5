// One generation request as the scheduler runs it: prompt tokens, generation settings, and
// the listener that receives its text. The HTTP side makes a Job and keeps a reference; the
// scheduler thread calls the listener, so a listener must hand work to its own thread.
#pragma once

#include <bitnet/runtime/error.hpp>
#include <bitnet/runtime/generate/generator.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bitnet::server {

// The log-probability of one generated token under the model's distribution (temperature 1)
// and those of the most likely alternatives.
struct TokenLogprob {
  std::string bytes;  // the token's bytes, possibly part of a UTF-8 character
  float logprob = 0;
  std::vector<std::pair<std::string, float>> top;
};

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

class JobListener {
 public:
  virtual ~JobListener() = default;
  // Text that became final, with the log-probabilities of the tokens consumed since the last
  // call (when the job asked for them).
  virtual void on_text(std::string_view text, std::span<const TokenLogprob> logprobs) = 0;
  // finish_reason: "stop" (end token or stop string) or "length" (max_tokens).
  virtual void on_done(std::string_view finish_reason, const Usage& usage) = 0;
  virtual void on_error(const Error& error) = 0;
};

struct Job {
  std::vector<int32_t> prompt;
  generate::GenerateOptions options;
  int logprobs = -1;  // -1: none; k >= 0: the chosen token's log-probability and the top k
  std::shared_ptr<JobListener> listener;
  // Set by the HTTP side when the client went away; the scheduler then drops the job (queued
  // or running) without calling the listener again.
  std::atomic<bool> cancelled{false};
  std::chrono::steady_clock::time_point submitted = std::chrono::steady_clock::now();
};

}  // namespace bitnet::server
