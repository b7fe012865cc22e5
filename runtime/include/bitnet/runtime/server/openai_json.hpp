// OpenAI's wire format: request bodies of /v1/completions and /v1/chat/completions checked
// field by field into a GenerationRequest, and the JSON of responses, stream chunks, the
// model list and error objects {"error": {"message", "type", "param", "code"}}.
#pragma once

#include <bitnet/runtime/generate/sampler.hpp>
#include <bitnet/runtime/server/job.hpp>
#include <bitnet/runtime/tokenizer/chat_template.hpp>

#include <boost/system/result.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bitnet::server {

struct ApiError {
  unsigned status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string code;
  std::string param;  // the request field at fault; empty: none
};

// Found by boost::system::result through ADL.
[[noreturn]] void throw_exception_from_error(const ApiError& e, const boost::source_location&);

template <class T>
using ApiResult = boost::system::result<T, ApiError>;

enum class Endpoint { completions, chat };

struct GenerationRequest {
  Endpoint endpoint = Endpoint::completions;
  std::string model;
  std::string prompt;                              // completions, as text
  std::optional<std::vector<int32_t>> prompt_ids;  // completions, as token ids
  std::vector<tok::ChatMessage> messages;          // chat
  std::optional<int32_t> max_tokens;               // absent: the endpoint's default
  generate::SamplingParams sampling;               // OpenAI's defaults: temperature 1, top_p 1
  bool seeded = false;                             // `seed` was given
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  int logprobs = -1;           // -1: not asked; else how many alternatives per token
  bool ignore_eos = false;     // extension (as vLLM's): end tokens do not end the text
};

// Parses and checks a request body. Fields OpenAI defines that would change the result and
// are not supported (n > 1, echo, suffix, tools, ...) and fields OpenAI does not define are
// refused, so a client never silently gets something other than what it asked for.
ApiResult<GenerationRequest> parse_generation_request(Endpoint endpoint, std::string_view body);

// What the response builders need besides the text.
struct ReplyMeta {
  Endpoint endpoint = Endpoint::completions;
  std::string id;  // cmpl-... or chatcmpl-...
  int64_t created = 0;
  std::string model;
  bool logprobs = false;  // include logprobs objects (else null)
};

std::string error_body(const ApiError& error);
std::string full_response(const ReplyMeta& meta, std::string_view text,
                          std::string_view finish_reason, const Usage& usage,
                          std::span<const TokenLogprob> logprobs);
// One stream chunk; an empty finish_reason is sent as null. The first chat chunk carries the
// assistant role.
std::string stream_chunk(const ReplyMeta& meta, std::string_view text,
                         std::span<const TokenLogprob> logprobs, std::string_view finish_reason,
                         bool first);
// The chunk with usage and no choices that stream_options.include_usage asks for.
std::string usage_chunk(const ReplyMeta& meta, const Usage& usage);
std::string model_list(std::string_view id, int64_t created);
std::string model_object(std::string_view id, int64_t created);

}  // namespace bitnet::server
