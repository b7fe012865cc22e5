#include <bitnet/runtime/generate/generator.hpp>
#include <bitnet/runtime/generate/stop_matcher.hpp>

#include <algorithm>
#include <chrono>

namespace bitnet::generate {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

bool is_end_token(const tok::VocabData& v, int32_t id) {
  return (v.eos && *v.eos == id) || (v.eot && *v.eot == id);
}

}  // namespace

double Timings::prompt_tokens_per_s() const {
  return prompt_ms > 0 ? prompt_tokens * 1000.0 / prompt_ms : 0;
}

double Timings::generate_tokens_per_s() const {
  return generate_ms > 0 ? generated_tokens * 1000.0 / generate_ms : 0;
}

Result<GenerateResult> generate(model::Session& session, const tok::Tokenizer& tokenizer,
                                std::span<const int32_t> prompt, const GenerateOptions& options,
                                const TextSink& sink) {
  if (prompt.empty())
    return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                      "the prompt is empty: give some text (or a tokenizer that adds BOS)");
  if (options.max_tokens < 0)
    return make_error(BITNET_STATUS_INVALID_ARGUMENT, "--max-tokens must be >= 0");
  const int64_t needed =
      session.n_past() + static_cast<int64_t>(prompt.size()) + options.max_tokens;
  if (needed > session.n_ctx())
    return make_error(
        BITNET_STATUS_INVALID_ARGUMENT,
        "context length exceeded: " + std::to_string(needed) + " > " +
            std::to_string(session.n_ctx()) + " (" +
            (session.n_past() ? std::to_string(session.n_past()) + " earlier, " : std::string()) +
            std::to_string(prompt.size()) + " prompt + " + std::to_string(options.max_tokens) +
            " to generate); raise --ctx, shorten the prompt or lower --max-tokens");

  GenerateResult out;
  std::vector<int32_t> history(prompt.begin(), prompt.end());
  const auto t0 = Clock::now();
  // Read in place (eval_view): valid until the next eval, which comes after the sample.
  Result<std::span<const float>> logits = session.eval_view(prompt);
  if (!logits) return logits.error();
  out.timings.prompt_tokens = static_cast<int64_t>(prompt.size());
  out.timings.prompt_ms = ms_since(t0);

  Sampler sampler(options.sampling);
  tok::StreamDecoder decoder(tokenizer);
  StopMatcher stops(options.stop);
  auto emit = [&](const std::string& text) {
    if (text.empty()) return;
    out.text += text;
    if (sink) sink(text);
  };
  const auto t1 = Clock::now();
  out.stop_reason = "max_tokens";
  for (int32_t i = 0; i < options.max_tokens; ++i) {
    const int32_t id = sampler.sample(*logits, history);
    out.generated.push_back(id);
    history.push_back(id);
    if (options.stop_at_end_tokens && is_end_token(tokenizer.vocab(), id)) {
      out.stop_reason = "end_token";
      break;
    }
    bool stopped = false;
    emit(stops.push(decoder.push(id), stopped));
    if (stopped) {
      out.stop_reason = "stop_string";
      break;
    }
    if (i + 1 == options.max_tokens) break;
    logits = session.eval_view(std::span<const int32_t>(&id, 1));
    if (!logits) return logits.error();
  }
  out.timings.generated_tokens = static_cast<int64_t>(out.generated.size());
  out.timings.generate_ms = ms_since(t1);
  if (out.stop_reason != "stop_string") {
    bool stopped = false;
    emit(stops.push(decoder.flush(), stopped));
    if (stopped)
      out.stop_reason = "stop_string";
    else
      emit(stops.rest());
  }
  return out;
}

}  // namespace bitnet::generate
