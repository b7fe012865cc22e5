// The generation loop: evaluates a prompt in batches, then samples one token at a time until
// an end token, a stop string or the token limit, streaming complete UTF-8 text as it goes.
#pragma once

#include <bitnet/runtime/error.hpp>
#include <bitnet/runtime/generate/sampler.hpp>
#include <bitnet/runtime/model/session.hpp>
#include <bitnet/runtime/tokenizer/tokenizer.hpp>

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bitnet::generate {

struct GenerateOptions {
  int32_t max_tokens = 128;
  SamplingParams sampling;
  std::vector<std::string> stop;   // stop strings: generation ends before the first one
  bool stop_at_end_tokens = true;  // EOS and end-of-turn tokens end generation
};

struct Timings {
  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;
  double prompt_ms = 0;
  double generate_ms = 0;  // from the first sampled token to the last
  double prompt_tokens_per_s() const;
  double generate_tokens_per_s() const;
};

struct GenerateResult {
  std::vector<int32_t> generated;  // every sampled token, the end token included
  std::string text;                // what was streamed: up to a stop string, no end token
  std::string stop_reason;         // "end_token", "stop_string", "max_tokens"
  Timings timings;
};

// Receives text as it becomes final; never part of a UTF-8 character or of a stop string.
using TextSink = std::function<void(std::string_view)>;

// Appends `prompt` to the session (which may already hold earlier turns) and generates.
// Refuses up front when prompt + max_tokens would pass the session's context.
Result<GenerateResult> generate(model::Session& session, const tok::Tokenizer& tokenizer,
                                std::span<const int32_t> prompt, const GenerateOptions& options,
                                const TextSink& sink = {});

}  // namespace bitnet::generate
